package io.freshet.core;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class ShapeHandleTest {

  @Test
  void aHandleThisServerIssuedRoundTrips() {
    ShapeHandle handle = ShapeHandle.tryParse("2k7stfx8-1-12-xf57js").orElseThrow();
    assertThat(handle.nodeId()).isEqualTo("2k7stfx8");
    assertThat(handle.routerIndex()).isEqualTo(1);
    assertThat(handle.toString()).isEqualTo("2k7stfx8-1-12-xf57js");
  }

  @Test
  void aHandleOfAnotherServersFormIsUnknownNotAnError() {
    // Electric's own handles look like this; a client switched over to Freshet may still send one.
    assertThat(ShapeHandle.tryParse("17431-1700000000000")).isEmpty();
    assertThat(ShapeHandle.tryParse("")).isEmpty();
    assertThat(ShapeHandle.tryParse(null)).isEmpty();
  }
}
