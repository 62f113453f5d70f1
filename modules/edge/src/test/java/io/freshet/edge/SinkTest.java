package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetException;
import io.freshet.core.RunColumn;
import io.freshet.core.bus.NodeCodecs;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.time.FakeScheduler;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The sink's probes of the owners it follows logs of and of the routers its long-polls are held on,
 * and its follow answers: a real, local event bus, the node's scheduler on a fake clock (a probe
 * runs when the test moves time, never on a wall-clock timer).
 */
@ExtendWith(VertxExtension.class)
class SinkTest {

  private final FakeScheduler clock = new FakeScheduler();

  private Sink sink(Vertx vertx) {
    NodeCodecs.register(vertx);
    Sink sink = new Sink(vertx, clock, "test.sink", 15_000, new Sink.Counts() {
      @Override
      public void opened(SseSession session) {}

      @Override
      public void closed(SseSession session, String reason) {}
    });
    sink.start();
    return sink;
  }

  @Test
  void aPollHeldOnARouterThatHasNoHandlersIsEndedByTheNextProbe(Vertx vertx, VertxTestContext test) {
    vertx.runOnContext(v -> {
      sink(vertx).holdPoll("test.router.gone", test::completeNow);
      clock.advance(Sink.REFRESH_EVERY_MS);
    });
  }

  @Test
  void aPollHeldOnALiveRouterIsLeftAloneAndTheRouterIsProbedOnlyWhileItIsHeld(Vertx vertx, VertxTestContext test) {
    AtomicBoolean ended = new AtomicBoolean();
    AtomicInteger probes = new AtomicInteger();
    vertx.runOnContext(v -> {
      Sink sink = sink(vertx);
      Runnable release = sink.holdPoll("test.router.alive", () -> ended.set(true));
      vertx.eventBus().<PushProtocol.Refresh>consumer("test.router.alive", msg -> {
        if (msg.body().sink().equals("marker")) {
          // Delivered after anything the sink sent before it: a third probe would have come first.
          test.verify(() -> {
            assertThat(probes).hasValue(2);
            assertThat(ended).isFalse();
          });
          test.completeNow();
          return;
        }
        test.verify(() -> assertThat(msg.body().logs()).isEmpty());
        msg.reply(new PushProtocol.Refreshed(List.of(), List.of()));
        if (probes.incrementAndGet() == 2) {
          release.run();
          clock.advance(Sink.REFRESH_EVERY_MS); // released: no probe now
          vertx.eventBus().send("test.router.alive", new PushProtocol.Refresh("marker", List.of()));
        }
      }).completion().onSuccess(x -> {
        clock.advance(Sink.REFRESH_EVERY_MS);
        clock.advance(Sink.REFRESH_EVERY_MS);
      });
    });
  }

  /**
   * A session ended while its follow was in flight (the node stopping, its log found gone) has sent
   * nothing; when the owner's answer then arrives, the client gets a 409 must-refetch, never
   * stream headers on an ended response.
   */
  @Test
  void aSessionEndedWhileConnectingIsAnsweredGoneWhenTheFollowReturns(Vertx vertx, VertxTestContext test) {
    SseSessionTest.Socket socket = new SseSessionTest.Socket();
    PushProtocol.FeedLog log = new PushProtocol.FeedLog("h", new FeedProtocol.FeedRef("env_1", new FeedFilter.Run("r1"), RunColumn.ALL));
    vertx.runOnContext(v -> {
      Sink sink = sink(vertx);
      vertx.eventBus().consumer("test.router.slow", msg -> {
        if (msg.body() instanceof PushProtocol.Follow) {
          sink.closeAll(); // ends every session while this follow is unanswered
          msg.reply(new PushProtocol.Caught(LogSlice.unchanged(0), false, false));
        } else {
          test.verify(() -> assertThat(msg.body()).isInstanceOf(PushProtocol.Unfollow.class));
        }
      }).completion().onSuccess(x -> {
        SseSession session = new SseSession(log, "test.router.slow", new SseSessionTest.TestFraming(false, 60_000), socket, 0, 0, 100,
            () -> {});
        sink.follow(session, cause -> test.verify(() -> {
          assertThat(cause).isInstanceOf(FreshetException.class);
          assertThat(((FreshetException) cause).status()).isEqualTo(409);
          assertThat(socket.ended).as("the session left the answer to the refusal").isFalse();
          assertThat(socket.written).as("no headers were written").isEmpty();
          test.completeNow();
        }));
      });
    });
  }

  /**
   * A push the owner sent was lost (the sink's node was cut off from the cluster for a while): the
   * owner's answer to the next refresh names a head past the live session's position, and the
   * session catches up from its position.
   */
  @Test
  void aLiveSessionShortOfTheHeadTheOwnerNamesCatchesUp(Vertx vertx, VertxTestContext test) {
    SseSessionTest.Socket socket = new SseSessionTest.Socket();
    PushProtocol.FeedLog log = new PushProtocol.FeedLog("h", new FeedProtocol.FeedRef("env_1", new FeedFilter.Run("r1"), RunColumn.ALL));
    AtomicInteger follows = new AtomicInteger();
    AtomicLong refreshing = new AtomicLong(-1);
    vertx.runOnContext(v -> {
      Sink sink = sink(vertx);
      vertx.eventBus().consumer("test.router.lossy", msg -> {
        if (msg.body() instanceof PushProtocol.Follow follow) {
          if (follows.incrementAndGet() == 1) {
            msg.reply(new PushProtocol.Caught(LogSlice.unchanged(1), false, false));
            // A refresh names live sessions only: move time until the answer has made it live.
            refreshing.set(vertx.setPeriodic(20, t -> clock.advance(Sink.REFRESH_EVERY_MS)));
          } else {
            test.verify(() -> assertThat(follow.position()).as("caught up from where it was").isEqualTo(1));
            test.completeNow();
          }
        } else if (msg.body() instanceof PushProtocol.Refresh refresh) {
          vertx.cancelTimer(refreshing.get());
          test.verify(() -> assertThat(refresh.logs()).containsExactly(new PushProtocol.Following("h", 1)));
          msg.reply(new PushProtocol.Refreshed(List.of(), List.of(new PushProtocol.Following("h", 2))));
        }
      }).completion().onSuccess(x -> {
        SseSession session = new SseSession(log, "test.router.lossy", new SseSessionTest.TestFraming(false, 3_600_000), socket, 1, clock.nowMs(), 100,
            () -> {});
        sink.follow(session, test::failNow);
      });
    });
  }
}
