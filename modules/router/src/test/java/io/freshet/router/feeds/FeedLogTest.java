package io.freshet.router.feeds;

import static io.freshet.router.feeds.RouterHarness.row;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.RunColumn;
import io.freshet.core.RunRow;
import io.freshet.core.feed.FeedFilter;
import io.freshet.core.feed.LogSlice;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;

class FeedLogTest {

  private static FeedLog log(FeedFilter filter, int retention) {
    return new FeedLog("node1-0-1-abcdef", RouterHarness.ENV, filter, RunColumn.ALL, retention);
  }

  private static RunRow run(String id, long version, String metadata) {
    return row(id, version, List.of("t"), null, metadata, 0);
  }

  private static List<String> ops(LogSlice slice) {
    return slice.messages().stream().map(m -> new JsonObject(m).getJsonObject("headers").getString("operation")).toList();
  }

  @Test
  void aLogHandedToAnotherNodeAnswersEveryOffsetItRetainedAsTheOriginalDid() {
    FeedLog original = log(new FeedFilter.Tags(List.of("t"), 0), 8);
    original.commit(true);
    original.offer(run("r1", 10, "a"));
    original.commit(false);
    original.offer(run("r2", 20, "b"));
    original.commit(false);
    original.offer(run("r1", 30, "c"));
    original.commit(false);

    FeedLog adopted = FeedLog.adopted(original.handover(List.of("sink-a")), 8);

    assertThat(adopted.handle).isEqualTo(original.handle);
    assertThat(adopted.seq()).isEqualTo(original.seq());
    assertThat(adopted.snapshot().messages()).isEqualTo(original.snapshot().messages());
    assertThat(adopted.at(original.seq())).isInstanceOf(FeedLog.Current.class);
    for (long offset = 1; offset < original.seq(); offset++) {
      LogSlice was = ((FeedLog.Behind) original.at(offset)).slice();
      LogSlice is = ((FeedLog.Behind) adopted.at(offset)).slice();
      assertThat(is.messages()).as("offset " + offset).isEqualTo(was.messages());
      assertThat(is.to()).isEqualTo(was.to());
    }
    assertThat(adopted.offer(run("r1", 25, "older"))).as("never backwards after the move either").isFalse();
    assertThat(adopted.offer(run("r1", 40, "d"))).isTrue();
    assertThat(adopted.commit(false).from()).as("the next entry follows on").isEqualTo(original.seq());
  }

  @Test
  void aNewLogsFirstCommitIsOffsetOneEvenWhenEmpty() {
    FeedLog log = log(new FeedFilter.Run("r1"), 8);
    LogSlice first = log.commit(true);
    assertThat(first.from()).isZero();
    assertThat(first.to()).isEqualTo(1);
    assertThat(first.messages()).isEmpty();
    assertThat(log.commit(false)).as("nothing offered, nothing appended").isNull();
  }

  @Test
  void theFirstVersionOfARunIsAnInsertAndLaterOnesUpdates() {
    FeedLog log = log(new FeedFilter.Tags(List.of("t"), 0), 8);
    log.commit(true);
    assertThat(log.offer(run("r1", 10, "a"))).isTrue();
    assertThat(ops(log.commit(false))).containsExactly("insert");
    log.offer(run("r1", 20, "b"));
    LogSlice slice = log.commit(false);
    assertThat(ops(slice)).containsExactly("update");
    assertThat(RouterHarness.metadata(slice)).containsExactly("b");
  }

  /**
   * A run that enters and leaves the filter between two commits changed nothing a client has seen:
   * no entry is appended, so no held poll is answered early with an empty up-to-date.
   */
  @Test
  void aRunThatEntersAndLeavesBetweenTwoCommitsAppendsNothing() {
    FeedLog log = log(new FeedFilter.Tags(List.of("t"), 0, List.of("EXECUTING")), 8);
    log.commit(true);
    assertThat(log.offer(RouterHarness.row("r1", 10, List.of("t"), null, "started", 0, "EXECUTING"))).isTrue();
    assertThat(log.offer(RouterHarness.row("r1", 20, List.of("t"), null, "done", 0, "COMPLETED_SUCCESSFULLY"))).isTrue();
    assertThat(log.commit(false)).as("nothing to tell any client").isNull();
    assertThat(log.seq()).isEqualTo(1);
    assertThat(log.snapshot().messages()).isEmpty();
  }

