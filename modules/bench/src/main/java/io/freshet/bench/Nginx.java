package io.freshet.bench;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** nginx in front of a cluster, through the project's own {@code scripts/nginx.sh} (installed when missing). */
final class Nginx {

  private Nginx() {}

  static void start(Path repo, String name, int port, String upstreams, int workers) throws Exception {
    run(repo, List.of("start", name, Integer.toString(port), upstreams, Integer.toString(workers)));
  }

  static void stop(Path repo, String name) throws Exception {
    run(repo, List.of("stop", name));
  }

  private static void run(Path repo, List<String> args) throws Exception {
    List<String> command = new java.util.ArrayList<>(List.of("bash", repo.resolve("scripts/nginx.sh").toString()));
    command.addAll(args);
    Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(300, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IllegalStateException("scripts/nginx.sh " + String.join(" ", args) + " failed: " + out);
    }
  }
}
