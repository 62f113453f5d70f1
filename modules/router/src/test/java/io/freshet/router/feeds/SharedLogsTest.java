package io.freshet.router.feeds;

import static io.freshet.router.feeds.RouterHarness.runFilter;
import static io.freshet.router.feeds.RouterHarness.tagFilter;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.RunColumn;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.push.PushProtocol;
import io.freshet.core.feed.LogSlice;
import io.vertx.core.json.JsonObject;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Feeds of one filter share one log: one hydrate, one diff and one encoding per change, whatever the number of clients. */
class SharedLogsTest {

  private final RouterHarness h = new RouterHarness();

  @Test
  void clientsOfTheSameFeedShareOneHandleAndOneHydratePerWake() {
    h.apply("r1", h.clock() - 100, "v0");
    List<RouterHarness.Replies> live = new ArrayList<>();
    String handle = null;
    for (int i = 0; i < 100; i++) {
      RouterHarness.Replies snapshot = new RouterHarness.Replies();
      String opened = h.open(runFilter("r1"), snapshot);
      assertThat(handle == null || handle.equals(opened)).as("one log, one handle").isTrue();
      handle = opened;
      RouterHarness.Replies poll = new RouterHarness.Replies();
      h.poll(handle, 1, true, poll);
      live.add(poll);
    }
    assertThat(h.feeds.logs()).isEqualTo(1);
    h.db.hydrates.clear();
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(1);
    assertThat(h.db.hydrates).as("one hydrate for 100 subscribers").hasSize(1);
    LogSlice first = live.get(0).last();
    assertThat(RouterHarness.metadata(first)).containsExactly("v1");
    assertThat(live).allSatisfy(r -> assertThat(r.last()).as("the very same slice: byte-identical").isSameAs(first));
  }

