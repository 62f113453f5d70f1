package io.freshet.lag;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.time.FakeScheduler;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class LagSamplerTest {

  private static final long INTERVAL = 250;
  private static final long IDLE_AFTER = 30_000;

  private final FakeScheduler time = new FakeScheduler();
  private final List<LagSampler.SampleResult> results = new ArrayList<>();
  private final List<Long> estimates = new ArrayList<>();
  private final LagSampler.Listener listener = new LagSampler.Listener() {
    @Override
    public void onSample(LagSampler.SampleResult result) {
      results.add(result);
    }

    @Override
    public void onEstimate(long lagMs, String sourceName) {
      estimates.add(lagMs);
    }
  };

  private LagSampler sampler(LagSource source) {
    ReplicaLagEstimator estimator = new ReplicaLagEstimator(5_000, 42, 60_000, 60_000);
    return new LagSampler(source, estimator, time, INTERVAL, IDLE_AFTER, listener);
  }

  @Test
  void doesNotSampleUntilTouched() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(10L);
    LagSampler sampler = sampler(source);

    time.advance(10_000);

    assertThat(source.calls).isZero();
    assertThat(sampler.isSampling()).isFalse();
    assertThat(sampler.lagMs()).isEqualTo(42);
  }

  @Test
  void touchTakesAnImmediateSampleThenSamplesEveryInterval() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(10L).thenMeasures(60L).thenMeasures(20L);
    LagSampler sampler = sampler(source);

    sampler.touch();
    assertThat(source.calls).isEqualTo(1);
    assertThat(sampler.lagMs()).isEqualTo(10);

    time.advance(2 * INTERVAL);
    assertThat(source.calls).isEqualTo(3);
    assertThat(sampler.lagMs()).as("window max of 10, 60, 20").isEqualTo(60);
    assertThat(results).containsOnly(LagSampler.SampleResult.MEASURED);
  }

  @Test
  void aTouchWhileSamplingDoesNotStartASecondLoop() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(10L);
    LagSampler sampler = sampler(source);

    sampler.touch();
    sampler.touch();
    time.advance(INTERVAL);

    assertThat(source.calls).isEqualTo(2);
    assertThat(time.pending()).isEqualTo(1);
  }

  @Test
  void stopsSamplingOnceIdleAndResumesOnTouch() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(10L);
    LagSampler sampler = sampler(source);
    sampler.touch();

    time.advance(IDLE_AFTER);
    assertThat(sampler.isSampling()).as("idle exactly idleAfterMs: still sampling").isTrue();
    time.advance(INTERVAL);
    assertThat(sampler.isSampling()).isFalse();
    assertThat(time.pending()).isZero();

    int callsWhenStopped = source.calls;
    time.advance(60_000);
    assertThat(source.calls).isEqualTo(callsWhenStopped);

    sampler.touch();
    assertThat(sampler.isSampling()).isTrue();
    assertThat(source.calls).as("immediate sample on resume").isEqualTo(callsWhenStopped + 1);
    time.advance(INTERVAL);
    assertThat(source.calls).isEqualTo(callsWhenStopped + 2);
  }

  @Test
  void aTouchPostponesIdling() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(10L);
    LagSampler sampler = sampler(source);
    sampler.touch();

    time.advance(IDLE_AFTER - 1_000);
    sampler.touch();
    time.advance(IDLE_AFTER - 1_000);

    assertThat(sampler.isSampling()).isTrue();
  }

  @Test
  void survivesAThrowingOrFailingSourceAndKeepsTheLastKnownValue() {
    ScriptedLagSource source = new ScriptedLagSource("scripted")
        .thenMeasures(33L).thenThrows("boom").thenFails("connection reset");
    LagSampler sampler = sampler(source);

    sampler.touch();
    time.advance(10 * INTERVAL);

    assertThat(source.calls).isEqualTo(11);
    assertThat(sampler.isSampling()).isTrue();
    assertThat(results).startsWith(LagSampler.SampleResult.MEASURED, LagSampler.SampleResult.ERROR,
        LagSampler.SampleResult.ERROR);
    time.advance(10_000);
    assertThat(sampler.lagMs()).as("window long gone, last known sample").isEqualTo(33);
  }

  @Test
  void anUnmeasurableSampleKeepsTheEstimate() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(33L).thenMeasures(null);
    LagSampler sampler = sampler(source);

    sampler.touch();
    time.advance(INTERVAL);

    assertThat(results).containsExactly(LagSampler.SampleResult.MEASURED, LagSampler.SampleResult.UNMEASURABLE);
    assertThat(sampler.lagMs()).isEqualTo(33);
  }

  @Test
  void samplesNeverOverlapTicksDuringAnInFlightSampleAreSkipped() {
    ScriptedLagSource source = new ScriptedLagSource("slow").thenHangs().thenMeasures(15L);
    LagSampler sampler = sampler(source);

    sampler.touch();
    time.advance(4 * INTERVAL);
    assertThat(source.calls).as("four ticks while the first sample hangs").isEqualTo(1);

    source.pending.get(0).complete(70L);
    assertThat(sampler.lagMs()).isEqualTo(70);
    time.advance(INTERVAL);
    assertThat(source.calls).isEqualTo(2);
    assertThat(sampler.lagMs()).isEqualTo(70);
  }

  @Test
  void aTouchWhileASampleIsInFlightDoesNotSendAnother() {
    ScriptedLagSource source = new ScriptedLagSource("slow").thenHangs();
    LagSampler sampler = sampler(source);
    sampler.touch();

    time.advance(IDLE_AFTER + INTERVAL);
    assertThat(sampler.isSampling()).as("stopped while the sample hangs").isFalse();
    sampler.touch();

    assertThat(source.calls).isEqualTo(1);
  }

  @Test
  void anObservationWidensTheEstimateTellsTheListenerAndStartsSampling() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(10L);
    LagSampler sampler = sampler(source);

    sampler.noteObserved(120);

    assertThat(sampler.lagMs()).isEqualTo(120);
    assertThat(estimates).first().isEqualTo(120L);
    assertThat(sampler.isSampling()).isTrue();
    assertThat(source.calls).isEqualTo(1);
  }

  @Test
  void anObservationBelowTheEstimateDoesNotNotifyAChange() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(100L);
    LagSampler sampler = sampler(source);
    sampler.touch();
    estimates.clear();

    sampler.noteObserved(50);

    assertThat(estimates).isEmpty();
    assertThat(sampler.lagMs()).isEqualTo(100);
  }

  @Test
  void reportsTheEstimateAfterEverySample() {
    ScriptedLagSource source = new ScriptedLagSource("scripted").thenMeasures(10L).thenFails("x").thenMeasures(null);
    LagSampler sampler = sampler(source);

    sampler.touch();
    time.advance(2 * INTERVAL);

    assertThat(estimates).containsExactly(10L, 10L, 10L);
  }
}
