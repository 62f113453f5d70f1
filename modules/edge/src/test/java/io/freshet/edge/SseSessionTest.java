package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.RunColumn;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.push.PushProtocol.Caught;
import io.freshet.core.push.PushProtocol.Push;
import io.freshet.core.push.Slice;
import io.freshet.core.stream.ChunkSlice;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.http.HttpServerResponse;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** An SSE session as its sink drives it: pushes, gaps, a full socket, catch-ups, its deadline, its end. */
class SseSessionTest {

  /** A socket that records what was written and can be made to look full. */
  static final class Socket implements SseSession.Output {
    final StringBuilder written = new StringBuilder();
    boolean full;
    boolean open = true;
    boolean ended;
    boolean reset;
    Runnable drained;
    Runnable closed;

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
    public void onClose(Runnable closed) {
      this.closed = closed;
    }

    @Override
    public boolean isOpen() {
      return open;
    }

    @Override
    public void end() {
      ended = true;
      open = false;
    }

    @Override
    public void reset() {
      reset = true;
      open = false;
    }

    @Override
    public HttpServerResponse response() {
      throw new UnsupportedOperationException("the test framing writes no headers");
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

  /** A framing that marks its headers, ends after a fixed time, and interrupts as a feed or as a stream does. */
  static final class TestFraming implements SseSession.Framing {
    final boolean resets;
    final long lifeMs;

    TestFraming(boolean resets, long lifeMs) {
      this.resets = resets;
      this.lifeMs = lifeMs;
    }

    @Override
    public boolean begin(SseSession.Output out, Caught first) {
      out.write(Buffer.buffer(": headers\n\n"));
      return true;
    }

    @Override
    public long endsAtMs(long startedAtMs, long lastDataAtMs) {
      return (resets ? lastDataAtMs : startedAtMs) + lifeMs;
    }

    @Override
    public void interrupt(SseSession.Output out) {
      if (resets) {
        out.reset();
      } else {
        out.end();
      }
    }
  }

  private static final PushProtocol.FeedLog FEED =
      new PushProtocol.FeedLog("h", new FeedProtocol.FeedRef("env_1", new FeedFilter.Run("r1"), RunColumn.ALL));
  private static final StreamRef STREAM = new StreamRef("env_1", "r1", "tokens");

  private final Socket socket = new Socket();
  private final List<Long> catchUps = new ArrayList<>();
  private int released;

  /** The session's sink, reduced to what a session asks of it. */
  private final class RecordingSink implements SseSession.Follower {
    @Override
    public void catchUp(SseSession session, long position) {
      catchUps.add(position);
    }

    @Override
    public void forget(SseSession session) {}
  }

  private SseSession feedSession(long offset, int maxBehind) {
    SseSession session = new SseSession(FEED, "router", new TestFraming(false, 60_000), socket, offset, 0, maxBehind, () -> released++);
    session.followedBy(new RecordingSink());
    return session;
  }

  private SseSession streamSession(long afterSeq) {
    SseSession session = new SseSession(new PushProtocol.Stream(STREAM), "streams", new TestFraming(true, 60_000), socket, afterSeq, 0,
        8, () -> released++);
    session.followedBy(new RecordingSink());
    return session;
  }

  private static LogSlice slice(long from, long to, String... messages) {
    List<String> out = new ArrayList<>();
    for (String m : messages) {
      out.add("{\"m\":" + m + "}");
    }
    return LogSlice.of(from, to, out);
  }

  private static Push push(Slice slice) {
    return new Push("h", slice, false);
  }

  private static Caught caught(Slice slice) {
    return new Caught(slice, false, false);
  }

  private static ChunkSlice chunks(long position, long... seqs) {
    List<StreamChunk> out = new ArrayList<>();
    for (long seq : seqs) {
      out.add(new StreamChunk(seq, 1000 + seq, "{\"n\":" + seq + "}"));
    }
    return ChunkSlice.of(position, out);
  }

  @Test
  void writesWhatItMissedThenEachPushThatContinuesItsOffset() {
    SseSession s = feedSession(1, 8);
    s.push(push(slice(2, 3, "3")), 0); // raced the follow answer: kept
    s.started(caught(slice(1, 2, "2")), 0);
    s.push(push(slice(3, 4, "4")), 0);
    s.push(push(slice(3, 4, "4")), 0); // a repeat: dropped
    assertThat(socket.messages()).containsExactly("2", "3", "4");
    assertThat(s.position()).isEqualTo(4);
    assertThat(socket.written.toString()).startsWith(": headers\n\n").contains("\"global_last_seen_lsn\":\"4\"");
  }

  @Test
  void aGapIsFilledWithOneCatchUpBeforeLaterPushes() {
    SseSession s = feedSession(1, 8);
    s.started(caught(LogSlice.unchanged(1)), 0);
    s.push(push(slice(2, 3, "3")), 0); // the push for 1 → 2 went missing
    assertThat(catchUps).containsExactly(1L);
    s.push(push(slice(3, 4, "4")), 0);
    s.caughtUp(caught(slice(1, 3, "2+3")), 0);
    assertThat(socket.messages()).containsExactly("2+3", "4");
    assertThat(s.position()).isEqualTo(4);
  }

  @Test
  void aFullSocketStopsBeingWrittenToAndCatchesUpFromItsPositionOnceDrained() {
    SseSession s = feedSession(1, 8);
    s.started(caught(LogSlice.unchanged(1)), 0);
    socket.full = true;
    s.push(push(slice(1, 2, "2")), 0);
    assertThat(s.state()).isEqualTo(SseSession.State.BEHIND);
    s.push(push(slice(2, 3, "3")), 0);
    s.push(push(slice(3, 4, "4")), 0);
    assertThat(socket.messages()).as("nothing queued past the full socket").containsExactly("2");
    socket.full = false;
    socket.drained.run();
    assertThat(catchUps).containsExactly(2L);
    s.caughtUp(caught(slice(2, 4, "4")), 0);
    assertThat(socket.messages()).as("nothing lost, nothing repeated").containsExactly("2", "4");
    assertThat(s.state()).isEqualTo(SseSession.State.LIVE);
  }

  @Test
  void aSocketThatDrainsWithoutSignallingIsCaughtUpByTheTick() {
    SseSession s = feedSession(1, 8);
    s.started(caught(LogSlice.unchanged(1)), 0);
    socket.full = true;
    s.push(push(slice(1, 2, "2")), 0);
    s.push(push(slice(2, 3, "3")), 0);
    socket.full = false; // drained, but no drain callback
    s.tick(1000, 15_000);
    assertThat(catchUps).containsExactly(2L);
    s.caughtUp(caught(slice(2, 3, "3")), 1000);
    assertThat(socket.messages()).containsExactly("2", "3");
  }

  @Test
  void aFeedSessionTooFarBehindIsEndedAndItsClientResumesFromItsOffset() {
    SseSession s = feedSession(1, 3);
    s.started(caught(LogSlice.unchanged(1)), 0);
    socket.full = true;
    s.push(push(slice(1, 2, "2")), 0);
    for (long seq = 2; seq < 6; seq++) {
      s.push(push(slice(seq, seq + 1, Long.toString(seq + 1))), 0);
    }
    assertThat(s.state()).isEqualTo(SseSession.State.DONE);
    assertThat(s.closedBecause()).isEqualTo("behind");
    assertThat(socket.ended).isTrue();
    assertThat(released).as("its connection slot is released").isEqualTo(1);
    assertThat(socket.written.toString()).as("the client resumes from the last offset it was sent")
        .contains("\"global_last_seen_lsn\":\"2\"").doesNotContain("\"global_last_seen_lsn\":\"3\"");
  }

  @Test
  void keepAlivesFillSilenceAndTheSessionEndsAtItsDeadline() {
    SseSession s = feedSession(1, 8);
    s.started(caught(LogSlice.unchanged(1)), 0);
    s.tick(14_000, 15_000);
    assertThat(socket.written.toString()).doesNotContain("keep-alive");
    s.tick(15_000, 15_000);
    assertThat(socket.written.toString()).contains(": keep-alive\n\n");
    s.tick(60_000, 15_000);
    assertThat(socket.ended).isTrue();
    assertThat(s.closedBecause()).isEqualTo("deadline");
    assertThat(released).isEqualTo(1);
  }

  @Test
  void aClientThatLeavesWhileConnectingReleasesItsSlotAtOnce() {
    SseSession s = feedSession(1, 8);
    socket.open = false;
    socket.closed.run();
    assertThat(s.state()).isEqualTo(SseSession.State.DONE);
    assertThat(released).isEqualTo(1);
    s.started(caught(slice(1, 2, "2")), 0);
    assertThat(socket.written).as("nothing is written to a client that left").isEmpty();
  }

  // --- streams: the same session, chunks for slices -----------------------------------------------

  @Test
  void aStreamReaderIsWrittenEachChunkOnceAndInOrder() {
    SseSession s = streamSession(-1);
    s.push(new Push(STREAM.id(), chunks(1, 2), false), 0); // raced the answer
    s.started(caught(chunks(-1, 0, 1)), 0);
    s.push(new Push(STREAM.id(), chunks(1, 2, 3), false), 0); // overlaps: only 3 is new
    assertThat(socket.written.toString()).containsSubsequence("id: 1000-0", "id: 1001-1", "id: 1002-2", "id: 1003-3");
    assertThat(socket.written.toString().split("id: 1002-2", -1)).as("seq 2 written once").hasSize(2);
    assertThat(s.position()).isEqualTo(3);
  }

  @Test
  void aStreamEndsCleanlyWhenItIsCompleteAndIsResetWhenInterrupted() {
    SseSession done = streamSession(-1);
    done.started(caught(chunks(-1, 0)), 0);
    done.push(new Push(STREAM.id(), chunks(0, 1), true), 0);
    assertThat(socket.ended).as("a clean end: the reader takes it as the stream's end").isTrue();
    assertThat(done.closedBecause()).isEqualTo("complete");

    Socket other = new Socket();
    SseSession stopping = new SseSession(new PushProtocol.Stream(STREAM), "streams", new TestFraming(true, 60_000), other, -1, 0, 8,
        () -> released++);
    stopping.followedBy(new RecordingSink());
    stopping.started(caught(chunks(-1, 0)), 0);
    stopping.interrupt("stopping");
    assertThat(other.reset).as("never a clean end: the reader resumes from its last event").isTrue();
    assertThat(other.ended).isFalse();
  }

  @Test
  void anAnswerWithMoreBeforeTheTailAsksAgainFromWhereItEnded() {
    SseSession s = streamSession(-1);
    s.started(new Caught(chunks(-1, 0, 1), false, true), 0);
    assertThat(catchUps).containsExactly(1L);
    s.caughtUp(new Caught(chunks(1, 2), true, false), 0);
    assertThat(socket.ended).isTrue();
  }
}
