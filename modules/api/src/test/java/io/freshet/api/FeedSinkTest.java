package io.freshet.api;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.feed.FeedCodec;
import io.freshet.core.feed.FeedProtocol;
import io.vertx.core.Vertx;
import io.vertx.junit5.VertxExtension;
import io.vertx.junit5.VertxTestContext;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The sink's probe of the routers its long-polls are held on (a real, local event bus). */
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
}
