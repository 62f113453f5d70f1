package io.freshet.router.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReplicaRoutesTest {

  /** Three replicas at 50, 150 and 1,000 ms, as the rig's standbys are in the several-replicas test. */
  private static ReplicaRoutes three() {
    ReplicaRoutes routes = new ReplicaRoutes(3, 30);
    routes.estimate(0, 50, true);
    routes.estimate(1, 150, true);
    routes.estimate(2, 1000, true);
    return routes;
  }

  private static Map<Integer, Integer> spread(ReplicaRoutes routes, Long need, long now, int reads) {
    Map<Integer, Integer> count = new HashMap<>();
    for (int i = 0; i < reads; i++) {
      count.merge(routes.route(need, now), 1, Integer::sum);
    }
    return count;
  }

  @Test
  void theGateWaitsOnTheFastestReplicaInRotation() {
    ReplicaRoutes routes = three();
    assertThat(routes.gateLagMs()).isEqualTo(50);

    routes.estimate(0, 6000, false);
    assertThat(routes.gateLagMs()).isEqualTo(150);

    routes.estimate(1, 150, false);
    routes.estimate(2, 1000, false);
    assertThat(routes.gateLagMs()).as("none in rotation: the fastest of all").isEqualTo(150);
  }

  @Test
  void aLeadingEdgeReadGoesToTheFastestReplica() {
    ReplicaRoutes routes = three();
    long commit = 10_000;
    // The gate's time: the commit plus the fastest estimate and a margin; only that replica expects to have it.
    assertThat(spread(routes, commit, commit + 60, 10)).isEqualTo(Map.of(0, 10));
  }

  @Test
  void readsOfOlderCommitsAreSpreadOverEveryReplicaThatQualifies() {
    ReplicaRoutes routes = three();
    long commit = 10_000;
    assertThat(spread(routes, commit, commit + 200, 10)).isEqualTo(Map.of(0, 5, 1, 5));
    assertThat(spread(routes, commit, commit + 2000, 9)).isEqualTo(Map.of(0, 3, 1, 3, 2, 3));
  }

  @Test
  void aReplicaKnownToHaveReplayedTheCommitQualifiesBeforeItsEstimateSaysSo() {
    ReplicaRoutes routes = three();
    long commit = 10_000;
    routes.replayed(2, commit + 5);
    assertThat(spread(routes, commit, commit + 60, 10)).isEqualTo(Map.of(0, 5, 2, 5));
  }

  @Test
  void aStaleReadWidensThatReplicaAloneAndTheNextReadGoesElsewhere() {
    ReplicaRoutes routes = three();
    long commit = 10_000;
    routes.widen(0, 400); // paused: the tripwire saw it 400 ms behind
    assertThat(routes.gateLagMs()).isEqualTo(150);
    assertThat(spread(routes, commit, commit + 160, 4)).isEqualTo(Map.of(1, 4));
  }

  @Test
  void replicasOutOfRotationGetNoReadsUnlessNoneIsLeft() {
    ReplicaRoutes routes = three();
    routes.estimate(0, 50, false);
    routes.estimate(1, 150, false);
    assertThat(spread(routes, 10_000L, 10_060, 4)).isEqualTo(Map.of(2, 4));
    assertThat(spread(routes, null, 10_060, 4)).isEqualTo(Map.of(2, 4));

    routes.estimate(2, 1000, false);
    assertThat(spread(routes, null, 10_060, 2)).as("nothing in rotation: the fastest of all").isEqualTo(Map.of(0, 2));

    routes.estimate(0, 50, true);
    routes.estimate(1, 150, true);
    assertThat(spread(routes, 10_000L, 10_060, 2)).as("back in rotation").isEqualTo(Map.of(0, 2));
  }

  @Test
  void aReplicaWhoseReadFailedIsPassedOverForAMoment() {
    ReplicaRoutes routes = three();
    routes.failed(0, 10_000);
    assertThat(routes.route(10_000L, 10_060)).isEqualTo(1);
    assertThat(routes.route(10_000L, 10_000 + ReplicaRoutes.FAILED_HOLD_MS)).isEqualTo(0);
  }

  @Test
  void theReaderEndpointBaselineWaitsOnTheSlowestAndSpreadsEveryRead() {
    ReplicaRoutes routes = new ReplicaRoutes(3, 30, true);
    routes.estimate(0, 50, true);
    routes.estimate(1, 150, true);
    routes.estimate(2, 1000, true);
    assertThat(routes.gateLagMs()).isEqualTo(1000);
    assertThat(spread(routes, 10_000L, 10_060, 9)).isEqualTo(Map.of(0, 3, 1, 3, 2, 3));
    routes.estimate(2, 1000, false);
    assertThat(routes.gateLagMs()).isEqualTo(150);
  }

  @Test
  void oneReplicaTakesEveryRead() {
    ReplicaRoutes routes = new ReplicaRoutes(1, 30);
    routes.estimate(0, 500, false);
    assertThat(routes.route(10_000L, 10_001)).isZero();
    assertThat(routes.gateLagMs()).isEqualTo(500);
  }
}
