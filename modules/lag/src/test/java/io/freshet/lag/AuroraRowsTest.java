package io.freshet.lag;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class AuroraRowsTest {

  @Test
  void autoTrustsOnlyAuroraInstanceEndpoints() {
    assertThat(AuroraRows.AUTO.forHost("reader-2.c9akciq32.eu-west-1.rds.amazonaws.com")).isEqualTo(AuroraRows.OWN);
    assertThat(AuroraRows.AUTO.forHost("Reader-2.C9AKCIQ32.cn-north-1.rds.amazonaws.com.cn")).isEqualTo(AuroraRows.OWN);

    assertThat(AuroraRows.AUTO.forHost("runs.cluster-ro-c9akciq32.eu-west-1.rds.amazonaws.com")).as("reader endpoint").isEqualTo(AuroraRows.SLOWEST);
    assertThat(AuroraRows.AUTO.forHost("runs.cluster-custom-c9akciq32.eu-west-1.rds.amazonaws.com")).as("custom endpoint").isEqualTo(AuroraRows.SLOWEST);
    assertThat(AuroraRows.AUTO.forHost("runs-proxy.proxy-c9akciq32.eu-west-1.rds.amazonaws.com")).as("RDS Proxy").isEqualTo(AuroraRows.SLOWEST);
    assertThat(AuroraRows.AUTO.forHost("10.0.3.17")).as("may be a balancer").isEqualTo(AuroraRows.SLOWEST);
    assertThat(AuroraRows.AUTO.forHost("replica.db.internal")).isEqualTo(AuroraRows.SLOWEST);
  }

  @Test
  void anExplicitChoiceHoldsForEveryHost() {
    assertThat(AuroraRows.OWN.forHost("10.0.3.17")).isEqualTo(AuroraRows.OWN);
    assertThat(AuroraRows.SLOWEST.forHost("reader-2.c9akciq32.eu-west-1.rds.amazonaws.com")).isEqualTo(AuroraRows.SLOWEST);
  }

  @Test
  void parsesTheConfigValueAndRefusesOthersWithTheirName() {
    assertThat(AuroraRows.parse(" Own ")).isEqualTo(AuroraRows.OWN);
    assertThatThrownBy(() -> AuroraRows.parse("fastest")).hasMessageContaining("lag.auroraRows").hasMessageContaining("fastest");
  }
}
