package io.freshet.store;

import static java.util.concurrent.TimeUnit.SECONDS;
import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Vertx;
import io.vertx.pgclient.PgConnectOptions;
import io.vertx.sqlclient.SqlConnectOptions;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The locator without a database: hosts that do not answer prove no failover. (FailoverTest covers a real one.) */
class PrimaryLocatorTest {

  private final Vertx vertx = Vertx.vertx();

  @AfterEach
  void close() throws Exception {
    vertx.close().await(10, SECONDS);
  }

  @Test
  void whenNoHostAnswersTheConnectionGoesToTheFirstHostRatherThanFailingAsIfThereWereNoPrimary() throws Exception {
    // Nothing listens on these ports: every check fails without a host saying it is in recovery.
    PrimaryLocator locator = new PrimaryLocator(vertx, List.of("postgresql://u:p@127.0.0.1:1/db", "postgresql://u:p@127.0.0.1:2/db"));

    SqlConnectOptions chosen = locator.get().await(20, SECONDS);

    assertThat(((PgConnectOptions) chosen).getPort()).isEqualTo(1);
    assertThat(locator.switches()).isZero();
  }
}
