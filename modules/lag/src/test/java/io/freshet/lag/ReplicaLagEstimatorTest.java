package io.freshet.lag;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReplicaLagEstimatorTest {

  private static final long WINDOW = 5_000;
  private static final long FLOOR_TTL = 60_000;

  private static ReplicaLagEstimator estimator(long defaultMs, long maxMs) {
    return new ReplicaLagEstimator(WINDOW, defaultMs, FLOOR_TTL, maxMs);
  }

  @Test
  void returnsTheDefaultBeforeAnySampleLands() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);

    assertThat(estimator.lagMs(1_000)).isEqualTo(42);
  }

  @Test
  void reportsTheLargestSampleInTheWindow() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);

    estimator.recordSample(1_000, 10L);
    estimator.recordSample(1_250, 60L);
    estimator.recordSample(1_500, 20L);

    assertThat(estimator.lagMs(1_500)).isEqualTo(60);
  }

  @Test
  void aLargeSampleLeavesTheEstimateOnlyWhenItLeavesTheWindow() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);
    estimator.recordSample(1_000, 60L);
    estimator.recordSample(3_000, 20L);

    assertThat(estimator.lagMs(6_000)).as("60 sampled exactly a window ago").isEqualTo(60);
    assertThat(estimator.lagMs(6_001)).isEqualTo(20);
  }

  @Test
  void widensImmediatelyOnAnObservedLagAndClampsWildValues() {
    ReplicaLagEstimator estimator = estimator(42, 1_000);
    estimator.recordSample(1_000, 10L);

    estimator.noteObserved(1_100, 250);
    assertThat(estimator.lagMs(1_100)).isEqualTo(250);

    estimator.noteObserved(1_200, 99_999);
    assertThat(estimator.lagMs(1_200)).isEqualTo(1_000);
  }

  @Test
  void clampsNegativeValuesToZero() {
    ReplicaLagEstimator estimator = estimator(42, 1_000);

    estimator.recordSample(1_000, -5L);
    estimator.noteObserved(1_000, -7);

    assertThat(estimator.lagMs(1_000)).isZero();
  }

  @Test
  void anObservedLagFloorsTheEstimatePastTheSampleWindowUntilItsTtl() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);
    estimator.recordSample(1_000, 20L);
    estimator.noteObserved(1_000, 150);

    long windowFlushed = 1_000 + WINDOW + 1;
    estimator.recordSample(windowFlushed, 5L);
    assertThat(estimator.lagMs(windowFlushed)).as("window holds only 5, the floor holds 150").isEqualTo(150);
    assertThat(estimator.lagMs(1_000 + FLOOR_TTL - 1)).isEqualTo(150);

    assertThat(estimator.lagMs(1_000 + FLOOR_TTL)).as("floor expired, back to the last sample").isEqualTo(5);
  }

  @Test
  void aLowerObservationDoesNotLowerAFloorInForceButReplacesAnExpiredOne() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);
    estimator.recordSample(0, 0L);
    estimator.noteObserved(0, 300);

    estimator.noteObserved(10_000, 100);
    assertThat(estimator.lagMs(20_000)).as("300 still floors").isEqualTo(300);

    estimator.noteObserved(FLOOR_TTL + 1, 80);
    assertThat(estimator.lagMs(FLOOR_TTL + 1 + WINDOW + 1)).as("expired floor replaced by 80").isEqualTo(80);
  }

  @Test
  void fallsBackToTheLastKnownSampleAfterTheWindow() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);
    estimator.recordSample(1_000, 70L);
    estimator.recordSample(2_000, 35L);

    assertThat(estimator.lagMs(100_000)).isEqualTo(35);
  }

  @Test
  void anExpiredObservationIsNotRememberedAsTheLastKnownSample() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);
    estimator.noteObserved(1_000, 500);

    assertThat(estimator.lagMs(1_000 + FLOOR_TTL)).isEqualTo(42);
  }

  @Test
  void ignoresANullSample() {
    ReplicaLagEstimator estimator = estimator(42, 60_000);
    estimator.recordSample(1_000, null);
    assertThat(estimator.lagMs(1_000)).as("still the default").isEqualTo(42);

    estimator.recordSample(2_000, 25L);
    estimator.recordSample(2_250, null);
    assertThat(estimator.lagMs(100_000)).as("last known stays 25").isEqualTo(25);
  }

  @Test
  void afterItsTtlAFloorDecaysLinearlyInsteadOfDroppingAtOnce() {
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(WINDOW, 0, FLOOR_TTL, 60_000, 60_000);
    estimator.recordSample(1_000, 0L);
    estimator.noteObserved(1_000, 300);

    assertThat(estimator.lagMs(1_000 + FLOOR_TTL - 1)).as("held for the TTL").isEqualTo(300);
    assertThat(estimator.lagMs(1_000 + FLOOR_TTL + 30_000)).as("half way down").isEqualTo(150);
    assertThat(estimator.lagMs(1_000 + FLOOR_TTL + 59_000)).isEqualTo(5);
    assertThat(estimator.lagMs(1_000 + FLOOR_TTL + 60_000)).as("gone after the decay").isEqualTo(0);
  }

  @Test
  void aNewObservationDuringTheDecayReplacesTheFloorWhenAtLeastItsCurrentValue() {
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(WINDOW, 0, FLOOR_TTL, 60_000, 60_000);
    estimator.recordSample(1_000, 0L);
    estimator.noteObserved(1_000, 300);
    long decaying = 1_000 + FLOOR_TTL + 30_000; // floor is 150 here
    estimator.noteObserved(decaying, 160);

    assertThat(estimator.lagMs(decaying + FLOOR_TTL - 1)).as("the new, higher floor is held afresh").isEqualTo(160);
  }

  @Test
  void withoutADecayAnExpiredFloorDropsToTheSampledBase() {
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(WINDOW, 0, FLOOR_TTL, 0, 60_000);
    estimator.recordSample(1_000, 12L);
    estimator.noteObserved(1_000, 300);

    assertThat(estimator.lagMs(1_000 + FLOOR_TTL)).isEqualTo(12);
  }

  @Test
  void anUpperBoundFromAReadCapsAHeldFloorWhenTheLagDropped() {
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(WINDOW, 0, FLOOR_TTL, 60_000, 60_000);
    estimator.noteObserved(1_000, 300);
    estimator.noteUpperBound(20_000, 12);

    assertThat(estimator.lagMs(20_000)).as("the replica now applies within 12 ms").isEqualTo(12);
    assertThat(estimator.lagMs(20_000 + WINDOW)).as("a ceiling lasts one window").isEqualTo(300);
  }

  @Test
  void aLaterStaleObservationAboveTheCeilingRemovesIt() {
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(WINDOW, 0, FLOOR_TTL, 60_000, 60_000);
    estimator.noteUpperBound(1_000, 12);
    estimator.noteObserved(1_500, 200);

    assertThat(estimator.lagMs(1_500)).isEqualTo(200);
  }

  @Test
  void aPreciseSourceDrivesTheEstimateWhileItReportsAndNoHeldFloorOutlastsIt() {
    ReplicaLagEstimator e = new ReplicaLagEstimator(5_000, 30, 60_000, 60_000, 60_000).preciseWindows(500, 10_000);
    e.noteObserved(0, 2_000); // a stall's tripwire observation: held for a minute without a precise source
    assertThat(e.lagMs(100)).isEqualTo(2_000);
    e.recordPrecise(1_000, 150, false);
    assertThat(e.lagMs(1_000)).as("the heartbeat knows better").isEqualTo(150);
    e.recordPrecise(1_250, 300, false);
    e.recordPrecise(1_500, 290, false);
    assertThat(e.lagMs(1_500)).as("the largest of the last half second").isEqualTo(300);
    e.recordPrecise(1_750, 100, true);
    assertThat(e.lagMs(1_750)).as("an upper bound proves the larger reports outdated").isEqualTo(100);
    assertThat(e.lagMs(20_000)).as("silent for longer than preciseValidMs: back to the other rules").isEqualTo(2_000);
  }

  @Test
  void anUnappliedHeartbeatRaisesTheEstimateAsItAges() {
    ReplicaLagEstimator e = new ReplicaLagEstimator(5_000, 30, 60_000, 60_000, 60_000).preciseWindows(500, 10_000);
    e.recordPrecise(0, 150, false);
    e.noteUnapplied(1_000, 900);
    assertThat(e.lagMs(1_000)).isEqualTo(900);
    assertThat(e.lagMs(1_200)).as("still unapplied: older now").isEqualTo(1_100);
    assertThat(e.lagMs(1_600)).as("not reported again within the window: no longer counted").isEqualTo(150);
    e.noteUnapplied(1_600, 1_500);
    e.recordPrecise(1_700, 160, true);
    assertThat(e.lagMs(1_700)).as("applied at last").isEqualTo(160);
  }
}
