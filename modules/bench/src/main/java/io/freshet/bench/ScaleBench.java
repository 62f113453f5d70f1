package io.freshet.bench;

import io.freshet.server.FreshetNode;
import io.vertx.core.Vertx;
import java.util.function.Consumer;

/** Scale figures for gated (see run()). */
final class ScaleBench {
  ScaleBench(Vertx vertx, FreshetNode node, BenchMain.NodeClients clients, BenchSettings settings, Consumer<String> progress) {}

  ScaleResult run() {
    return null;
  }
}
