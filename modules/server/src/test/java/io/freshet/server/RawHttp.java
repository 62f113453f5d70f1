package io.freshet.server;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * One raw TCP connection to a node, for what Java's HttpClient will not send (a malformed escape,
 * both framing headers, a request that never ends) and for watching the server close it. Reads
 * give up after a minute: a hang guard that fails the test, not a latency assertion.
 */
final class RawHttp implements AutoCloseable {

  private final Socket socket;

  RawHttp(int port) {
    try {
      socket = new Socket("127.0.0.1", port);
      socket.setSoTimeout(60_000);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  RawHttp send(String text) {
    try {
      socket.getOutputStream().write(text.getBytes(StandardCharsets.UTF_8));
      socket.getOutputStream().flush();
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Whether writing still works (false once the server has closed the connection and the reset came back). */
  boolean sendQuietly(String text) {
    try {
      send(text);
      return true;
    } catch (UncheckedIOException e) {
      return false;
    }
  }

  /** Everything the server sends until it closes the connection ("" when it closes without a byte). */
  String readUntilClosed() {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    try {
      InputStream in = socket.getInputStream();
      byte[] buffer = new byte[8192];
      for (int n; (n = in.read(buffer)) >= 0; ) {
        out.write(buffer, 0, n);
      }
    } catch (java.net.SocketException reset) {
      // a reset is a close too
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return out.toString(StandardCharsets.UTF_8);
  }

  /** One response with a Content-Length body, leaving the connection open. */
  String readResponse() {
    try {
      InputStream in = socket.getInputStream();
      StringBuilder head = new StringBuilder();
      while (!head.toString().endsWith("\r\n\r\n")) {
        int c = in.read();
        if (c < 0) {
          throw new IOException("closed mid-response: " + head);
        }
        head.append((char) c);
      }
      int length = 0;
      for (String line : head.toString().split("\r\n")) {
        if (line.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
          length = Integer.parseInt(line.substring(15).trim());
        }
      }
      byte[] body = in.readNBytes(length);
      return head + new String(body, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static int status(String response) {
    return Integer.parseInt(response.substring(9, 12));
  }

  /** The body after the head of a response read whole. */
  static String body(String response) {
    int at = response.indexOf("\r\n\r\n");
    return at < 0 ? "" : response.substring(at + 4);
  }

  @Override
  public void close() {
    try {
      socket.close();
    } catch (IOException e) {
      // closing
    }
  }
}
