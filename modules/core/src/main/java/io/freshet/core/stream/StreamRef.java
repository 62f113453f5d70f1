package io.freshet.core.stream;

import io.freshet.core.FreshetException;
import java.util.Objects;

/** One realtime stream: a run's stream {@code key}, in an environment. */
public record StreamRef(String envId, String runId, String key) {

  /** Longest stream key accepted (trigger.dev's keys are short names such as {@code openai}). */
  public static final int MAX_KEY_LENGTH = 256;

  public StreamRef {
    Objects.requireNonNull(envId, "envId");
    Objects.requireNonNull(runId, "runId");
    Objects.requireNonNull(key, "key");
  }

  /** Validates a key from a request path: 1 to 256 characters, no control characters. */
  public static String validKey(String key) {
    if (key == null || key.isEmpty()) {
      throw FreshetException.badRequest("a stream key is required");
    }
    if (key.length() > MAX_KEY_LENGTH) {
      throw FreshetException.badRequest("stream key is longer than " + MAX_KEY_LENGTH + " characters");
    }
    for (int i = 0; i < key.length(); i++) {
      if (Character.isISOControl(key.charAt(i))) {
        throw FreshetException.badRequest("stream key contains a control character");
      }
    }
    return key;
  }

  /** The stream's name in pushes: unique on its node, never confused with a feed handle. */
  public String id() {
    return "stream/" + envId + "/" + runId + "/" + key;
  }

  @Override
  public String toString() {
    return runId + "/" + key;
  }
}
