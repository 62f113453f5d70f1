package io.freshet.lag;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class RotationTest {

  @Test
  void aReplicaFarBehindLeavesAndRejoinsBelowHalfTheLimit() {
    Rotation rotation = new Rotation(5000);
    assertThat(rotation.estimated(4000)).isFalse();
    assertThat(rotation.estimated(5001)).isTrue();
    assertThat(rotation.inRotation()).isFalse();
    assertThat(rotation.why()).isEqualTo("behind");

    assertThat(rotation.estimated(3000)).as("not yet caught up: no flapping at the limit").isFalse();
    assertThat(rotation.estimated(2500)).isTrue();
    assertThat(rotation.inRotation()).isTrue();
    assertThat(rotation.why()).isNull();
  }

  @Test
  void aReplicaDownLeavesAfterTwoFailedProbesAndRejoinsOnlyWhenAProbeMeasuresIt() {
    Rotation rotation = new Rotation(5000);
    assertThat(rotation.failed(50)).as("one reset connection is not an outage").isFalse();
    assertThat(rotation.answered(50, true)).isFalse();
    assertThat(rotation.failed(50)).isFalse();
    assertThat(rotation.failed(50)).isTrue();
    assertThat(rotation.why()).isEqualTo("down");

    assertThat(rotation.estimated(50)).as("its old estimate alone does not bring it back").isFalse();
    assertThat(rotation.answered(50, false)).as("answering while it replays its backlog").isFalse();
    assertThat(rotation.answered(60, true)).isTrue();
    assertThat(rotation.inRotation()).isTrue();
  }

  @Test
  void aReplicaBehindThatGoesDownStaysOutUntilMeasured() {
    Rotation rotation = new Rotation(5000);
    rotation.estimated(9000);
    rotation.failed(9000);
    rotation.failed(9000);
    assertThat(rotation.why()).isEqualTo("down");
    assertThat(rotation.estimated(100)).isFalse();
    assertThat(rotation.answered(100, true)).isTrue();
  }
}
