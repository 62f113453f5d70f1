package io.freshet.publisher;

import java.util.Set;

/** trigger.dev's raw DB statuses mapped to the 13 API {@code RunStatus} values (SDK 4.8.3). */
final class RunStatuses {

  private RunStatuses() {}

  static final Set<String> TERMINAL = Set.of("COMPLETED", "CANCELED", "FAILED", "CRASHED", "SYSTEM_FAILURE", "EXPIRED", "TIMED_OUT");

  static String apiStatus(String raw) {
    return switch (raw) {
      case "DELAYED" -> "DELAYED";
      case "WAITING_FOR_DEPLOY", "PENDING_VERSION" -> "PENDING_VERSION";
      case "PENDING" -> "QUEUED";
      case "PAUSED", "WAITING_TO_RESUME" -> "WAITING";
      case "DEQUEUED" -> "DEQUEUED";
      case "RETRYING_AFTER_FAILURE", "EXECUTING" -> "EXECUTING";
      case "CANCELED" -> "CANCELED";
      case "COMPLETED_SUCCESSFULLY" -> "COMPLETED";
      case "COMPLETED_WITH_ERRORS", "INTERRUPTED" -> "FAILED";
      case "SYSTEM_FAILURE", "CRASHED", "EXPIRED", "TIMED_OUT" -> raw;
      default -> "QUEUED";
    };
  }

  static boolean isQueued(String api) {
    return api.equals("QUEUED") || api.equals("DELAYED") || api.equals("PENDING_VERSION");
  }

  static boolean isExecuting(String api) {
    return api.equals("EXECUTING") || api.equals("DEQUEUED");
  }

  /**
   * True for every terminal status. trigger.dev's server leaves out EXPIRED and TIMED_OUT, but
   * {@code runs.poll()} loops until this is true, so a run that expired would be polled forever.
   */
  static boolean isCompleted(String api) {
    return TERMINAL.contains(api);
  }
}
