package io.freshet.router.feeds;

import static io.freshet.router.feeds.RouterHarness.runFilter;
import static io.freshet.router.feeds.RouterHarness.tagFilter;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.RunColumn;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.producer.ChangeRecord;
import io.freshet.router.engine.EnvSubscriptions;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeedRouterTest {

  private final RouterHarness h = new RouterHarness();

  private String openRun(String runId, RouterHarness.Replies replies) {
    return h.open(runFilter(runId), replies);
  }

  // --- routing -----------------------------------------------------------------------------------

  @Test
  void snapshotDeliversTheRunAsAnInsert() {
    h.apply("r1", h.clock() - 5000, "{\"v\":0}");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    openRun("r1", replies);
    h.scheduler.advance(5);
    LogSlice snapshot = replies.last();
    assertThat(snapshot.to()).isEqualTo(1);
    assertThat(replies.lastMetadata()).containsExactly("{\"v\":0}");
    assertThat(snapshot.messages().get(0)).contains("\"operation\":\"insert\"");
  }

  @Test
  void aHeldPollReceivesTheChangeThatWakesItWithCurrentContent() {
    long t0 = h.clock();
    h.apply("r1", t0 - 5000, "{\"v\":0}");
    RouterHarness.Replies live = h.follow("r1", 5);
    assertThat(live.slices).isEmpty();
    h.apply("r1", h.clock(), "{\"v\":1}");
    h.record("r1", h.clock());
    h.scheduler.advance(1);
    assertThat(live.lastMetadata()).containsExactly("{\"v\":1}");
    assertThat(live.last().to()).isEqualTo(2);
    assertThat(live.last().messages().get(0)).contains("\"operation\":\"update\"");
  }

  @Test
  void routesATagMatchToItsFeedAndIgnoresNonMatches() {
    h.apply("r1", h.clock() - 10, "a", "user:1");
    h.apply("r2", h.clock() - 10, "b", "user:2");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(tagFilter(0, "user:1"), replies);
    h.scheduler.advance(5);
    assertThat(replies.lastMetadata()).containsExactly("a");
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.db.hydrates.clear();
    h.apply("r2", h.clock(), "b2", "user:2");
    h.record("r2", h.clock(), "user:2");
    h.scheduler.advance(5);
    assertThat(h.db.hydrates).as("nobody follows user:2").isEmpty();
    h.apply("r1", h.clock(), "a2", "user:1");
    h.record("r1", h.clock(), "user:1");
    h.scheduler.advance(5);
    assertThat(h.db.hydrates).containsExactly(List.of("r1"));
    assertThat(live.lastMetadata()).containsExactly("a2");
  }

  @Test
  void multiTagFeedsRequireEveryTagOnTheRow() {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(tagFilter(0, "a", "b"), replies);
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.apply("r1", h.clock(), "only-a", "a");
    h.record("r1", h.clock(), "a");
    h.scheduler.advance(5);
    assertThat(live.slices).isEmpty();
    h.apply("r2", h.clock(), "both", "a", "b", "c");
    h.record("r2", h.clock(), "a", "b", "c");
    h.scheduler.advance(5);
    assertThat(live.lastMetadata()).containsExactly("both");
  }

  @Test
  void dropsATagMatchCreatedBeforeTheFeedsFloor() {
    long floor = h.clock() - 1000;
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(tagFilter(floor, "a"), replies);
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.db.rows.put("old", RouterHarness.row("old", h.clock(), List.of("a"), null, "old", floor - 1));
    h.record("old", h.clock(), "a");
    h.scheduler.advance(5);
    assertThat(live.slices).isEmpty();
    h.db.rows.put("new", RouterHarness.row("new", h.clock(), List.of("a"), null, "new", floor + 1));
    h.record("new", h.clock(), "a");
    h.scheduler.advance(5);
    assertThat(live.lastMetadata()).containsExactly("new");
  }

  /** A run whose status leaves a status-filtered feed leaves the client's view as Electric sends it: a delete. */
  @Test
  void aStatusFilteredTagFeedSendsARunThatLeavesItsStatusesAsADelete() {
    long t0 = h.clock();
    h.db.rows.put("r1", RouterHarness.row("r1", t0 - 10, List.of("t"), null, "running", 0, "EXECUTING"));
    h.db.rows.put("r2", RouterHarness.row("r2", t0 - 10, List.of("t"), null, "queued", 0, "PENDING"));
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(new FeedFilter.Tags(List.of("t"), 0, List.of("EXECUTING")), replies);
    h.scheduler.advance(5);
    assertThat(replies.lastMetadata()).containsExactly("running");

    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.db.rows.put("r1", RouterHarness.row("r1", h.clock(), List.of("t"), null, "done", 0, "COMPLETED_SUCCESSFULLY"));
    h.record("r1", h.clock(), "t");
    h.scheduler.advance(5);
    assertThat(live.last().messages()).hasSize(1);
    assertThat(live.last().messages().get(0)).contains("\"operation\":\"delete\"").contains("internal_r1");

    // A run that enters the statuses arrives as an insert.
    RouterHarness.Replies next = new RouterHarness.Replies();
    h.poll(handle, live.last().to(), true, next);
    h.db.rows.put("r2", RouterHarness.row("r2", h.clock(), List.of("t"), null, "started", 0, "EXECUTING"));
    h.record("r2", h.clock(), "t");
    h.scheduler.advance(5);
    assertThat(next.lastMetadata()).containsExactly("started");
    assertThat(next.last().messages().get(0)).contains("\"operation\":\"insert\"");
  }

  @Test
  void anUntaggedFeedFollowsEveryRun() {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(tagFilter(0), replies);
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.apply("r9", h.clock(), "any");
    h.record("r9", h.clock());
    h.scheduler.advance(5);
    assertThat(live.lastMetadata()).containsExactly("any");
  }

  @Test
  void classifiesAPartialRecordByHydratingTheRow() {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(tagFilter(0, "t"), replies);
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.apply("r1", h.clock(), "tagged", "t");
    h.feeds.onRecord(new ChangeRecord(RouterHarness.ENV, "r1", h.clock(), null, null));
    h.scheduler.advance(5);
    assertThat(live.lastMetadata()).containsExactly("tagged");
  }

  @Test
  void routesABatchFeedByBatchId() {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(new io.freshet.core.feed.FeedFilter.Batch("batch_1"), replies);
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.db.rows.put("r1", RouterHarness.row("r1", h.clock(), List.of(), "batch_2", "other", 0));
    h.feeds.onRecord(new ChangeRecord(RouterHarness.ENV, "r1", h.clock(), List.of(), "batch_2"));
    h.scheduler.advance(5);
    assertThat(live.slices).isEmpty();
    h.db.rows.put("r2", RouterHarness.row("r2", h.clock(), List.of(), "batch_1", "mine", 0));
    h.feeds.onRecord(new ChangeRecord(RouterHarness.ENV, "r2", h.clock(), List.of(), "batch_1"));
    h.scheduler.advance(5);
    assertThat(live.lastMetadata()).containsExactly("mine");
  }

  @Test
  void hydratesOnceForSeveralFeedsOfTheSameRunAndSharesTheSerializedRow() {
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies a = new RouterHarness.Replies();
    RouterHarness.Replies b = new RouterHarness.Replies();
    String ha = openRun("r1", a);
    String hb = openRun("r1", b);
    h.scheduler.advance(5);
    RouterHarness.Replies liveA = new RouterHarness.Replies();
    RouterHarness.Replies liveB = new RouterHarness.Replies();
    h.poll(ha, 1, true, liveA);
    h.poll(hb, 1, true, liveB);
    h.db.hydrates.clear();
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(5);
    assertThat(h.db.hydrates).hasSize(1);
    assertThat(liveA.lastMetadata()).containsExactly("v1");
    assertThat(liveB.last().messages()).isEqualTo(liveA.last().messages());
  }

  // --- polls -------------------------------------------------------------------------------------

  @Test
  void changesLandingBetweenTwoPollsWaitForTheNextPoll() {
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = openRun("r1", replies);
    h.scheduler.advance(5);
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(5);
    RouterHarness.Replies next = new RouterHarness.Replies();
    h.poll(handle, 1, true, next);
    assertThat(next.lastMetadata()).containsExactly("v1");
  }

  @Test
  void aLogWithSubscribersGetsABackstopReadThatCatchesADroppedRecord() {
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies live = h.follow("r1", 5);
    h.apply("r1", h.clock(), "v1"); // its record was lost
    h.db.resolves.clear();
    h.db.hydrates.clear();
    h.scheduler.advance(h.settings.livePollTimeoutMs() - 1000);
    assertThat(live.slices).isEmpty();
    h.scheduler.advance(1100);
    assertThat(h.db.hydrates).as("one backstop read for the log").hasSize(1);
    assertThat(live.lastMetadata()).containsExactly("v1");
  }

  @Test
  void aMembershipChangeReReadsEveryLogWithSubscribersAtOnceAndAfterTheLag() {
    h.apply("r1", h.clock() - 100, "v0");
    h.apply("r2", h.clock() - 100, "w0");
    RouterHarness.Replies live = h.follow("r1", 5);
    String watched = h.open(runFilter("r2"), new RouterHarness.Replies());
    h.watch(watched, 1, "sink-a", new RouterHarness.Replies());
    h.open(runFilter("r3"), new RouterHarness.Replies()); // nobody follows it
    h.apply("r1", h.clock(), "v1"); // records lost across the membership change
    h.apply("r2", h.clock(), "w1");
    h.db.hydrates.clear();
    h.db.resolves.clear();
    h.lag.lagMs = 100;
    h.feeds.resync();
    h.scheduler.advance(2);
    assertThat(live.lastMetadata()).as("the held poll, long before the backstop").containsExactly("v1");
    assertThat(RouterHarness.metadata(h.pushedTo("sink-a", watched).get(0))).containsExactly("w1");
    assertThat(h.db.hydrates).as("one batched read of the two logs with subscribers, not the third").hasSize(1);
    assertThat(h.db.hydrates.get(0)).containsExactlyInAnyOrder("r1", "r2");
    h.scheduler.advance(100 + h.settings.marginMs());
    assertThat(h.db.hydrates).as("and once more after the lag, for changes the replica had not applied").hasSize(2);
    assertThat(h.db.hydrates.get(1)).containsExactlyInAnyOrder("r1", "r2");
  }

  @Test
  void aChangeWhoseRecordIsLostWhileTheClusterSettlesIsFoundByTheResyncWindowsRepeatedReads() {
    h.apply("r1", h.clock() - 100, "v0");
    String watched = h.open(runFilter("r1"), new RouterHarness.Replies());
    h.watch(watched, 1, "sink-a", new RouterHarness.Replies());
    h.feeds.resync();
    h.scheduler.advance(5_000);
    h.apply("r1", h.clock(), "v1"); // its record never came: the merged member's consumers were not known yet
    h.scheduler.advance(h.settings.resyncEveryMs() + 10);
    assertThat(RouterHarness.metadata(h.pushedTo("sink-a", watched).get(0))).as("within a resync period, not a backstop period")
        .containsExactly("v1");

    h.scheduler.advance(h.settings.resyncWindowMs());
    int reads = h.db.hydrates.size();
    h.scheduler.advance(5_000);
    assertThat(h.db.hydrates).as("the window is over: back to the backstop's period").hasSize(reads);
  }

  @Test
  void aSnapshotWaitsASecondAtMostForASubscriptionStuckInTheClusterAndItsLogIsReadUntilTheSubscriptionLands() {
    h.subscriptions.hold(); // the cluster's map of subscriptions waits on a frozen member's partition
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies snapshot = new RouterHarness.Replies();
    String handle = h.open(runFilter("r1"), snapshot);
    assertThat(handle).as("no snapshot while the subscription is pending").isNull();
    h.scheduler.advance(EnvSubscriptions.WAIT_MS);
    assertThat(snapshot.lastMetadata()).as("taken anyway after the wait").containsExactly("v0");
    String opened = snapshot.handles.get(0);
    h.filters.put(opened, runFilter("r1"));
    RouterHarness.Replies watching = new RouterHarness.Replies();
    h.watch(opened, snapshot.last().to(), "sink-a", watching);
    assertThat(watching.failures).isEmpty();
    h.apply("r1", h.clock(), "v1"); // published on another node, which does not know this router's consumer yet
    h.scheduler.advance(h.settings.resyncEveryMs() + 10);
    assertThat(RouterHarness.metadata(h.pushedTo("sink-a", opened).get(0))).as("read again within a resync period")
        .containsExactly("v1");
    h.subscriptions.release(RouterHarness.ENV);
    h.apply("r1", h.clock(), "v2"); // lost across the moment the registration landed
    h.scheduler.advance(h.settings.marginMs() + 2);
    assertThat(RouterHarness.metadata(h.pushedTo("sink-a", opened).get(1))).containsExactly("v2");
  }

  @Test
  void aNodeFoundFrozenReadsTheLogsOpenedAfterItRepeatedlyAsAfterAMembershipChange() {
    h.apply("r1", h.clock() - 100, "v0");
    h.scheduler.freeze(FeedRouter.FROZEN_AFTER_MS + 15_000); // the others dropped this member; no event says so here
    String watched = h.open(runFilter("r1"), new RouterHarness.Replies()); // a client that refetched
    h.watch(watched, 1, "sink-a", new RouterHarness.Replies());
    h.apply("r1", h.clock(), "v1"); // published on another node, which no longer sends here
    h.scheduler.advance(h.settings.resyncEveryMs() + 10);
    assertThat(RouterHarness.metadata(h.pushedTo("sink-a", watched).get(0))).containsExactly("v1");
  }

  @Test
  void anEmptyHoldAnswersUpToDateWithTheSameOffset() {
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = openRun("r1", replies);
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    h.scheduler.advance(20_010);
    assertThat(live.last().to()).isEqualTo(1);
    assertThat(live.last().messages()).isEmpty();
  }

  @Test
  void aClientThatMissedAnAnswerResumesFromItsOffsetWithoutLosingTheChange() {
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = openRun("r1", replies);
    h.scheduler.advance(5);
    RouterHarness.Replies lost = new RouterHarness.Replies();
    h.poll(handle, 1, true, lost);
    h.apply("r1", h.clock(), "v1");
    h.record("r1", h.clock());
    h.scheduler.advance(5);
    assertThat(lost.last().to()).isEqualTo(2); // written, but the client never read it
    RouterHarness.Replies resumed = new RouterHarness.Replies();
    h.poll(handle, 1, true, resumed);
    assertThat(resumed.lastMetadata()).containsExactly("v1");
    assertThat(resumed.last()).as("the very slice the lost answer carried").isSameAs(lost.last());
    RouterHarness.Replies again = new RouterHarness.Replies();
    h.poll(handle, 2, false, again);
    assertThat(again.last().messages()).as("nothing is repeated").isEmpty();
  }

  @Test
  void anUnknownHandleIsGoneAndAnOffsetAheadIsABadRequest() {
    RouterHarness.Replies unknown = new RouterHarness.Replies();
    h.poll("node1-0-zz-abcdef", 1, true, unknown);
    assertThat(unknown.failures).containsExactly(409);
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = openRun("r1", replies);
    RouterHarness.Replies ahead = new RouterHarness.Replies();
    h.poll(handle, 7, true, ahead);
    assertThat(ahead.failures).containsExactly(400);
  }

  @Test
  void aHandleIsRefusedForAnotherEnvironmentOrAnotherFeed() {
    h.apply("r1", h.clock() - 100, "secret");
    h.apply("r2", h.clock() - 100, "other");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = openRun("r1", replies);
    RouterHarness.Replies otherEnv = new RouterHarness.Replies();
    h.feeds.poll(new FeedProtocol.Poll(handle, new FeedProtocol.FeedRef("env_2", runFilter("r1"), RunColumn.ALL), 1, false, 0, ""), otherEnv);
    assertThat(otherEnv.failures).containsExactly(409);
    RouterHarness.Replies otherFeed = new RouterHarness.Replies();
    h.feeds.poll(new FeedProtocol.Poll(handle, RouterHarness.ref(runFilter("r2")), 1, false, 0, ""), otherFeed);
    assertThat(otherFeed.failures).containsExactly(409);
    RouterHarness.Replies otherColumns = new RouterHarness.Replies();
    h.feeds.poll(new FeedProtocol.Poll(handle, new FeedProtocol.FeedRef(RouterHarness.ENV, runFilter("r1"),
        RunColumn.selecting(List.of("payload"))), 1, false, 0, ""), otherColumns);
    assertThat(otherColumns.failures).as("a log serves one column set").containsExactly(409);
    RouterHarness.Replies same = new RouterHarness.Replies();
    h.poll(handle, 1, false, same);
    assertThat(same.failures).isEmpty();
  }

  @Test
  void aTagFeedIsTheSameFeedWhateverWindowTheClientSendsAgain() {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(tagFilter(1000, "a", "b"), replies);
    RouterHarness.Replies later = new RouterHarness.Replies();
    h.feeds.poll(new FeedProtocol.Poll(handle, RouterHarness.ref(tagFilter(5000, "b", "a")), 1, false, 0, ""), later);
    assertThat(later.failures).isEmpty();
  }

  @Test
  void aRunUnknownEverywhereIsNotFound() {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("nope")), false), replies);
    h.scheduler.advance(5);
    assertThat(replies.failures).containsExactly(404);
    assertThat(h.feeds.logs()).isZero();
  }

  @Test
  void aSnapshotOfARunNotYetOnTheReplicaWaitsForItAndCarriesIt() {
    long commit = h.clock();
    h.commit("r1", commit, "created"); // on the primary, not yet on the replica
    h.lag.lagMs = 100;
    RouterHarness.Replies replies = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("r1")), false), replies);
    h.scheduler.advance(90);
    assertThat(replies.slices).as("no empty snapshot").isEmpty();
    h.apply("r1", commit, "created");
    h.scheduler.advance(20);
    assertThat(replies.lastMetadata()).containsExactly("created");
    assertThat(replies.last().messages().get(0)).contains("\"operation\":\"insert\"");
    assertThat(h.db.primaryReads).as("read fresh from the replica, within the gate").isEmpty();
  }

  @Test
  void aSnapshotOfARunTheReplicaNeverShowsIsReadFromThePrimaryAtTheDeadline() {
    long commit = h.clock();
    h.commit("r1", commit, "created");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("r1")), false), replies);
    h.scheduler.advance(h.settings.freshWithinMs() - 10);
    assertThat(replies.slices).isEmpty();
    h.scheduler.advance(20);
    assertThat(replies.lastMetadata()).containsExactly("created");
    assertThat(h.db.primaryReads).containsExactly(List.of("r1"));
  }

  @Test
  void replaysARecentChangeIntoASnapshotReadFromAStaleReplica() {
    h.lag.lagMs = 100;
    h.apply("x", h.clock() - 10_000, "x");
    RouterHarness.Replies other = new RouterHarness.Replies();
    h.open(runFilter("x"), other); // keeps the environment subscribed
    h.scheduler.advance(3000);
    h.apply("r1", h.clock() - 10_000, "old");
    long commit = h.clock();
    h.commit("r1", commit, "new");
    h.record("r1", commit); // nobody follows r1 yet: only buffered
    h.scheduler.advance(20);
    RouterHarness.Replies replies = new RouterHarness.Replies();
    h.feeds.open(new FeedProtocol.Open(RouterHarness.ref(runFilter("r1")), false), replies); // the replica has "old"
    h.scheduler.advance(5);
    assertThat(replies.slices).as("the snapshot waits for the change on its way").isEmpty();
    h.apply("r1", commit, "new");
    h.scheduler.advance(200);
    assertThat(replies.lastMetadata()).containsExactly("new");
  }

  @Test
  void theEnvironmentIsUnsubscribedAfterItsLastFeedExpiresAndTheLinger() {
    h.apply("r1", h.clock() - 100, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    openRun("r1", replies);
    assertThat(h.subscribed).containsExactly(RouterHarness.ENV);
    h.scheduler.advance(h.settings.shapeIdleTtlMs() + 1);
    h.feeds.sweep();
    assertThat(h.feeds.logs()).isZero();
    h.scheduler.advance(h.settings.lingerMs() + 1);
    assertThat(h.subscribed).isEmpty();
  }

  // --- the read-your-writes gate -----------------------------------------------------------------

  @Test
  void delaysTheWakeHydrateByLagPlusMarginAnchoredToTheWatermark() {
    RouterHarness g = new RouterHarness(new JsonObject().put("gate.marginMs", 10));
    g.lag.lagMs = 80;
    g.apply("r1", g.clock() - 5000, "v0");
    RouterHarness.Replies live = g.follow("r1", 3000);
    g.db.hydrates.clear();
    long commit = g.clock();
    g.record("r1", commit);
    g.scheduler.advance(30);
    assertThat(g.db.hydrates).as("no hydrate while the replica may still lag").isEmpty();
    g.scheduler.advance(49);
    assertThat(g.db.hydrates).isEmpty();
    g.apply("r1", commit, "v1"); // the replica applies at +80
    g.scheduler.advance(11);
    assertThat(g.db.hydrates).hasSize(1);
    assertThat(live.lastMetadata()).containsExactly("v1");
    assertThat(g.counter("freshet.stale.hydrates", "outcome", "recovered")).isZero();
  }

  @Test
  void doesNotDelayARecordWhoseCommitIsAlreadyOlderThanTheLag() {
    RouterHarness g = new RouterHarness(new JsonObject().put("gate.marginMs", 10));
    g.lag.lagMs = 80;
    g.apply("r1", g.clock() - 5000, "v0");
    RouterHarness.Replies live = g.follow("r1", 5);
    long commit = g.clock() - 200; // spent 200 ms in transit
    g.apply("r1", commit, "v1");
    g.record("r1", commit);
    g.scheduler.advance(1);
    assertThat(live.lastMetadata()).containsExactly("v1");
  }

  @Test
  void withholdsAStaleRowRetriesAndDeliversOnlyTheFreshVersion() {
    h.apply("r1", h.clock() - 5000, "v0");
    RouterHarness.Replies live = h.follow("r1", 5);
    h.db.hydrates.clear();
    long commit = h.clock();
    h.record("r1", commit); // the replica still has v0
    h.scheduler.advance(5);
    assertThat(h.db.hydrates).hasSize(1);
    assertThat(live.slices).as("the stale row is withheld").isEmpty();
    assertThat(h.lag.observed).hasSize(1);
    h.apply("r1", commit, "v1");
    h.scheduler.advance(100);
    assertThat(h.db.hydrates).hasSize(2);
    assertThat(live.lastMetadata()).containsExactly("v1");
    assertThat(live.slices).hasSize(1);
    assertThat(h.counter("freshet.stale.hydrates", "outcome", "recovered")).isEqualTo(1);
  }

  @Test
  void aMissingRowWithAWatermarkRetriesUntilItAppears() {
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = h.open(tagFilter(0, "t"), replies);
    RouterHarness.Replies live = new RouterHarness.Replies();
    h.poll(handle, 1, true, live);
    long commit = h.clock();
    h.record("r1", commit, "t"); // inserted on the primary, not yet on the replica
    h.scheduler.advance(5);
    assertThat(live.slices).isEmpty();
    h.apply("r1", commit, "created", "t");
    h.scheduler.advance(100);
    assertThat(live.lastMetadata()).containsExactly("created");
    assertThat(h.counter("freshet.stale.hydrates", "outcome", "recovered")).isEqualTo(1);
  }

  @Test
  void withTheFallbackOffDeliversTheStaleRowWhenRetriesRunOut() {
    RouterHarness g = new RouterHarness(new JsonObject().put("gate.staleRetries", 1).put("gate.primaryFallbackPerSec", 0));
    g.apply("r1", g.clock() - 5000, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = g.open(runFilter("r1"), replies);
    g.scheduler.advance(5);
    g.apply("r1", g.clock() - 1000, "v0.5"); // newer than the snapshot, older than the change
    RouterHarness.Replies live = new RouterHarness.Replies();
    g.poll(handle, 1, true, live);
    g.record("r1", g.clock());
    g.scheduler.advance(200);
    assertThat(live.lastMetadata()).as("liveness over freshness").containsExactly("v0.5");
    assertThat(g.counter("freshet.stale.hydrates", "outcome", "gave_up")).isEqualTo(1);
  }

  @Test
  void afterGivingUpTheRunIsWatchedAndReadFreshAsSoonAsTheReplicaMoves() {
    RouterHarness g = new RouterHarness(new JsonObject().put("gate.staleRetries", 0).put("gate.primaryFallbackPerSec", 0));
    g.apply("r1", g.clock() - 5000, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = g.open(runFilter("r1"), replies);
    g.scheduler.advance(5);
    g.apply("r1", g.clock() - 1000, "v0.5");
    RouterHarness.Replies live = new RouterHarness.Replies();
    g.poll(handle, 1, true, live);
    long commit = g.clock();
    g.record("r1", commit);
    g.scheduler.advance(5);
    assertThat(live.lastMetadata()).containsExactly("v0.5");
    g.db.hydrates.clear();
    g.scheduler.advance(30_000);
    assertThat(g.db.hydrates).as("no timer re-reads a watched run, however long the stall; only the backstop")
        .allSatisfy(ids -> assertThat(ids).containsExactly("r1")).hasSizeLessThanOrEqualTo(2);
    assertThat(g.feeds.watchedRuns()).isEqualTo(1);
    RouterHarness.Replies next = new RouterHarness.Replies();
    g.poll(handle, live.last().to(), true, next);
    g.apply("r1", commit, "v1");
    g.db.replayedAtMs = commit;
    g.lag.progress(commit);
    g.scheduler.advance(1);
    assertThat(next.slices.isEmpty() ? List.of() : next.lastMetadata()).containsExactly("v1");
    assertThat(g.feeds.watchedRuns()).isZero();
    assertThat(g.counter("freshet.stale.hydrates", "outcome", "stall_recovered")).isEqualTo(1);
  }

  @Test
  void recordsWithoutAWatermarkBypassTheTripwire() {
    h.apply("r1", h.clock() - 5000, "v0");
    RouterHarness.Replies live = h.follow("r1", 5);
    h.db.hydrates.clear();
    h.apply("r1", h.clock(), "v1");
    h.record("r1", null);
    h.scheduler.advance(5);
    assertThat(h.db.hydrates).hasSize(1);
    assertThat(h.lag.observed).isEmpty();
    assertThat(live.lastMetadata()).containsExactly("v1");
  }

  @Test
  void aNewerChangeSupersedesAPendingRetryOfAnOlderOne() {
    h.apply("r1", h.clock() - 5000, "v0");
    RouterHarness.Replies live = h.follow("r1", 5);
    long first = h.clock();
    h.record("r1", first);
    h.scheduler.advance(5); // stale: retry pending
    long second = h.clock();
    h.record("r1", second);
    h.apply("r1", second, "v2");
    h.scheduler.advance(200);
    assertThat(live.lastMetadata()).containsExactly("v2");
  }

  @Test
  void aRunWrittenFasterThanTheReplicaAppliesStillGetsEachChangeOnceItIsSafe() {
    RouterHarness g = new RouterHarness(new JsonObject().put("gate.marginMs", 10));
    g.lag.lagMs = 300;
    g.apply("r1", g.clock() - 5000, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = g.open(runFilter("r1"), replies);
    g.scheduler.advance(3000);
    long offset = 1;
    java.util.TreeMap<Long, String> commits = new java.util.TreeMap<>();
    java.util.List<String> delivered = new java.util.ArrayList<>();
    RouterHarness.Replies live = new RouterHarness.Replies();
    g.poll(handle, offset, true, live);
    for (int step = 1; step <= 20; step++) {
      long commit = g.clock();
      commits.put(commit, "v" + step);
      g.record("r1", commit);
      for (int ms = 0; ms < 50; ms++) {
        // the replica applies each commit exactly 300 ms later
        var applied = commits.floorEntry(g.clock() - 300);
        if (applied != null) {
          g.apply("r1", applied.getKey(), applied.getValue());
        }
        g.scheduler.advance(1);
        if (!live.slices.isEmpty()) {
          delivered.addAll(live.lastMetadata());
          offset = live.last().to();
          live = new RouterHarness.Replies();
          g.poll(handle, offset, true, live);
        }
      }
    }
    assertThat(delivered).as("changes flow while the writes go on").hasSizeGreaterThan(10);
    assertThat(delivered.get(0)).isEqualTo("v1");
    assertThat(g.counter("freshet.stale.hydrates", "outcome", "gave_up")).isZero();
  }

  /** Runs r1 on a replica that applies every commit exactly 500 ms late; returns when v1 arrived. */
  private long followOnA500MsReplica(boolean busy, RouterHarness.Replies[] out, RouterHarness g) {
    java.util.TreeMap<Long, String> commits = new java.util.TreeMap<>();
    java.util.TreeMap<Long, Long> otherCommits = new java.util.TreeMap<>();
    Runnable replicaApplies = () -> {
      long visibleUpTo = g.clock() - 500;
      var applied = commits.floorEntry(visibleUpTo);
      if (applied != null) {
        g.apply("r1", applied.getKey(), applied.getValue());
      }
      Long last = applied == null ? null : applied.getKey();
      var other = otherCommits.floorKey(visibleUpTo);
      g.db.replayedAtMs = last == null ? other : other == null ? last : Math.max(last, other);
    };
    commits.put(g.clock() - 10_000, "v0");
    replicaApplies.run();
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = g.open(runFilter("r1"), replies);
    for (int ms = 0; ms < 3000; ms++) {
      if (busy && ms % 20 == 0) {
        otherCommits.put(g.clock(), 0L); // other runs keep the replica replaying
      }
      replicaApplies.run();
      g.scheduler.advance(1);
    }
    RouterHarness.Replies live = new RouterHarness.Replies();
    out[0] = live;
    g.poll(handle, 1, true, live);
    long commit = g.clock();
    commits.put(commit, "v1");
    g.record("r1", commit);
    for (int ms = 0; ms < 1500 && live.slices.isEmpty(); ms++) {
      if (busy && ms % 20 == 0) {
        otherCommits.put(g.clock(), 0L);
      }
      replicaApplies.run();
      g.scheduler.advance(1);
    }
    return g.clock() - commit;
  }

  @Test
  void onABusyReplicaALagFarAboveTheEstimateIsReadFreshRightAfterItsApplyDelay() {
    RouterHarness g = new RouterHarness(new JsonObject().put("gate.marginMs", 10));
    RouterHarness.Replies[] live = new RouterHarness.Replies[1];
    long took = followOnA500MsReplica(true, live, g);
    assertThat(live[0].lastMetadata()).as("fresh, not delivered stale").containsExactly("v1");
    assertThat(g.counter("freshet.stale.hydrates", "outcome", "gave_up")).isZero();
    assertThat(took).as("the replay position times the last retry").isBetween(500L, 560L);
  }

  @Test
  void onAQuietReplicaALagFarAboveTheEstimateIsStillReadFreshWithinTheMaxDelay() {
    RouterHarness g = new RouterHarness(new JsonObject().put("gate.marginMs", 10));
    RouterHarness.Replies[] live = new RouterHarness.Replies[1];
    long took = followOnA500MsReplica(false, live, g);
    assertThat(live[0].lastMetadata()).containsExactly("v1");
    assertThat(g.counter("freshet.stale.hydrates", "outcome", "gave_up")).isZero();
    assertThat(took).isLessThanOrEqualTo(1100L);
  }

  @Test
  void eachHydrateReportsTheReplayPositionAsAnUpperBoundOnTheLag() {
    h.lag.lagMs = 300; // held from an earlier, slower replica
    h.apply("r1", h.clock() - 5000, "v0");
    RouterHarness.Replies live = h.follow("r1", 3000);
    long commit = h.clock() - 400;
    h.apply("r1", commit, "v1");
    h.db.replayedAtMs = h.clock() - 12; // the replica now applies within 12 ms
    h.record("r1", commit);
    h.scheduler.advance(1);
    assertThat(live.lastMetadata()).containsExactly("v1");
    assertThat(h.lag.upperBounds).contains(12L);
    assertThat(h.lag.lagMs).isEqualTo(12);
  }

  @Test
  void aFailedHydrateIsRetriedRatherThanDroppingTheChange() {
    h.apply("r1", h.clock() - 5000, "v0");
    RouterHarness.Replies live = h.follow("r1", 5);
    h.apply("r1", h.clock(), "v1");
    h.db.failures = 1;
    h.record("r1", h.clock());
    h.scheduler.advance(200);
    assertThat(live.lastMetadata()).containsExactly("v1");
  }

  @Test
  void ungatedModeHydratesAtOnceAndDeliversWhatTheReplicaHas() {
    RouterHarness u = new RouterHarness(new JsonObject().put("gate.mode", "ungated"));
    u.lag.lagMs = 150;
    u.apply("r1", u.clock() - 5000, "v0");
    RouterHarness.Replies replies = new RouterHarness.Replies();
    String handle = u.open(runFilter("r1"), replies);
    u.scheduler.advance(5);
    u.apply("r1", u.clock() - 50, "v1");
    RouterHarness.Replies live = new RouterHarness.Replies();
    u.poll(handle, 1, true, live);
    u.record("r1", u.clock()); // v2 committed; the replica has v1
    u.scheduler.advance(1);
    assertThat(live.lastMetadata()).as("one change behind").containsExactly("v1");
  }
}
