package io.freshet.lag;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.Future;
import java.util.List;
import org.junit.jupiter.api.Test;

class FirstSupportedLagSourceTest {

  private static Long sample(LagSource source) {
    Future<Long> sample = source.sample();
    assertThat(sample.succeeded()).as("FirstSupported never fails a sample").isTrue();
    return sample.result();
  }

  @Test
  void selectsTheFirstCandidateThatSucceedsAndSticksWithIt() {
    ScriptedLagSource aurora = new ScriptedLagSource("aurora").thenUnsupported();
    ScriptedLagSource vanilla = new ScriptedLagSource("vanilla-pg").thenMeasures(0L).thenMeasures(null).thenMeasures(0L);
    FirstSupportedLagSource source = new FirstSupportedLagSource(List.of(aurora, vanilla));
    assertThat(source.name()).isEqualTo("undetected");

    assertThat(sample(source)).isZero();
    assertThat(source.name()).isEqualTo("vanilla-pg");
    assertThat(sample(source)).isNull();
    assertThat(sample(source)).isZero();

    assertThat(aurora.calls).as("aurora probed once").isEqualTo(1);
    assertThat(vanilla.calls).isEqualTo(3);
  }

  @Test
  void aCandidateThatSucceedsWithoutAMeasurementIsStillSelected() {
    ScriptedLagSource first = new ScriptedLagSource("first").thenMeasures(null);
    ScriptedLagSource second = new ScriptedLagSource("second").thenMeasures(5L);
    FirstSupportedLagSource source = new FirstSupportedLagSource(List.of(first, second));

    assertThat(sample(source)).isNull();

    assertThat(source.name()).isEqualTo("first");
    assertThat(second.calls).isZero();
  }

  @Test
  void degradesToNeverMeasuringWhenNoCandidateWorks() {
    ScriptedLagSource aurora = new ScriptedLagSource("aurora").thenUnsupported();
    ScriptedLagSource vanilla = new ScriptedLagSource("vanilla-pg").thenUnsupported();
    FirstSupportedLagSource source = new FirstSupportedLagSource(List.of(aurora, vanilla));

    assertThat(sample(source)).isNull();
    assertThat(sample(source)).isNull();
    assertThat(sample(source)).isNull();

    assertThat(source.name()).isEqualTo("undetected");
    assertThat(aurora.calls).isEqualTo(1);
    assertThat(vanilla.calls).isEqualTo(1);
  }

  @Test
  void aTransientErrorAfterSelectionSkipsTheSampleWithoutUnselecting() {
    ScriptedLagSource aurora = new ScriptedLagSource("aurora").thenMeasures(12L).thenFails("connection reset").thenMeasures(40L);
    ScriptedLagSource vanilla = new ScriptedLagSource("vanilla-pg").thenMeasures(0L);
    FirstSupportedLagSource source = new FirstSupportedLagSource(List.of(aurora, vanilla));

    assertThat(sample(source)).isEqualTo(12L);
    assertThat(sample(source)).as("error skips the sample").isNull();
    assertThat(source.name()).isEqualTo("aurora");
    assertThat(sample(source)).isEqualTo(40L);

    assertThat(vanilla.calls).isZero();
  }

  @Test
  void aDetectionErrorOtherThanUnsupportedSkipsTheSampleAndAsksTheSameCandidateAgain() {
    ScriptedLagSource aurora = new ScriptedLagSource("aurora")
        .thenFails("connection refused").thenThrows("connection reset").thenMeasures(25L);
    ScriptedLagSource vanilla = new ScriptedLagSource("vanilla-pg").thenMeasures(0L);
    FirstSupportedLagSource source = new FirstSupportedLagSource(List.of(aurora, vanilla));

    assertThat(sample(source)).isNull();
    assertThat(sample(source)).isNull();
    assertThat(source.name()).isEqualTo("undetected");
    assertThat(sample(source)).isEqualTo(25L);

    assertThat(source.name()).isEqualTo("aurora");
    assertThat(vanilla.calls).as("a down replica is not mistaken for plain PostgreSQL").isZero();
  }
}
