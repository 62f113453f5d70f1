package io.freshet.server;

import io.freshet.core.FreshetConfig;
import io.vertx.core.json.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** Reads {@code conf/freshet.json} (when present) under the defaults and over the environment. */
final class ConfigFiles {

  private ConfigFiles() {}

  static FreshetConfig load(Path file) {
    JsonObject json = new JsonObject();
    if (file != null && Files.exists(file)) {
      try {
        json = new JsonObject(Files.readString(file));
      } catch (IOException e) {
        throw new UncheckedIOException("cannot read config " + file, e);
      }
    } else if (file != null) {
      throw new IllegalArgumentException("config file not found: " + file);
    }
    return FreshetConfig.resolve(json, System.getenv(), new JsonObject());
  }
}
