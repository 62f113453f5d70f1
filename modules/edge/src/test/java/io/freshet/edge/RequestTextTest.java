package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

/** Text PostgreSQL cannot store is refused at the edge, naming where it is, never stored as something else. */
class RequestTextTest {

  private static void refused(String json, String where) {
    assertThatThrownBy(() -> RequestText.requireStorable(new JsonObject(json), "body"))
        .isInstanceOfSatisfying(FreshetException.class, e -> org.assertj.core.api.Assertions.assertThat(e.status()).isEqualTo(400))
        .hasMessageStartingWith(where);
  }

  @Test
  void aLoneSurrogateAnywhereIsRefusedWithWhereItIs() {
    refused("{\"tags\":[\"ok\",\"\\ud800x\"]}", "body.tags[1] contains a lone surrogate (\\ud800)");
    refused("{\"options\":{\"tags\":\"\\udc00\"}}", "body.options.tags contains a lone surrogate (\\udc00)");
    refused("{\"metadata\":{\"k\\ud83d\":1}}", "body.metadata (a key) contains a lone surrogate");
    refused("{\"payload\":\"{\\\"a\\\":\\\"x\\ud800\\\"}\"}", "body.payload contains a lone surrogate");
    refused("{\"a\":\"\\ud800\\ud800\"}", "body.a contains a lone surrogate");
    refused("{\"a\":\"x\\u0000\"}", "body.a contains a NUL character");
  }

  @Test
  void surrogatePairsAndOtherTextAreStored() {
    assertThatCode(() -> RequestText.requireStorable(new JsonObject("{\"tags\":[\"\\ud83d\\ude00\",\"é\",\"中\"],\"n\":1,\"b\":true,\"z\":null}"),
        "body")).doesNotThrowAnyException();
  }
}
