package io.freshet.bench;

import io.vertx.core.Future;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/** Blocks the benchmark's main thread (never an event loop) on a future. */
final class Await {

  private Await() {}

  /** The future's value; on a timeout, every thread's stack goes to stderr first (a hang is diagnosed from it). */
  static <T> T of(Future<T> future, long seconds) throws Exception {
    try {
      return future.toCompletionStage().toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof Exception ex ? ex : e;
    } catch (TimeoutException e) {
      StringBuilder dump = new StringBuilder("bench: timed out after " + seconds + " s; threads:\n");
      for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
        dump.append(t.toString().replace("\n\t...\n", "\n"));
        StackTraceElement[] stack = t.getStackTrace();
        for (int i = 8; i < stack.length; i++) { // ThreadInfo.toString prints the first 8 frames
          dump.append("\tat ").append(stack[i]).append('\n');
        }
      }
      System.err.println(dump);
      dumpChildren();
      throw e;
    }
  }

  /** Every child JVM's threads too (the node processes): where a hang on the other side of a socket shows. */
  private static void dumpChildren() {
    String jcmd = java.nio.file.Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
    ProcessHandle.current().descendants().filter(p -> p.info().command().map(c -> c.endsWith("java")).orElse(false)).forEach(p -> {
      try {
        Process dump = new ProcessBuilder(jcmd, Long.toString(p.pid()), "Thread.print").redirectErrorStream(true).start();
        String out = new String(dump.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
        dump.waitFor(30, TimeUnit.SECONDS);
        System.err.println("bench: threads of child process " + p.pid() + " " + p.info().commandLine().orElse("") + ":\n" + out);
      } catch (Exception ex) {
        System.err.println("bench: could not dump process " + p.pid() + ": " + ex);
      }
    });
  }
}