  @Test
  void anOlderOrEqualRowIsDroppedSoTheLogNeverMovesBackwards() {
    FeedLog log = log(new FeedFilter.Run("r1"), 8);
    log.commit(true);
    log.offer(run("r1", 20, "from the primary"));
    log.commit(false);
    assertThat(log.offer(run("r1", 10, "a lagging replica"))).isFalse();
    assertThat(log.offer(run("r1", 20, "the same version again"))).isFalse();
    assertThat(log.commit(false)).isNull();
    assertThat(RouterHarness.metadata(log.snapshot())).containsExactly("from the primary");
  }

  @Test
  void clientsAtTheSameOffsetGetTheSameSlice() {
    FeedLog log = log(new FeedFilter.Run("r1"), 8);
    log.commit(true);
    log.offer(run("r1", 10, "a"));
    log.commit(false);
    log.offer(run("r1", 20, "b"));
    log.commit(false);
    FeedLog.Behind one = (FeedLog.Behind) log.at(1);
    FeedLog.Behind other = (FeedLog.Behind) log.at(1);
    assertThat(one.slice()).isSameAs(other.slice());
    assertThat(one.slice().electricBody()).isSameAs(other.slice().electricBody());
  }

  @Test
  void aClientSeveralEntriesBehindGetsOneMessagePerRunWithTheOpItsViewNeeds() {
    FeedLog log = log(new FeedFilter.Tags(List.of("t"), 0), 16);
    log.commit(true);
    log.offer(run("held", 10, "h1"));
    log.commit(false); // offset 2: the client holds "held"
    log.offer(run("held", 20, "h2"));
    log.offer(run("new", 21, "n1"));
    log.commit(false);
    log.offer(run("new", 30, "n2"));
    log.offer(run("held", 31, "h3"));
    log.commit(false);
    LogSlice slice = ((FeedLog.Behind) log.at(2)).slice();
    assertThat(slice.from()).isEqualTo(2);
    assertThat(slice.to()).isEqualTo(4);
    assertThat(RouterHarness.metadata(slice)).containsExactly("n2", "h3");
    assertThat(ops(slice)).containsExactly("insert", "update");
  }

  @Test
  void aRunThatLeavesTheFilterIsSentAsADeleteAndAClientThatNeverSawItGetsNothing() {
    FeedLog log = log(new FeedFilter.Tags(List.of(), 0, List.of("EXECUTING")), 16);
    log.commit(true);
    log.offer(row("r1", 10, List.of(), null, "running", 0, "EXECUTING"));
    log.commit(false); // 2
    log.offer(row("r1", 20, List.of(), null, "done", 0, "COMPLETED_SUCCESSFULLY"));
    LogSlice left = log.commit(false); // 3
    assertThat(ops(left)).containsExactly("delete");
    assertThat(new JsonObject(left.messages().get(0)).getJsonObject("value").getString("id")).isEqualTo("internal_r1");
    assertThat(log.contains("r1")).isFalse();
    assertThat(((FeedLog.Behind) log.at(1)).slice().messages()).as("came and went after offset 1").isEmpty();
    assertThat(log.offer(row("r1", 30, List.of(), null, "still done", 0, "COMPLETED_SUCCESSFULLY")))
        .as("a run outside the filter that the log does not hold is none of its business").isFalse();
  }

