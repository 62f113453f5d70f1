package io.freshet.publisher;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.RunStatuses;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** How a stored run reads back through the API: status mapping and packets, no database. */
class RunResponsesTest {

  @Test
  void rawStatusesMapToTheApiStatusesAndEveryTerminalOneIsCompleted() {
    assertThat(RunStatuses.apiStatus("PENDING")).isEqualTo("QUEUED");
    assertThat(RunStatuses.apiStatus("COMPLETED_SUCCESSFULLY")).isEqualTo("COMPLETED");
    assertThat(RunStatuses.apiStatus("COMPLETED_WITH_ERRORS")).isEqualTo("FAILED");
    assertThat(RunStatuses.apiStatus("WAITING_TO_RESUME")).isEqualTo("WAITING");
    assertThat(RunStatuses.apiStatus("SOMETHING_NEW")).isEqualTo("QUEUED");
    for (String raw : RunWrites.FINAL_STATUSES) {
      assertThat(RunStatuses.isCompleted(RunStatuses.apiStatus(raw))).as(raw).isTrue();
    }
  }

  @Test
  void packetsComeBackAsTheSdkParsesThem() {
    assertThat(RunRetrieval.packet("{\"json\":{\"a\":1},\"meta\":{}}", "application/super+json")).isEqualTo(new JsonObject().put("a", 1));
    assertThat(RunRetrieval.packet("[1,2]", "application/json")).isEqualTo(new JsonArray().add(1).add(2));
    assertThat(RunRetrieval.packet("hello", "text/plain")).isEqualTo("hello");
    assertThat(RunRetrieval.packet("packets/x.json", "application/store")).isNull();
  }
}