  @Test
  void aLateJoinerGetsTheCurrentRowsWithoutAnyRead() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(5);
    h.db.hydrates.clear();
    h.db.resolves.clear();
    RouterHarness.Replies late = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("r1")), false), late);
    assertThat(late.handles).containsExactly(handle);
    assertThat(late.lastMetadata()).containsExactly("v1");
    assertThat(late.last().to()).isEqualTo(2);
    assertThat(h.db.hydrates).isEmpty();
    assertThat(h.db.resolves).isEmpty();
  }

  @Test
  void aRefetchNamingTheLogsHandleAsExpiredGetsAnotherLogWhileTheOldOneKeepsServingItsClients() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    RouterHarness.Replies refetch = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("r1")), false, handle), refetch);
    h.scheduler.advance(2);
    String fresh = refetch.handles.get(0);
    assertThat(fresh).as("a client told to refetch from a handle never gets it back").isNotEqualTo(handle);
    assertThat(refetch.lastMetadata()).containsExactly("v0");
    RouterHarness.Replies joiner = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("r1")), false), joiner);
    assertThat(joiner.handles).as("newcomers join the new log").containsExactly(fresh);
    RouterHarness.Replies old = new RouterHarness.Replies();
    h.poll(handle, 1, true, old);
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(5);
    assertThat(old.lastMetadata()).as("the old log still serves the clients that hold its handle").containsExactly("v1");
    assertThat(h.feeds.logs()).isEqualTo(2);
  }

  @Test
  void offsetNowJoinsAtTheEndWithoutHistory() {
    h.apply("r1", h.clock() - 100, "v0");
    h.open(runFilter("r1"), new RouterHarness.Replies());
    RouterHarness.Replies now = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("r1")), true), now);
    assertThat(now.last().messages()).isEmpty();
    assertThat(now.last().to()).isEqualTo(1);
  }

  @Test
  void feedsWithOtherColumnsOrAnotherFilterGetTheirOwnLog() {
    h.apply("r1", h.clock() - 100, "v0");
    String all = h.open(runFilter("r1"), new RouterHarness.Replies());
    RouterHarness.Replies skipping = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(new FeedProtocol.FeedRef(RouterHarness.ENV, runFilter("r1"),
        RunColumn.selecting(List.of("payload"))), false), skipping);
    h.scheduler.advance(2);
    String tags = h.open(tagFilter(0, "t"), new RouterHarness.Replies());
    assertThat(skipping.handles.get(0)).isNotEqualTo(all);
    assertThat(tags).isNotEqualTo(all);
    assertThat(h.feeds.logs()).isEqualTo(3);
  }

  @Test
  void aClientBehindTheLogsRetentionMustRefetch() {
    RouterHarness small = new RouterHarness(new JsonObject().put("router.logRetention", 2));
    small.apply("r1", small.clock() - 100, "v0");
    String handle = small.open(runFilter("r1"), new RouterHarness.Replies());
    for (int v = 1; v <= 3; v++) {
      small.apply("r1", small.clock(), "v" + v);
      small.record("r1", small.clock());
      small.scheduler.advance(5);
    }
    RouterHarness.Replies old = new RouterHarness.Replies();
    small.poll(handle, 1, false, old);
    assertThat(old.failures).containsExactly(409);
    RouterHarness.Replies recent = new RouterHarness.Replies();
    small.poll(handle, 2, false, recent);
    assertThat(recent.lastMetadata()).containsExactly("v3");
  }

  @Test
  void eachSinkGetsOnePushPerDeliveryRoundWithEverySliceOfTheLogsItWatches() {
    h.apply("r1", h.clock() - 100, "a0");
    h.apply("r2", h.clock() - 100, "b0");
    String h1 = h.open(runFilter("r1"), new RouterHarness.Replies());
    String h2 = h.open(runFilter("r2"), new RouterHarness.Replies());
    RouterHarness.Replies watched = new RouterHarness.Replies();
    h.watch(h1, 1, "sink-a", watched);
    h.watch(h2, 1, "sink-a", watched);
    h.watch(h1, 1, "sink-b", new RouterHarness.Replies());
    assertThat(watched.slices).allSatisfy(s -> assertThat(s.messages()).isEmpty());
    long now = h.clock();
    h.apply("r1", now, "a1");
    h.apply("r2", now, "b1");
    h.record("r1", now);
    h.record("r2", now);
    h.scheduler.advance(1);
    assertThat(h.pushed.get("sink-a")).as("one message for both logs").hasSize(1);
    assertThat(h.pushed.get("sink-a").get(0)).hasSize(2);
    assertThat(RouterHarness.metadata(h.pushedTo("sink-a", h1).get(0))).containsExactly("a1");
    assertThat(h.pushedTo("sink-b", h1)).singleElement().isSameAs(h.pushedTo("sink-a", h1).get(0));
    assertThat(h.pushedTo("sink-b", h2)).isEmpty();
  }

  @Test
  void aWatchFromAnOlderOffsetIsAnsweredWithWhatItMissed() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(5);
    RouterHarness.Replies watched = new RouterHarness.Replies();
    h.watch(handle, 1, "sink-a", watched);
    assertThat(watched.lastMetadata()).containsExactly("v1");
    assertThat(watched.last().from()).isEqualTo(1);
    assertThat(watched.last().to()).isEqualTo(2);
  }

  @Test
  void aSinkThatStopsRefreshingIsForgottenFollowsAgainWhenItRefreshesAndRefreshNamesTheLogsThatAreGone() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    h.watch(handle, 1, "sink-a", new RouterHarness.Replies());
    assertThat(h.feeds.followingSinks()).isEqualTo(1);
    PushProtocol.Refreshed refreshed = h.feeds.refresh(new PushProtocol.Refresh("sink-a", List.of(at(handle, 1), at("node1-0-zz-gone00", 1))));
    assertThat(refreshed.unknown()).containsExactly("node1-0-zz-gone00");
    assertThat(refreshed.ahead()).as("the sink's sessions are at the head").isEmpty();
    h.scheduler.advance(FeedRouter.SINK_TTL_MS + 6000);
    assertThat(h.feeds.followingSinks()).as("no refresh for the TTL: the sink's node left").isZero();
    assertThat(h.feeds.refresh(new PushProtocol.Refresh("sink-a", List.of(at(handle, 1)))).unknown())
        .as("the log is here: the sink follows it again, no reconnect").isEmpty();
    assertThat(h.feeds.followingSinks()).isEqualTo(1);
  }

  @Test
  void aRefreshFromASinkShortOfTheHeadNamesTheHeadSoItsSessionsCatchUp() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    h.watch(handle, 1, "sink-a", new RouterHarness.Replies());
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(5); // the log grew to 2; say its push to sink-a was lost (its node was cut off)
    PushProtocol.Refreshed refreshed = h.feeds.refresh(new PushProtocol.Refresh("sink-a",
        List.of(at(handle, 1))));
    assertThat(refreshed.ahead()).containsExactly(at(handle, 2));
    assertThat(h.feeds.refresh(new PushProtocol.Refresh("sink-a", List.of(at(handle, 2)))).ahead()).isEmpty();
    assertThat(h.feeds.refresh(new PushProtocol.Refresh("sink-a", List.of(at(handle, PushProtocol.Following.UNKNOWN)))).ahead())
        .as("no live session there: nothing to compare").isEmpty();
  }

  private static PushProtocol.Following at(String log, long position) {
    return new PushProtocol.Following(log, position);
  }

  @Test
  void aLogWatchedBySseGetsItsBackstopReadOnTheHoldPeriod() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    h.watch(handle, 1, "sink-a", new RouterHarness.Replies());
    h.apply("r1", h.clock(), "v1"); // its record was lost
    h.scheduler.advance(h.settings.livePollTimeoutMs() + 1000);
    assertThat(RouterHarness.metadata(h.pushedTo("sink-a", handle).get(0))).containsExactly("v1");
  }

  @Test
  void anUnwatchedLogNobodyPollsExpiresAndItsHandleIsGone() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    h.watch(handle, 1, "sink-a", new RouterHarness.Replies());
    h.feeds.unfollow(new PushProtocol.Unfollow(handle, "sink-a"));
    h.scheduler.advance(h.settings.shapeIdleTtlMs() + 6000);
    RouterHarness.Replies gone = new RouterHarness.Replies();
    h.poll(handle, 1, false, gone);
    assertThat(gone.failures).containsExactly(409);
  }

  @Test
  void aRouterThatWasFrozenDropsItsLogsSoNoClientIsShownWhatItKnewBeforeTheFreeze() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    RouterHarness.Replies held = new RouterHarness.Replies();
    h.poll(handle, 1, true, held);
    h.scheduler.advance(3000);
    RouterHarness.Replies alive = new RouterHarness.Replies();
    h.poll(handle, 1, false, alive);
    assertThat(alive.failures).as("ticks a second apart: the log stays").isEmpty();

    h.scheduler.freeze(FeedRouter.FROZEN_AFTER_MS + 15_000); // SIGSTOP, then SIGCONT: the next tick comes late

    assertThat(held.failures).as("its held poll is answered, not failed").isEmpty();
    RouterHarness.Replies gone = new RouterHarness.Replies();
    h.poll(handle, 1, false, gone);
    assertThat(gone.failures).as("its clients refetch").containsExactly(409);
  }

  @Test
  void whatQueuedUpWhileTheNodeWasFrozenFindsItsOldLogsAlreadyDropped() {
    h.apply("r1", h.clock() - 100, "v0");
    String handle = h.open(runFilter("r1"), new RouterHarness.Replies());
    RouterHarness.Replies held = new RouterHarness.Replies();
    h.poll(handle, 1, true, held);
    h.scheduler.advance(3000);

    h.scheduler.jump(FeedRouter.FROZEN_AFTER_MS + 15_000); // resumed; the overdue tick has not run yet
    h.apply("r1", h.clock() - 10_000, "v-during-the-freeze");
    h.record("r1", h.clock() - 10_000); // published before the others dropped this node, handled first

    assertThat(held.failures).isEmpty();
    assertThat(held.slices).as("the held poll was answered when the record came, as the log was").hasSize(1);
    assertThat(held.last().messages()).noneMatch(m -> m.contains("v-during-the-freeze"));
    RouterHarness.Replies gone = new RouterHarness.Replies();
    h.poll(handle, 1, false, gone);
    assertThat(gone.failures).as("dropped before the record touched it: its clients refetch a current snapshot").containsExactly(409);
  }

  // --- bounds --------------------------------------------------------------------------------------

  private static RouterHarness.Replies openAs(RouterHarness h, String credential, String... tags) {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(tagFilter(0, tags)), false, "", credential), replies);
    h.scheduler.advance(1);
    return replies;
  }

  @Test
  void oneTokenCannotStartMoreFeedsThanItsBoundAndTheRestOfTheEnvironmentCarriesOn() {
    RouterHarness h = new RouterHarness(new JsonObject().put("realtime.maxFeedsPerToken", 3).put("realtime.maxFeedsPerEnv", 10));
    for (int i = 0; i < 3; i++) {
      assertThat(openAs(h, "token:noisy", "flood" + i).failures).isEmpty();
    }
    assertThat(openAs(h, "token:noisy", "flood3").failures).containsExactly(429);
    assertThat(openAs(h, "token:noisy", "flood0").failures).as("joining a log that is open is free").isEmpty();
    assertThat(openAs(h, "token:quiet", "mine").failures).as("another token of the environment").isEmpty();
    assertThat(openAs(h, "key:env_1", "backend").failures).as("the secret key").isEmpty();
    assertThat(h.feeds.logs()).isEqualTo(5);
    assertThat(h.counter("freshet.feeds.refused", "bound", "token")).isEqualTo(1);
  }

  @Test
  void anEnvironmentHoldsAtMostItsBoundOfFeedsAndFreesThemAsTheyIdleOut() {
    RouterHarness h = new RouterHarness(new JsonObject().put("realtime.maxFeedsPerEnv", 4));
    for (int i = 0; i < 4; i++) {
      assertThat(openAs(h, "key:env_1", "t" + i).failures).isEmpty();
    }
    assertThat(openAs(h, "key:env_1", "t4").failures).containsExactly(429);
    assertThat(h.feeds.logs()).isEqualTo(4);
    assertThat(h.counter("freshet.feeds.refused", "bound", "env")).isEqualTo(1);
    h.scheduler.advance(h.settings.shapeIdleTtlMs() + 10_000);
    assertThat(h.feeds.logs()).isZero();
    assertThat(openAs(h, "key:env_1", "t4").failures).isEmpty();
  }
}
