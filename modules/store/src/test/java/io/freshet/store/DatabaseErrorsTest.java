package io.freshet.store;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetException;
import io.vertx.core.VertxException;
import io.vertx.pgclient.PgException;
import java.net.ConnectException;
import org.junit.jupiter.api.Test;

/** What each database failure becomes for the client: a retryable 503, a 400, or nothing (a 500). */
class DatabaseErrorsTest {

  private static int status(Throwable failure) {
    return DatabaseErrors.classify(failure).map(FreshetException::status).orElse(500);
  }

  @Test
  void aPrimaryThatIsDownOrRestartingIsA503() {
    assertThat(status(new ConnectException("Connection refused"))).isEqualTo(503);
    assertThat(status(new PgException("the database system is shutting down", "FATAL", "57P03", null))).isEqualTo(503);
    assertThat(status(new PgException("cannot execute UPDATE in a read-only transaction", "ERROR", "25006", null)))
        .isEqualTo(503);
  }

  @Test
  void anExhaustedPoolIsA503TheClientRetriesNotA500() {
    assertThat(status(new VertxException("Timeout waiting for connection", true))).isEqualTo(503);
    assertThat(status(new RuntimeException("wrapped", new VertxException("Timeout waiting for connection", true))))
        .isEqualTo(503);
    assertThat(DatabaseErrors.classify(new VertxException("Timeout waiting for connection", true)).orElseThrow().getMessage())
        .contains("busy").contains("retry");
  }

  @Test
  void aValueThePrimaryRefusesIsTheClients400() {
    assertThat(status(new PgException("invalid byte sequence for encoding \"UTF8\": 0x00", "ERROR", "22021", null)))
        .isEqualTo(400);
  }

  @Test
  void anythingElseIsLeftToTheEdgeAsAnUnexpectedFailure() {
    assertThat(status(new PgException("relation \"runs\" does not exist", "ERROR", "42P01", null))).isEqualTo(500);
    assertThat(status(new IllegalStateException("a bug"))).isEqualTo(500);
  }
}
