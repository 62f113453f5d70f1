package io.freshet.router.engine;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ReplayBracketTest {

  private final ReplayBracket bracket = new ReplayBracket();

  @Test
  void twoCloseReadsAroundAnApplyMeasureThatCommitsDelay() {
    // A commit at 1000 applied 500 ms late: the first read (start 1490) still sees 990,
    // the second (start 1502, end 1506) sees 1000.
    assertThat(bracket.onRead(1490, 1493, 990)).isEmpty();
    assertThat(bracket.onRead(1502, 1506, 1000)).hasValue(498);
  }

  @Test
  void readsTooFarApartMeasureNothing() {
    bracket.onRead(1000, 1002, 400);
    assertThat(bracket.onRead(1100, 1103, 600)).isEmpty();
  }

  @Test
  void aPositionThatDidNotAdvanceMeasuresNothing() {
    bracket.onRead(1000, 1002, 400);
    assertThat(bracket.onRead(1010, 1012, 400)).isEmpty();
  }

  @Test
  void anOlderReadCompletingLateDoesNotMoveTheBracket() {
    bracket.onRead(1000, 1002, 400);
    bracket.onRead(990, 1004, 380); // sent earlier, returned later
    assertThat(bracket.onRead(1010, 1012, 410)).as("bracketed from the read sent at 1000").hasValue((1000 + 1012) / 2 - 410);
  }
}
