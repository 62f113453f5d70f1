package io.freshet.core;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.LocalDateTime;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class PgTextTest {

  @Test
  void timestampsAreUtcWithoutAZoneSoTheClientCanAppendOne() {
    assertThat(PgText.timestamp(LocalDateTime.of(2025, 1, 2, 3, 4, 5, 60_000_000))).isEqualTo("2025-01-02T03:04:05.060");
  }

  @Test
  void arraysQuoteOnlyWhatPostgresWouldQuote() {
    assertThat(PgText.array(List.of("user:1", "b c", "", "q\"x", "NULL"))).isEqualTo("{user:1,\"b c\",\"\",\"q\\\"x\",\"NULL\"}");
    assertThat(PgText.array(Arrays.asList("a", null))).isEqualTo("{a,NULL}");
    assertThat(PgText.array(List.of())).isEqualTo("{}");
  }

  @Test
  void wholeNumbersPrintWithoutAFraction() {
    assertThat(PgText.number(0)).isEqualTo("0");
    assertThat(PgText.number(1.5)).isEqualTo("1.5");
  }

  @Test
  void skippingAReservedColumnKeepsIt() {
    assertThat(RunColumn.selecting(List.of("payload", "status"))).contains(RunColumn.STATUS).doesNotContain(RunColumn.PAYLOAD);
  }

  @Test
  void anUnknownSkippedColumnSkipsNothingAsTriggerDevDoes() {
    assertThat(RunColumn.selecting(List.of("nope", "payload"))).isEqualTo(RunColumn.selecting(List.of("payload")));
    assertThat(RunColumn.selecting(List.of("nope"))).isEqualTo(RunColumn.ALL);
  }

  @Test
  void everyConfigKeyHasAnEnvironmentName() {
    assertThat(FreshetConfig.GATE_MARGIN_MS.envName()).isEqualTo("FRESHET_GATE_MARGIN_MS");
    assertThat(FreshetConfig.DB_REPLICA_URI.envName()).isEqualTo("FRESHET_DB_REPLICA_URI");
  }
}
