package io.freshet.server;

import io.freshet.core.FreshetConfig;
import io.freshet.core.time.Clock;
import io.freshet.store.Environments;
import io.freshet.store.Migrations;
import io.freshet.store.Pools;
import io.vertx.core.Vertx;
import io.vertx.sqlclient.Pool;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * {@code freshet run | env create <slug> [type] | env list | demo}, each taking
 * {@code --config <file>} (default {@code conf/freshet.json} when it exists).
 */
public final class Main {

  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  private Main() {}

  public static void main(String[] argv) throws Exception {
    List<String> args = new ArrayList<>(Arrays.asList(argv));
    Path configFile = option(args, "--config");
    if (configFile == null && Files.exists(Path.of("conf/freshet.json"))) {
      configFile = Path.of("conf/freshet.json");
    }
    FreshetConfig config = ConfigFiles.load(configFile);
    String command = args.isEmpty() ? "run" : args.remove(0);
    switch (command) {
      case "run" -> run(config);
      case "env" -> env(config, args);
      case "demo" -> Demo.main(config, args);
      case "config" -> printConfig(config, args.contains("--markdown"));
      default -> {
        System.err.println("usage: freshet [run | env create <slug> [DEVELOPMENT|STAGING|PREVIEW|PRODUCTION] | env list | demo"
            + " | config [--markdown]] [--config conf/freshet.json]");
        System.exit(2);
      }
    }
  }

  private static void run(FreshetConfig config) throws Exception {
    FreshetNode node = FreshetNode.start(config).await(120, TimeUnit.SECONDS);
    CountDownLatch stopped = new CountDownLatch(1);
    Runtime.getRuntime().addShutdownHook(new Thread(() -> {
      long began = Clock.SYSTEM.nowMs();
      LOG.info("node {} stopping: web edge, routers, then leaving the cluster", node.nodeId());
      try {
        node.stop().await(30, TimeUnit.SECONDS);
        LOG.info("node {} stopped in {} ms", node.nodeId(), Clock.SYSTEM.nowMs() - began);
      } catch (Exception e) {
        LOG.warn("node {} did not stop cleanly in {} ms; exiting anyway", node.nodeId(), Clock.SYSTEM.nowMs() - began, e);
      }
      stopped.countDown();
    }, "freshet-shutdown"));
    String base = "http://127.0.0.1:" + node.httpPort();
    String key = node.development().apiKey();
    System.out.println();
    System.out.println("Freshet node " + node.nodeId() + " is up on " + base);
    System.out.println("  development environment " + node.development().id() + ", secret key " + key);
    System.out.println("  dashboard:       " + base + "/dashboard   (enter the secret key above)");
    System.out.println("  trigger a run:   curl -s -X POST -H 'Authorization: Bearer " + key + "' -H 'content-type: application/json' "
        + "-d '{\"payload\":\"{}\"}' " + base + "/api/v1/tasks/my-task/trigger");
    System.out.println("  follow it (SSE): curl -N -H 'Authorization: Bearer " + key + "' '" + base
        + "/realtime/v1/runs/<runId>?offset=-1'   then ?handle=<electric-handle>&offset=<electric-offset>&live=true&live_sse=true");
    System.out.println("  metrics:         " + base + "/metrics");
    System.out.println();
    stopped.await();
  }

  private static void env(FreshetConfig config, List<String> args) throws Exception {
    Vertx vertx = Vertx.vertx();
    Pool primary = Pools.primary(vertx, config.primaryUris(), 2, "cli");
    try {
      Migrations.apply(primary).await(60, TimeUnit.SECONDS);
      String sub = args.isEmpty() ? "list" : args.remove(0);
      if (sub.equals("create")) {
        if (args.isEmpty()) {
          throw new IllegalArgumentException("usage: freshet env create <slug> [type]");
        }
        String slug = args.remove(0);
        String type = args.isEmpty() ? "DEVELOPMENT" : args.remove(0);
        var env = Environments.create(primary, slug, type).await(30, TimeUnit.SECONDS);
        System.out.println(env.slug() + " " + env.type() + " " + env.id() + " " + env.apiKey());
      } else {
        Environments.ensureDevelopment(primary).await(30, TimeUnit.SECONDS);
        for (var env : Environments.list(primary).await(30, TimeUnit.SECONDS)) {
          System.out.println(env.slug() + " " + env.type() + " " + env.id() + " " + env.apiKey());
        }
      }
    } finally {
      vertx.close().await(10, TimeUnit.SECONDS);
    }
  }

  /**
   * Every config key with the value this node would run with; {@code --markdown} prints the
   * docs/configuration.md's table instead (defaults, not the resolved values).
   */
  private static void printConfig(FreshetConfig config, boolean markdown) {
    if (markdown) {
      System.out.println("| Key | Environment variable | Default | Meaning |");
      System.out.println("|---|---|---|---|");
    }
    for (FreshetConfig.Key<?> key : FreshetConfig.keys()) {
      if (markdown) {
        System.out.println("| `" + key.path() + "` | `" + key.envName() + "` | `" + key.defaultValue() + "` | " + key.description() + " |");
      } else {
        System.out.println(key.path() + " = " + config.get(key) + "    (" + key.envName() + ")");
      }
    }
  }

  static Path option(List<String> args, String name) {
    int i = args.indexOf(name);
    if (i < 0 || i + 1 >= args.size()) {
      return null;
    }
    Path value = Path.of(args.get(i + 1));
    args.remove(i + 1);
    args.remove(i);
    return value;
  }

  static String stringOption(List<String> args, String name, String fallback) {
    int i = args.indexOf(name);
    if (i < 0 || i + 1 >= args.size()) {
      return fallback;
    }
    String value = args.get(i + 1);
    args.remove(i + 1);
    args.remove(i);
    return value;
  }
}
