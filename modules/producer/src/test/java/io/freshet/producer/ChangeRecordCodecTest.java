package io.freshet.producer;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.buffer.Buffer;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChangeRecordCodecTest {

  private final ChangeRecordCodec codec = new ChangeRecordCodec();

  private ChangeRecord roundTrip(ChangeRecord record) {
    Buffer buffer = Buffer.buffer().appendString("prefix");
    codec.encodeToWire(buffer, record);
    return codec.decodeFromWire(6, buffer);
  }

  @Test
  void fullRecordSurvivesTheWire() {
    ChangeRecord record = ChangeRecord.of("env_1", "run_ab", 1_700_000_000_123L, List.of("user:1", "ünïcode"), "batch_9");
    assertThat(roundTrip(record)).isEqualTo(record);
  }

  @Test
  void partialRecordWithoutWatermarkKeepsItsAbsences() {
    ChangeRecord record = new ChangeRecord("env_1", "run_ab", null, null, null);
    ChangeRecord decoded = roundTrip(record);
    assertThat(decoded).isEqualTo(record);
    assertThat(decoded.isFull()).isFalse();
    assertThat(decoded.hasWatermark()).isFalse();
  }

  @Test
  void emptyTagListIsStillAFullRecord() {
    ChangeRecord decoded = roundTrip(ChangeRecord.of("e", "r", 5L, List.of(), null));
    assertThat(decoded.isFull()).isTrue();
    assertThat(decoded.tags()).isEmpty();
  }

  @Test
  void aRecordCarryingItsRowKeepsEveryColumnNullsIncluded() {
    java.util.Map<String, String> columns = new java.util.LinkedHashMap<>();
    columns.put("status", "EXECUTING");
    columns.put("metadata", "{\"progress\":\"ü 50%\"}");
    columns.put("completedAt", null);
    ChangeRecord record = ChangeRecord.of("env_1", "run_ab", 7L, List.of("t"), null).withRow(new RowImage(columns));
    ChangeRecord decoded = roundTrip(record);
    assertThat(decoded).isEqualTo(record);
    assertThat(decoded.row().columns()).containsEntry("completedAt", null).containsKeys("status", "metadata");
  }

  @Test
  void aRecordWithoutARowIsWrittenInTheFormOlderNodesRead() {
    Buffer buffer = Buffer.buffer();
    codec.encodeToWire(buffer, ChangeRecord.of("e", "r", 5L, List.of(), null));
    assertThat(buffer.getByte(0)).isEqualTo((byte) 1);
    Buffer withRow = Buffer.buffer();
    codec.encodeToWire(withRow, ChangeRecord.of("e", "r", 5L, List.of(), null).withRow(new RowImage(java.util.Map.of("status", "QUEUED"))));
    assertThat(withRow.getByte(0)).isEqualTo((byte) 2);
  }
}
