package io.freshet.store;

import io.freshet.core.FreshetException;
import io.vertx.pgclient.PgException;
import java.util.Locale;
import java.util.Optional;

/**
 * What a database failure means for the client. A primary that is down, restarting or refusing
 * connections is a 503 the client may retry (the SDK does), not a 500; a value PostgreSQL refuses
 * (SQLSTATE class 22, e.g. a NUL character in text) is the client's 400. The edge validates input
 * so that the latter should not happen; this is the net under that.
 */
public final class DatabaseErrors {

  private DatabaseErrors() {}

  public static Optional<FreshetException> classify(Throwable failure) {
    for (Throwable e = failure; e != null; e = e.getCause() == e ? null : e.getCause()) {
      if (e instanceof FreshetException fe) {
        return Optional.of(fe);
      }
      if (e instanceof PgException pg) {
        String state = pg.getSqlState() == null ? "" : pg.getSqlState();
        if (state.startsWith("08") || state.startsWith("57P") || state.equals("53300") || state.equals("25006")) {
          return Optional.of(unavailable(pg.getErrorMessage()));
        }
        if (state.startsWith("22")) {
          return Optional.of(FreshetException.badRequest("a value was refused by the database: " + pg.getErrorMessage()));
        }
        return Optional.empty();
      }
      if (isPoolExhausted(e)) {
        return Optional.of(new FreshetException(503, "the database is busy (" + e.getMessage() + "); retry shortly"));
      }
      if (e instanceof java.net.ConnectException || e instanceof java.nio.channels.ClosedChannelException
          || e instanceof java.util.concurrent.TimeoutException || isConnectionFailure(e)) {
        return Optional.of(unavailable(e.getMessage()));
      }
    }
    return Optional.empty();
  }

  /**
   * Every connection of the pool busy for longer than its wait timeout, or its wait queue full: the
   * node is overloaded (seen while 57,000 SSE subscribers opened their snapshots at once), which
   * the client should retry like an outage.
   */
  private static boolean isPoolExhausted(Throwable e) {
    String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
    return e.getClass().getSimpleName().contains("TooBusy")
        || message.contains("timeout waiting for connection") || message.contains("max wait queue size");
  }

  private static boolean isConnectionFailure(Throwable e) {
    String name = e.getClass().getSimpleName();
    String message = e.getMessage() == null ? "" : e.getMessage().toLowerCase(Locale.ROOT);
    return name.contains("ClosedConnection") || name.contains("ConnectTimeout")
        || message.contains("connection refused") || message.contains("connection closed") || message.contains("connection reset")
        || message.contains("connection timeout") || message.contains("timeout while waiting for a connection")
        || message.contains("pool closed");
  }

  private static FreshetException unavailable(String detail) {
    return new FreshetException(503, "the database is unavailable (" + (detail == null ? "no detail" : detail) + "); retry shortly");
  }
}
