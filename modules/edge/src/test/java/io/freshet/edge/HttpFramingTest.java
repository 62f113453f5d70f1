package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.netty.buffer.Unpooled;
import io.netty.channel.embedded.EmbeddedChannel;
import io.netty.handler.codec.http.HttpRequest;
import io.netty.handler.codec.http.HttpVersion;
import io.vertx.core.http.HttpServerOptions;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What the edge's request decoder makes of request lines and framing before Vert.x sees them. */
class HttpFramingTest {

  private static HttpRequest decode(String text) {
    EmbeddedChannel channel = new EmbeddedChannel(new HttpFraming.StrictDecoder(new HttpServerOptions(), () -> {}));
    try {
      channel.writeInbound(Unpooled.copiedBuffer(text, StandardCharsets.ISO_8859_1));
      return channel.readInbound();
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void aHigherHttp1MinorVersionIsServedAsHttp11() {
    HttpRequest request = decode("GET /health HTTP/1.2\r\nHost: x\r\n\r\n");
    assertThat(request.decoderResult().isSuccess()).isTrue();
    assertThat(request.protocolVersion()).isSameAs(HttpVersion.HTTP_1_1);
    assertThat(decode("GET /health HTTP/1.0\r\n\r\n").protocolVersion()).isSameAs(HttpVersion.HTTP_1_0);
  }

  /** Vert.x would answer these with a bare 501 before any handler: a server error for a client's request line. */
  @Test
  void anyOtherVersionFailsTheRequestSoThatTheInvalidRequestHandlerAnswersIt() {
    for (String version : List.of("HTTP/2.0", "HTTP/9.9", "HTTP/0.9", "http/1.1", "HTTP/1.1.1", "XTTP/1.1")) {
      HttpRequest request = decode("GET /health " + version + "\r\nHost: x\r\n\r\n");
      assertThat(request.decoderResult().cause()).as(version).isInstanceOf(HttpFraming.UnsupportedVersion.class)
          .hasMessageContaining("send HTTP/1.1");
    }
  }

  /** The connection deadlines hear of every read, before it is decoded (a trickled request line is progress it has to see). */
  @Test
  void everyReadIsNotedBeforeItIsDecoded() {
    int[] reads = {0};
    EmbeddedChannel channel = new EmbeddedChannel(new HttpFraming.StrictDecoder(new HttpServerOptions(), () -> reads[0]++));
    try {
      channel.writeInbound(Unpooled.copiedBuffer("GET /hea", StandardCharsets.ISO_8859_1));
      assertThat(reads[0]).isEqualTo(1);
      assertThat((Object) channel.readInbound()).isNull();
      channel.writeInbound(Unpooled.copiedBuffer("lth HTTP/1.1\r\nHost: x\r\n\r\n", StandardCharsets.ISO_8859_1));
      assertThat(reads[0]).isEqualTo(2);
      assertThat((Object) channel.readInbound()).isInstanceOf(HttpRequest.class);
    } finally {
      channel.finishAndReleaseAll();
    }
  }

  @Test
  void bothFramingHeadersFailTheRequest() {
    HttpRequest request = decode("POST /x HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n");
    assertThat(request.decoderResult().cause()).isInstanceOf(HttpFraming.AmbiguousFraming.class);
  }
}
