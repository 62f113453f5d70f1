package io.freshet.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.RunColumn;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.vertx.core.buffer.Buffer;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An SSE session as its sink drives it: pushes, gaps, a full socket, catch-ups, its deadline. */
class SseSessionTest {

  /** A socket that records what was written and can be made to look full. */
  static final class Socket implements SseSession.Output {
    final StringBuilder written = new StringBuilder();
    boolean full;
    boolean open = true;
    boolean ended;
    Runnable drained;

    @Override
    public void write(Buffer bytes) {
      written.append(bytes.toString());
    }

    @Override
    public boolean writeQueueFull() {
      return full;
    }

    @Override
    public void onDrain(Runnable drained) {
      this.drained = drained;
    }

    @Override
    public void onClose(Runnable closed) {}

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void end() {
      ended = true;
      open = false;
    }

    /** The steps (message payloads) written, in order. */
    List<String> messages() {
      List<String> out = new ArrayList<>();
      for (String event : written.toString().split("\n\n")) {
        if (event.startsWith("data: {\"m\":")) {
          out.add(event.substring("data: {\"m\":".length(), event.length() - 1));
        }
      }
      return out;
    }
  }

  private static final RealtimeRoutes.FeedTarget TARGET = new RealtimeRoutes.FeedTarget(
      new FeedProtocol.FeedRef("env_1", new FeedFilter.Run("r1"), RunColumn.ALL), "router");

  private final Socket socket = new Socket();
  private final List<Long> catchUps = new ArrayList<>();
  private int released;

  private SseSession session(long offset, int maxBehind) {
    return new SseSession("h", TARGET, socket, offset, 0, 60_000, maxBehind, () -> released++, (s, from) -> catchUps.add(from));
  }

  private static LogSlice slice(long from, long to, String... messages) {
    List<String> out = new ArrayList<>();
    for (String m : messages) {
      out.add("{\"m\":" + m + "}");
    }
    return LogSlice.of(from, to, out);
  }

  @Test
  void writesWhatItMissedThenEachPushThatContinuesItsOffset() {
    SseSession s = session(1, 8);
    s.push(slice(2, 3, "3"), 0); // raced the watch answer: kept
    s.started(slice(1, 2, "2"), 0);
    s.push(slice(3, 4, "4"), 0);
    s.push(slice(3, 4, "4"), 0); // a repeat: dropped
    assertThat(socket.messages()).containsExactly("2", "3", "4");
    assertThat(s.offset()).isEqualTo(4);
    assertThat(socket.written.toString()).contains("\"global_last_seen_lsn\":\"4\"");
  }

  @Test
  void aGapIsFilledWithOneCatchUpReadBeforeLaterPushes() {
    SseSession s = session(1, 8);
    s.started(LogSlice.unchanged(1), 0);
    s.push(slice(2, 3, "3"), 0); // the push for 1 → 2 went missing
    assertThat(catchUps).containsExactly(1L);
    s.push(slice(3, 4, "4"), 0);
    s.caughtUp(slice(1, 3, "2+3"), 0);
    assertThat(socket.messages()).containsExactly("2+3", "4");
    assertThat(s.offset()).isEqualTo(4);
  }

  @Test
  void aFullSocketStopsBeingWrittenToAndCatchesUpFromItsOffsetOnceDrained() {
    SseSession s = session(1, 8);
    s.started(LogSlice.unchanged(1), 0);
    socket.full = true;
    s.push(slice(1, 2, "2"), 0);
    assertThat(s.state()).isEqualTo(SseSession.State.BEHIND);
    s.push(slice(2, 3, "3"), 0);
    s.push(slice(3, 4, "4"), 0);
    assertThat(socket.messages()).as("nothing queued past the full socket").containsExactly("2");
    socket.full = false;
    socket.drained.run();
    assertThat(catchUps).containsExactly(2L);
    s.caughtUp(slice(2, 4, "4"), 0);
    assertThat(socket.messages()).as("nothing lost, nothing repeated").containsExactly("2", "4");
    assertThat(s.state()).isEqualTo(SseSession.State.LIVE);
  }

  @Test
  void aSocketThatDrainsWithoutSignallingIsCaughtUpByTheTick() {
    SseSession s = session(1, 8);
    s.started(LogSlice.unchanged(1), 0);
    socket.full = true;
    s.push(slice(1, 2, "2"), 0);
    s.push(slice(2, 3, "3"), 0);
    socket.full = false; // drained, but no drain callback
    s.tick(1000, 15_000);
    assertThat(catchUps).containsExactly(2L);
    s.caughtUp(slice(2, 3, "3"), 1000);
    assertThat(socket.messages()).containsExactly("2", "3");
  }

  @Test
  void aSessionTooFarBehindIsClosedAndItsClientResumesFromItsOffset() {
    SseSession s = session(1, 3);
    s.started(LogSlice.unchanged(1), 0);
    socket.full = true;
    s.push(slice(1, 2, "2"), 0);
    for (long seq = 2; seq < 6; seq++) {
      s.push(slice(seq, seq + 1, Long.toString(seq + 1)), 0);
    }
    assertThat(s.state()).isEqualTo(SseSession.State.DONE);
    assertThat(socket.ended).isTrue();
    assertThat(released).as("its connection slot is released").isEqualTo(1);
    assertThat(socket.written.toString()).as("the client resumes from the last offset it was sent")
        .contains("\"global_last_seen_lsn\":\"2\"").doesNotContain("\"global_last_seen_lsn\":\"3\"");
  }

  @Test
  void keepAlivesFillSilenceAndTheSessionEndsAtItsDeadline() {
    SseSession s = session(1, 8);
    s.started(LogSlice.unchanged(1), 0);
    s.tick(14_000, 15_000);
    assertThat(socket.written.toString()).doesNotContain("keep-alive");
    s.tick(15_000, 15_000);
    assertThat(socket.written.toString()).contains(": keep-alive\n\n");
    s.tick(60_000, 15_000);
    assertThat(socket.ended).isTrue();
    assertThat(released).isEqualTo(1);
  }
}
