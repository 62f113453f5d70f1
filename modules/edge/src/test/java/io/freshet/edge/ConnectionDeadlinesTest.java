package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.edge.ConnectionDeadlines.Phase;
import io.freshet.core.time.FakeScheduler;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Each phase's deadline, on a fake clock: exactly when a connection is closed, and that held ones never are. */
class ConnectionDeadlinesTest {

  private static final long HEADER_MS = 1_000;
  private static final long IDLE_MS = 5_000;

  private final FakeScheduler clock = new FakeScheduler();
  private final List<String> reasons = new ArrayList<>();
  private final ConnectionDeadlines deadlines = new ConnectionDeadlines(clock, HEADER_MS, IDLE_MS, reasons::add);

  /** A connection that records when it was closed and whose unsent bytes a test sets. */
  private final class Socket implements ConnectionDeadlines.Connection {
    long closedAtMs = -1;
    long pending;

    @Override
    public void close() {
      closedAtMs = clock.nowMs();
    }

    @Override
    public long outboundPending() {
      return pending;
    }

    boolean open() {
      return closedAtMs < 0;
    }
  }

  private Socket open() {
    Socket socket = new Socket();
    deadlines.opened(socket, socket);
    return socket;
  }

  @Test
  void headersThatNeverCompleteAreClosedAtTheHeaderDeadlineHoweverManyBytesArrive() {
    long start = clock.nowMs();
    Socket slowloris = open();
    for (int i = 0; i < 9; i++) {
      clock.advance(100);
      deadlines.read(slowloris); // a byte of the request line every 100 ms
    }
    clock.advance(99);
    assertThat(slowloris.open()).isTrue();
    clock.advance(1);
    assertThat(slowloris.closedAtMs).isEqualTo(start + HEADER_MS);
    assertThat(reasons).containsExactly(ConnectionDeadlines.HEADER_TIMEOUT);
    assertThat(deadlines.tracked()).isZero();
    assertThat(clock.pending()).as("no timer left").isZero();
  }

  @Test
  void aKeepAliveConnectionIsClosedAfterTheIdleTimeoutBetweenRequests() {
    Socket socket = open();
    clock.advance(500);
    deadlines.requestStarted(socket, false);
    clock.advance(HEADER_MS * 3); // an ordinary request may take longer than the header deadline
    assertThat(socket.open()).isTrue();
    deadlines.requestEnded(socket, false);
    long ended = clock.nowMs();
    assertThat(deadlines.phase(socket)).isEqualTo(Phase.IDLE);
    clock.advance(IDLE_MS - 1);
    assertThat(socket.open()).isTrue();
    clock.advance(1);
    assertThat(socket.closedAtMs).isEqualTo(ended + IDLE_MS);
    assertThat(reasons).containsExactly(ConnectionDeadlines.IDLE_TIMEOUT);
  }

  @Test
  void theNextRequestsHeadersAreDueFromItsFirstByte() {
    Socket socket = open();
    deadlines.requestStarted(socket, false);
    deadlines.requestEnded(socket, false);
    clock.advance(2_000);
    deadlines.read(socket);
    long firstByte = clock.nowMs();
    assertThat(deadlines.phase(socket)).isEqualTo(Phase.AWAITING_HEADERS);
    clock.advance(600);
    deadlines.read(socket); // later bytes do not move the deadline
    clock.advance(HEADER_MS - 600);
    assertThat(socket.closedAtMs).isEqualTo(firstByte + HEADER_MS);
    assertThat(reasons).containsExactly(ConnectionDeadlines.HEADER_TIMEOUT);
  }

  @Test
  void anOrdinaryRequestStaysOpenWhileItsBodyArrivesAndIsClosedWhenItStops() {
    Socket socket = open();
    deadlines.requestStarted(socket, false);
    for (int i = 0; i < 10; i++) {
      clock.advance(IDLE_MS - 1);
      deadlines.read(socket);
    }
    assertThat(socket.open()).isTrue();
    long lastByte = clock.nowMs();
    clock.advance(IDLE_MS);
    assertThat(socket.closedAtMs).isEqualTo(lastByte + IDLE_MS);
  }

  @Test
  void heldFeedsStreamsAndWritersAreNeverClosedHereHoweverLongTheyLast() {
    Socket held = open();
    deadlines.requestStarted(held, true);
    clock.advance(IDLE_MS * 100);
    assertThat(held.open()).isTrue();
    assertThat(clock.pending()).as("an exempt connection keeps no timer").isZero();
    deadlines.requestEnded(held, true);
    long ended = clock.nowMs();
    clock.advance(IDLE_MS);
    assertThat(held.closedAtMs).as("idle once its response ended").isEqualTo(ended + IDLE_MS);
  }

  @Test
  void aClientTakingADownloadSlowlyIsNotIdleButOneThatStopsTakingItIs() {
    Socket socket = open();
    deadlines.requestStarted(socket, false);
    socket.pending = 10_000_000; // a large packet written at once, the client reads it over time
    deadlines.requestEnded(socket, false);
    for (int i = 0; i < 5; i++) {
      clock.advance(IDLE_MS);
      socket.pending -= 1_000_000;
    }
    clock.advance(IDLE_MS);
    assertThat(socket.open()).as("bytes keep leaving").isTrue();
    long stalled = clock.nowMs();
    clock.advance(2 * IDLE_MS);
    assertThat(socket.open()).isFalse();
    assertThat(socket.closedAtMs).isBetween(stalled, stalled + 2 * IDLE_MS);
  }

  @Test
  void aConnectionClosedByEitherSideIsForgottenWithItsTimer() {
    Socket socket = open();
    deadlines.closed(socket);
    assertThat(deadlines.tracked()).isZero();
    assertThat(clock.pending()).isZero();
    clock.advance(HEADER_MS * 2);
    assertThat(socket.open()).isTrue();
    assertThat(reasons).isEmpty();
  }
}
