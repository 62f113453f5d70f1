package io.freshet.edge;

import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelOutboundBuffer;
import io.netty.channel.ChannelPipeline;
import io.netty.handler.codec.http.HttpMessage;
import io.vertx.core.http.HttpConnection;
import io.vertx.core.http.HttpServerOptions;
import io.vertx.core.http.impl.VertxHttpRequestDecoder;
import io.vertx.core.net.impl.ConnectionBase;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The two things the edge needs from an HTTP/1 connection below Vert.x's public API, kept in this
 * one class: a request decoder that refuses ambiguous framing and tells {@link ConnectionDeadlines}
 * when bytes arrive. It replaces Vert.x's decoder when the connection opens, before its first byte
 * is decoded. (The read notice lives in the decoder, not in a handler of its own: a pipeline
 * handler costs about 100 bytes of heap per connection, and a node holds tens of thousands.)
 *
 * <p>Framing: a request with both {@code Content-Length} and {@code Transfer-Encoding} is how a
 * request is smuggled past a proxy that reads the other header. RFC 9112 (6.1, 6.3) lets a server
 * reject it and says it must then close the connection. Netty's decoder instead drops the
 * {@code Content-Length} and carries on, leaving no trace Vert.x could see; so the decoder is
 * replaced by one that fails the request, which Vert.x hands to the server's invalid-request
 * handler (a 400 with {@code Connection: close}).
 */
final class HttpFraming {

  private static final Logger log = LoggerFactory.getLogger(HttpFraming.class);
  /** The names Vert.x 5 gives its HTTP/1 server decoder and handlers in the channel pipeline. */
  private static final String DECODER = "httpDecoder";
  private static volatile boolean warned;

  private HttpFraming() {}

  /** Thrown by the decoder for a request with both framing headers; the invalid-request handler answers it. */
  static final class AmbiguousFraming extends IllegalArgumentException {
    AmbiguousFraming() {
      super("a request may not carry both Content-Length and Transfer-Encoding");
    }
  }

  /** Thrown by the decoder for a request line naming an HTTP version other than 1.x; the invalid-request handler answers it. */
  static final class UnsupportedVersion extends IllegalArgumentException {
    UnsupportedVersion(String version) {
      super("HTTP version " + (version.length() > 16 ? version.substring(0, 16) + "…" : version) + " is not supported: send HTTP/1.1");
    }
  }

  /**
   * Vert.x's decoder, refusing ambiguous framing instead of silently preferring Transfer-Encoding,
   * taking request lines of any HTTP/1 minor version, and noting each read before decoding it.
   */
  static final class StrictDecoder extends VertxHttpRequestDecoder {
    private static final java.util.regex.Pattern HTTP_1 = java.util.regex.Pattern.compile("HTTP/1\\.\\d+");
    private final Runnable onRead;

    StrictDecoder(HttpServerOptions options, Runnable onRead) {
      super(options);
      this.onRead = onRead;
    }

    @Override
    public void channelRead(ChannelHandlerContext ctx, Object msg) throws Exception {
      onRead.run();
      super.channelRead(ctx, msg);
    }

    @Override
    protected void handleTransferEncodingChunkedWithContentLength(HttpMessage message) {
      throw new AmbiguousFraming();
    }

    /**
     * Vert.x answers a version it has no name for (anything but HTTP/1.0 and 1.1) with a bare 501,
     * before any handler runs: a server error for a client's request line. RFC 9112 (2.6) says a
     * higher minor version is served as the highest one implemented, so {@code HTTP/1.2} is read
     * as 1.1; any other version ({@code HTTP/2.0} as text, {@code HTTP/9.9}) fails the request,
     * which the invalid-request handler answers with a JSON 400 and a close.
     */
    @Override
    protected HttpMessage createMessage(String[] initialLine) {
      String version = initialLine[2];
      if (!version.equals("HTTP/1.1") && !version.equals("HTTP/1.0")) {
        if (!HTTP_1.matcher(version).matches()) {
          throw new UnsupportedVersion(version);
        }
        initialLine[2] = "HTTP/1.1";
      }
      return super.createMessage(initialLine);
    }
  }

  /**
   * Installs the strict decoder on a connection that just opened; returns the
   * deadlines' view of it. Without access to the channel (a Vert.x that changed its internals),
   * the connection keeps Vert.x's decoder and is seen without its reads: logged once.
   */
  static ConnectionDeadlines.Connection install(HttpConnection connection, HttpServerOptions options, Runnable onRead) {
    if (!(connection instanceof ConnectionBase base)) {
      warnOnce("is not a ConnectionBase: " + connection.getClass().getName());
      return deadlinesView(connection, null);
    }
    Channel channel = base.channel();
    ChannelPipeline pipeline = channel.pipeline();
    if (pipeline.get(DECODER) instanceof VertxHttpRequestDecoder) {
      pipeline.replace(DECODER, DECODER, new StrictDecoder(options, onRead));
    } else {
      warnOnce("has no Vert.x request decoder named " + DECODER);
    }
    return deadlinesView(connection, channel);
  }

  private static ConnectionDeadlines.Connection deadlinesView(HttpConnection connection, Channel channel) {
    return new ConnectionDeadlines.Connection() {
      @Override
      public void close() {
        connection.close();
      }

      @Override
      public long outboundPending() {
        if (channel == null) {
          return 0;
        }
        ChannelOutboundBuffer buffer = channel.unsafe().outboundBuffer();
        return buffer == null ? 0 : buffer.totalPendingWriteBytes();
      }
    };
  }

  private static void warnOnce(String what) {
    if (!warned) {
      warned = true;
      log.warn("HTTP connection {}: ambiguous framing is not refused and reads are not seen by the connection deadlines", what);
    }
  }
}
