package io.freshet.router.engine;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.router.engine.SettlePolicy.Plan;
import io.freshet.router.engine.ReadSource.Where;
import org.junit.jupiter.api.Test;

class SettlePolicyTest {

  private static final long MARGIN = 10;
  private static final long MAX_DELAY = 1000;
  private static final long MIN_RETRY = 25;
  private static final long FRESH_WITHIN = 1000;
  private static final long W = 1_000_000; // the change's watermark

  private static SettlePolicy policy(boolean fallback, int staleRetries) {
    ReplicaLagGate gate = new ReplicaLagGate(GateMode.GATED, MARGIN, MAX_DELAY);
    return new SettlePolicy(gate, MARGIN, MAX_DELAY, MIN_RETRY, FRESH_WITHIN, fallback, staleRetries);
  }

  private final SettlePolicy withFallback = policy(true, 3);
  private final SettlePolicy withoutFallback = policy(false, 3);

  @Test
  void theFirstReadWaitsForTheEstimatePlusTheMarginFromTheWatermark() {
    assertThat(withFallback.first(W, W + 5, 300)).isEqualTo(new Plan(W + 310, Where.REPLICA));
  }

  @Test
  void aChangeTheEstimateSaysTheReplicaCannotServeInTimeGoesToThePrimaryAtItsDeadline() {
    assertThat(withFallback.first(W, W + 5, 5000)).isEqualTo(new Plan(W + FRESH_WITHIN, Where.PRIMARY));
    assertThat(withoutFallback.first(W, W + 5, 5000).source()).isEqualTo(Where.REPLICA);
  }

  @Test
  void aRetryAimsAtTheEstimateWhenItIsAboveWhatTheStaleReadProved() {
    // Read at W+40 under a 30 ms estimate; since then the heartbeat measured 300.
    Plan plan = withFallback.retry(W, 40, null, 300, W + 45 + MIN_RETRY, 1, false);
    assertThat(plan).isEqualTo(new Plan(W + 310, Where.REPLICA));
  }

  @Test
  void aRetryDoublesWhatTheStaleReadProvedWhenTheEstimateIsProvenWrong() {
    Plan plan = withFallback.retry(W, 80, null, 80, W + 85 + MIN_RETRY, 2, false);
    assertThat(plan).isEqualTo(new Plan(W + 170, Where.REPLICA));
  }

  @Test
  void aTightBracketFromABusyReplicaIsAimedAtDirectly() {
    // Stale at +300; the last commit the replica had replayed was 330 ms old: the lag is in (300, 330].
    Long top = SettlePolicy.bracketTop(W, W + 300, W + 300 - 330);
    assertThat(top).isEqualTo(330);
    assertThat(withFallback.retry(W, 300, top, 300, W + 305 + MIN_RETRY, 1, false)).isEqualTo(new Plan(W + 340, Where.REPLICA));
  }

  @Test
  void aWideBracketOnlyCapsTheDoubling() {
    assertThat(withFallback.retry(W, 300, 450L, 300, W + 305 + MIN_RETRY, 1, false)).isEqualTo(new Plan(W + 460, Where.REPLICA));
  }

  @Test
  void onAnIdleReplicaTheReplayPositionIsTheAgeOfItsLastCommitAndProvesNothing() {
    // The replica's last replayed commit is two minutes old: its bracket top is not a lag. The
    // retry follows the doubling, not the top (which is what made the first change after a quiet
    // spell wait for the max delay).
    Long top = SettlePolicy.bracketTop(W, W + 40, W - 120_000);
    Plan plan = withoutFallback.retry(W, 40, top, 30, W + 45 + MIN_RETRY, 3, false);
    assertThat(plan).isEqualTo(new Plan(W + 90, Where.REPLICA));
  }

  @Test
  void aRetryThatWouldLandAfterTheDeadlineReadsThePrimaryAtTheDeadline() {
    Plan plan = withFallback.retry(W, 600, null, 600, W + 605 + MIN_RETRY, 2, false);
    assertThat(plan).isEqualTo(new Plan(W + FRESH_WITHIN, Where.PRIMARY));
  }

  @Test
  void pastTheDeadlineThePrimaryIsReadAtOnce() {
    Plan plan = withFallback.retry(W, 1200, null, 1200, W + 1205 + MIN_RETRY, 4, false);
    assertThat(plan).isEqualTo(new Plan(W + 1205, Where.PRIMARY));
  }

  @Test
  void aReplicaThatRefusesConnectionsIsStalledSoThePrimaryIsReadAtOnce() {
    assertThat(withFallback.retry(W, 40, null, 30, W + 45 + MIN_RETRY, 1, true)).isEqualTo(new Plan(W + 45, Where.PRIMARY));
    assertThat(withoutFallback.retry(W, 40, null, 30, W + 45 + MIN_RETRY, 1, true).source()).isEqualTo(Where.REPLICA);
  }

  @Test
  void withoutTheFallbackRetriesRunOutIntoAWatch() {
    assertThat(withoutFallback.retry(W, 600, null, 600, W + 605 + MIN_RETRY, 3, false).watching()).isFalse();
    assertThat(withoutFallback.retry(W, 600, null, 600, W + 605 + MIN_RETRY, 4, false).watching()).isTrue();
  }

  @Test
  void aRetryNeverComesSoonerThanTheShortestDelayNorLaterThanTheMaxDelay() {
    assertThat(withoutFallback.retry(W, 5, null, 0, W + 10 + MIN_RETRY, 1, false).atMs()).isEqualTo(W + 10 + MIN_RETRY);
    assertThat(withoutFallback.retry(W, 5000, null, 5000, W + 5005 + MIN_RETRY, 1, false).atMs()).isEqualTo(W + 5005 + MIN_RETRY + MAX_DELAY);
  }
}
