package io.freshet.lag;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.lag.Heartbeat;
import io.freshet.core.time.FakeScheduler;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The heartbeat probe on a fake clock against a simulated replica that applies each commit a set delay late. */
class HeartbeatProbeTest {

  private static final long INTERVAL = 250;

  private final FakeScheduler time = new FakeScheduler();
  /** seq → the heartbeat's write time; the replica shows it from write + delay on. */
  private final TreeMap<Long, Long> written = new TreeMap<>();
  private long delayMs = 300;
  private boolean paused;
  private long pausedAt;
  private int reads;
  private final List<Long> measured = new ArrayList<>();
  private final List<Boolean> upperOnly = new ArrayList<>();
  private final List<Long> unapplied = new ArrayList<>();
  private final List<Long> progress = new ArrayList<>();
  private long estimate = 30;

  private final HeartbeatProbe probe = new HeartbeatProbe(this::read, time, () -> estimate, INTERVAL, new HeartbeatProbe.Reports() {
    @Override
    public void measured(long lagMs, boolean upper) {
      measured.add(lagMs);
      upperOnly.add(upper);
      estimate = lagMs;
    }

    @Override
    public void unapplied(long ageMs) {
      unapplied.add(ageMs);
    }

    @Override
    public void progressed(long replayedAtMs) {
      progress.add(replayedAtMs);
    }

    @Override
    public void failed(Throwable cause) {}
  });

  private Future<HeartbeatRow.Seen> read() {
    reads++;
    long now = time.nowMs();
    long seq = 0;
    Long replayed = null;
    for (var beat : written.entrySet()) {
      long appliesAt = beat.getValue() + delayMs;
      if (appliesAt <= now && !(paused && appliesAt > pausedAt)) {
        seq = beat.getKey();
        replayed = beat.getValue();
      }
    }
    return Future.succeededFuture(new HeartbeatRow.Seen(seq, replayed));
  }

  /** Writes a heartbeat every interval for {@code ms}, as the cluster's writer would. */
  private void beatFor(long ms) {
    long end = time.nowMs() + ms;
    while (time.nowMs() < end) {
      long seq = written.isEmpty() ? 1 : written.lastKey() + 1;
      written.put(seq, time.nowMs());
      probe.onBeat(new Heartbeat(seq, time.nowMs()));
      time.advance(INTERVAL);
    }
  }

  @Test
  void measuresTheApplyDelayToWithinAStepAndThenEachBeatInAFewReads() {
    probe.active(true);
    beatFor(1000);
    assertThat(reads).as("a cold start (estimate 30 ms) finds 300 ms in a few dozen reads").isLessThan(40);
    int coldReads = reads;
    int coldBeats = written.size();
    beatFor(3000);
    assertThat(measured.subList(2, measured.size())).allSatisfy(lag -> assertThat(lag).isBetween(295L, 305L));
    assertThat(upperOnly.subList(2, upperOnly.size())).containsOnly(false);
    assertThat((reads - coldReads) / (double) (written.size() - coldBeats)).as("reads per heartbeat once converged").isLessThan(5);
  }

  @Test
  void followsTheDelayDownAfterAFirstReadAlreadySeesTheBeat() {
    probe.active(true);
    beatFor(2000);
    delayMs = 150; // db.sh set-delay 150
    beatFor(1500);
    assertThat(measured.get(measured.size() - 1)).isBetween(145L, 155L);
  }

  @Test
  void reportsAPausedReplicaAsAGrowingLowerBoundAndTheNewestBeatOnceItResumes() {
    probe.active(true);
    beatFor(2000);
    paused = true;
    pausedAt = time.nowMs();
    beatFor(5000);
    assertThat(unapplied).isNotEmpty();
    assertThat(unapplied.get(unapplied.size() - 1)).as("the lower bound grows with the stall").isGreaterThan(4000);
    int readsDuringStall = reads;
    beatFor(2000);
    assertThat(reads - readsDuringStall).as("backed off while overdue").isLessThan(20);
    paused = false;
    int before = measured.size();
    beatFor(1000);
    assertThat(measured.get(before)).as("after the resume: the newest beat's delay, an upper bound").isLessThan(INTERVAL + 300 + 20);
    assertThat(measured.get(measured.size() - 1)).isBetween(295L, 305L);
  }

  @Test
  void reportsReplayProgressOnlyWhenItMoves() {
    probe.active(true);
    beatFor(2000);
    assertThat(progress).isSorted().doesNotHaveDuplicates().isNotEmpty();
  }

  @Test
  void readsNothingWhileInactive() {
    beatFor(2000);
    assertThat(reads).isZero();
    probe.active(true);
    beatFor(1000);
    probe.active(false);
    int before = reads;
    beatFor(1000);
    assertThat(reads).isEqualTo(before);
  }
}