  @Test
  void aLaggingReadCannotBringBackTheOlderVersionOfARunThatLeft() {
    FeedLog log = log(new FeedFilter.Tags(List.of(), 0, List.of("EXECUTING")), 16);
    log.commit(true);
    log.offer(row("r1", 10, List.of(), null, "running", 0, "EXECUTING"));
    log.commit(false);
    log.offer(row("r1", 20, List.of(), null, "done", 0, "COMPLETED_SUCCESSFULLY")); // from its record: left
    assertThat(ops(log.commit(false))).containsExactly("delete");
    assertThat(log.offer(row("r1", 10, List.of(), null, "running", 0, "EXECUTING")))
        .as("a backstop read of a replica that has not applied version 20 yet").isFalse();
    assertThat(log.commit(false)).isNull();
    assertThat(log.offer(row("r1", 30, List.of(), null, "retried", 0, "EXECUTING"))).as("a newer version comes back in").isTrue();
    assertThat(ops(log.commit(false))).containsExactly("insert");
  }

  @Test
  void aRunSeenOutsideTheFilterFirstCannotComeInLaterWithAnOlderVersion() {
    FeedLog log = log(new FeedFilter.Tags(List.of(), 0, List.of("EXECUTING")), 16);
    log.commit(true);
    assertThat(log.offer(row("r1", 20, List.of(), null, "done", 0, "COMPLETED_SUCCESSFULLY"))).isFalse();
    assertThat(log.offer(row("r1", 10, List.of(), null, "running", 0, "EXECUTING"))).as("older than what was seen").isFalse();
    log.offer(row("r2", 10, List.of(), null, "running", 0, "EXECUTING")); // a snapshot's replica row
    log.offer(row("r2", 20, List.of(), null, "done", 0, "COMPLETED_SUCCESSFULLY")); // a carried row, before the first commit
    log.commit(false);
    assertThat(log.contains("r2")).isFalse();
    assertThat(log.offer(row("r2", 10, List.of(), null, "running", 0, "EXECUTING"))).isFalse();
  }

  @Test
  void anOffsetBehindTheRetentionIsTooOldAndOneNeverIssuedIsAhead() {
    FeedLog log = log(new FeedFilter.Run("r1"), 2);
    log.commit(true);
    for (int v = 1; v <= 4; v++) {
      log.offer(run("r1", v * 10, "v" + v));
      log.commit(false);
    }
    assertThat(log.seq()).isEqualTo(5);
    assertThat(log.at(2)).isInstanceOf(FeedLog.TooOld.class);
    assertThat(log.at(3)).isInstanceOf(FeedLog.Behind.class);
    assertThat(log.at(5)).isInstanceOf(FeedLog.Current.class);
    assertThat(log.at(6)).isInstanceOf(FeedLog.Ahead.class);
  }

  @Test
  void theSnapshotIsTheCurrentRowsAsInsertsAtTheCurrentOffset() {
    FeedLog log = log(new FeedFilter.Tags(List.of("t"), 0), 4);
    log.commit(true);
    log.offer(run("a", 10, "a1"));
    log.offer(run("b", 5, "b1"));
    log.commit(false);
    log.offer(run("a", 20, "a2"));
    log.commit(false);
    LogSlice snapshot = log.snapshot();
    assertThat(snapshot.to()).isEqualTo(3);
    assertThat(RouterHarness.metadata(snapshot)).containsExactly("b1", "a2");
    assertThat(ops(snapshot)).containsOnly("insert");
    assertThat(log.snapshot()).as("built once per offset").isSameAs(snapshot);
  }

  @Test
  void sseEventsCarryEachMessageAndEndWithUpToDateAtTheNewOffset() {
    FeedLog log = log(new FeedFilter.Run("r1"), 4);
    log.commit(true);
    log.offer(run("r1", 10, "a"));
    LogSlice slice = log.commit(false);
    String events = slice.sseEvents().toString();
    assertThat(events).startsWith("data: {\"key\":").endsWith("data: {\"headers\":{\"control\":\"up-to-date\",\"global_last_seen_lsn\":\"2\"}}\n\n");
    assertThat(slice.sseEvents()).isSameAs(slice.sseEvents());
    assertThat(LogSlice.unchanged(2).sseEvents().length()).isZero();
  }
}
