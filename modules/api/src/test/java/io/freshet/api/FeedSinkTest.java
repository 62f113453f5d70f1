package io.freshet.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetException;
import io.freshet.core.RunColumn;
import io.freshet.core.feed.FeedCodec;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The sink's probe of the routers its long-polls are held on, and its watch answers (a real, local event bus). */
@ExtendWith(VertxExtension.class)
class FeedSinkTest {

  private static FeedSink sink(Vertx vertx) {
    FeedCodec.register(vertx);
    FeedSink sink = new FeedSink(vertx, "test.sink", 15_000, System::currentTimeMillis, reason -> {});
    sink.start();
    return sink;
  }

  @Test
  void aPollHeldOnARouterThatHasNoHandlersIsEndedByTheNextProbe(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> sink(vertx).holdPoll("test.router.gone", test::completeNow));
  }

  @Test
  void aPollHeldOnALiveRouterIsLeftAloneAndTheRouterIsProbedWhileItIsHeld(Vertx vertx, VertxTestContext test) {
    AtomicBoolean ended = new AtomicBoolean();
    AtomicInteger probes = new AtomicInteger();
    vertx.runOnContext(v -> {
      FeedSink sink = sink(vertx);
      Runnable[] release = new Runnable[1];
      vertx.eventBus().<FeedProtocol.Refresh>consumer("test.router.alive", msg -> {
        test.verify(() -> assertThat(msg.body().handles()).isEmpty());
        msg.reply(new FeedProtocol.Refreshed(List.of()));
        if (probes.incrementAndGet() == 2) {
          test.verify(() -> assertThat(ended).isFalse());
          release[0].run();
          // Once released, the router is no longer probed: a third probe would fail the test.
          vertx.setTimer(FeedSink.REFRESH_EVERY_MS * 2, t -> test.verify(() -> {
            assertThat(probes).hasValue(2);
            test.completeNow();
          }));
        }
      });
      release[0] = sink.holdPoll("test.router.alive", () -> ended.set(true));
    });
  }

  /**
   * A session ended while its watch was in flight (the node stopping, its log found gone) has sent
   * nothing; when the router's answer then arrives, the client gets a 409 must-refetch, never
   * stream headers on an ended response.
   */
  @Test
  void aSessionEndedWhileConnectingIsAnsweredGoneWhenTheWatchReturns(Vertx vertx, VertxTestContext test) {
    SseSessionTest.Socket socket = new SseSessionTest.Socket();
    RealtimeRoutes.FeedTarget target = new RealtimeRoutes.FeedTarget(
        new FeedProtocol.FeedRef("env_1", new FeedFilter.Run("r1"), RunColumn.ALL), "test.router.slow");
    vertx.runOnContext(v -> {
      FeedSink sink = sink(vertx);
      vertx.eventBus().<FeedProtocol.Watch>consumer("test.router.slow", msg -> {
        sink.closeAll(); // ends every session while this watch is unanswered
        msg.reply(new FeedProtocol.Answer(msg.body().handle(), LogSlice.unchanged(0)));
      });
      SseSession session = new SseSession("h", target, socket, 0, 0, 60_000, 100, () -> {}, (s, from) -> {});
      sink.watch(session, () -> test.failNow("stream headers written for an ended session"), cause -> test.verify(() -> {
        assertThat(cause).isInstanceOf(FreshetException.class);
        assertThat(((FreshetException) cause).status()).isEqualTo(409);
        assertThat(socket.ended).as("the session left the answer to the refusal").isFalse();
        assertThat(socket.written).isEmpty();
        test.completeNow();
      }));
    });
  }
}
