package io.freshet.core;

import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/** trigger.dev's raw DB statuses mapped to the 13 API {@code RunStatus} values (SDK 4.8.3). */
public final class RunStatuses {

  private RunStatuses() {}

  public static final Set<String> TERMINAL = Set.of("COMPLETED", "CANCELED", "FAILED", "CRASHED", "SYSTEM_FAILURE", "EXPIRED", "TIMED_OUT");

  public static String apiStatus(String raw) {
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

  public static boolean isQueued(String api) {
    return api.equals("QUEUED") || api.equals("DELAYED") || api.equals("PENDING_VERSION");
  }

  public static boolean isExecuting(String api) {
    return api.equals("EXECUTING") || api.equals("DEQUEUED");
  }

  /**
   * True for every terminal status. trigger.dev's server leaves out EXPIRED and TIMED_OUT, but
   * {@code runs.poll()} loops until this is true, so a run that expired would be polled forever.
   */
  public static boolean isCompleted(String api) {
    return TERMINAL.contains(api);
  }

  /** The raw statuses a row may hold (trigger.dev's TaskRunStatus). */
  public static final List<String> RAW = List.of("DELAYED", "WAITING_FOR_DEPLOY", "PENDING_VERSION", "PENDING", "PAUSED",
      "WAITING_TO_RESUME", "DEQUEUED", "RETRYING_AFTER_FAILURE", "EXECUTING", "CANCELED", "COMPLETED_SUCCESSFULLY",
      "COMPLETED_WITH_ERRORS", "INTERRUPTED", "SYSTEM_FAILURE", "CRASHED", "EXPIRED", "TIMED_OUT");

  /** The API statuses the raw ones map to, in the order of {@link #RAW}. */
  public static final List<String> API = RAW.stream().map(RunStatuses::apiStatus).distinct().toList();

  /**
   * The raw statuses a filter name stands for: an API status ({@code QUEUED}, {@code EXECUTING},
   * {@code COMPLETED}, ...) means every raw status that maps to it; a raw status means itself.
   * Unknown names give an empty set.
   */
  public static Set<String> rawStatusesFor(String name) {
    Set<String> out = new LinkedHashSet<>();
    for (String raw : RAW) {
      if (raw.equals(name) || apiStatus(raw).equals(name)) {
        out.add(raw);
      }
    }
    return out;
  }
}
