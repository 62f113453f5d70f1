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

  /** nginx with the nchan module as a bare broadcaster ({@code scripts/nginx.sh nchan}). */
  static void startNchan(Path repo, String name, int port, int workers) throws Exception {
    run(repo, List.of("nchan", name, Integer.toString(port), Integer.toString(workers)));
  }

  /** The instance's master and worker processes, for their CPU seconds. */
  static List<Long> pids(Path repo, String name) throws Exception {
    long master = Long.parseLong(java.nio.file.Files.readString(repo.resolve(".data/nginx/" + name + "/nginx.pid")).trim());
    List<Long> out = new java.util.ArrayList<>(List.of(master));
    ProcessHandle.of(master).ifPresent(p -> p.children().forEach(c -> out.add(c.pid())));
    return out;
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
