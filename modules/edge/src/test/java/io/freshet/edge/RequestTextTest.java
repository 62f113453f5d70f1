package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.vertx.core.buffer.Buffer;
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

  private static void refusedBody(Buffer body, String message) {
    assertThatThrownBy(() -> RequestText.jsonObject(body))
        .isInstanceOfSatisfying(FreshetException.class, e -> org.assertj.core.api.Assertions.assertThat(e.status()).isEqualTo(400))
        .hasMessageContaining(message);
  }

  private static Buffer bytes(String before, int[] middle, String after) {
    Buffer b = Buffer.buffer(before);
    for (int x : middle) {
      b.appendByte((byte) x);
    }
    return b.appendString(after);
  }

  /** Jackson alone would read an overlong C0 AF as "/" and store a slash nobody sent. */
  @Test
  void aBodyIsStrictUtf8AJsonObjectAndStorable() {
    refusedBody(bytes("{\"a\":\"", new int[] {0xC0, 0xAF}, "\"}"), "request body is not valid UTF-8");
    refusedBody(bytes("{\"a\":\"", new int[] {0xED, 0xA0, 0x80}, "\"}"), "request body is not valid UTF-8");
    refusedBody(bytes("{\"a\":\"", new int[] {0xF4, 0x90, 0x80, 0x80}, "\"}"), "request body is not valid UTF-8");
    refusedBody(Buffer.buffer("[1]"), "must be a JSON object");
    refusedBody(Buffer.buffer("{oops"), "is not valid JSON");
    refusedBody(Buffer.buffer("{\"a\":\"\\ud800\"}"), "lone surrogate");
    org.assertj.core.api.Assertions.assertThat(RequestText.jsonObject(Buffer.buffer("{\"a\":\"é中\\ud83d\\ude00\"}")))
        .isEqualTo(new JsonObject().put("a", "é中\ud83d\ude00"));
    org.assertj.core.api.Assertions.assertThat(RequestText.jsonObject(Buffer.buffer(" \n"))).isEqualTo(new JsonObject());
    org.assertj.core.api.Assertions.assertThat(RequestText.jsonObject(null)).isEqualTo(new JsonObject());
  }
}
