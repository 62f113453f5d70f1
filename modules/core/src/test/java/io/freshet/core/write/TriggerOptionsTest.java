package io.freshet.core.write;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import org.junit.jupiter.api.Test;

/** Durations, delays, ttl and tags of a trigger's options: plain parsing, no database. */
class TriggerOptionsTest {

  static final Instant NOW = Instant.parse("2025-01-01T12:00:00Z");
  static final TriggerRequest.Limits LIMITS = new TriggerRequest.Limits(10, 1024);

  @Test
  void durationsAddUpEveryUnit() {
    assertThat(Durations.parse("30s")).isEqualTo(Duration.ofSeconds(30));
    assertThat(Durations.parse("1h30m")).isEqualTo(Duration.ofMinutes(90));
    assertThat(Durations.parse("2hr")).isEqualTo(Duration.ofHours(2));
    assertThat(Durations.parse("1w1d")).isEqualTo(Duration.ofDays(8));
    assertThat(Durations.parse("1x")).isNull();
    assertThat(Durations.parse("h")).isNull();
    assertThat(Durations.parse("99999999999999999999d")).isNull();
  }

  @Test
  void delayIsADurationFromNowOrAFutureDate() {
    assertThat(Durations.delayUntil("1h", NOW)).isEqualTo(LocalDateTime.parse("2025-01-01T13:00:00"));
    assertThat(Durations.delayUntil("2025-01-02T00:00:00.000Z", NOW)).isEqualTo(LocalDateTime.parse("2025-01-02T00:00:00"));
    assertThat(Durations.delayUntil("2025-01-01T14:00:00+02:00", NOW)).isNull();
    assertThat(Durations.delayUntil("2020-01-01T00:00:00Z", NOW)).isNull();
    assertThat(Durations.delayUntil("0s", NOW)).isNull();
    assertThatThrownBy(() -> Durations.delayUntil("tomorrow", NOW)).isInstanceOf(FreshetException.class);
  }

  @Test
  void ttlKeepsDurationStringsAndTurnsSecondsIntoOne() {
    assertThat(Durations.ttl("10m")).isEqualTo("10m");
    assertThat(Durations.ttl(600)).isEqualTo("600s");
    assertThatThrownBy(() -> Durations.ttl("ten minutes")).isInstanceOf(FreshetException.class);
    assertThatThrownBy(() -> Durations.ttl(1.5)).isInstanceOf(FreshetException.class);
  }

  @Test
  void tagsAreTrimmedDedupedAndBlanksDropped() {
    assertThat(RunTags.normalize(new JsonArray().add(" a ").add("b").add("a").add("  "), "tags")).containsExactly("a", "b");
    assertThat(RunTags.normalize("solo", "tags")).containsExactly("solo");
    assertThat(RunTags.normalize(null, "tags")).isEmpty();
    assertThatThrownBy(() -> RunTags.normalize(new JsonArray().add(1), "tags"))
        .isInstanceOf(FreshetException.class).hasMessageContaining("tags");
  }

  @Test
  void elevenTagsAre422() {
    JsonArray tags = new JsonArray();
    for (int i = 0; i < 11; i++) {
      tags.add("t" + i);
    }
    assertThatThrownBy(() -> TriggerRequest.parse("t", new JsonObject().put("options", new JsonObject().put("tags", tags)), "", LIMITS, NOW))
        .isInstanceOfSatisfying(FreshetException.class, e -> assertThat(e.status()).isEqualTo(422));
  }

  @Test
  void batchItemErrorsNameTheItem() {
    assertThatThrownBy(() -> TriggerRequest.parse("t", new JsonObject().put("options", new JsonObject().put("test", 1)), "items[4].", LIMITS, NOW))
        .hasMessageContaining("items[4].options.test");
  }
}
