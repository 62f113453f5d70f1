package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PacketUrlsTest {

  private static final String KEY = "tr_dev_secret";
  private static final long NOW = 1_800_000_000L;

  private static Map<String, String> query(String url) {
    Map<String, String> out = new HashMap<>();
    for (String pair : URI.create(url).getRawQuery().split("&")) {
      int eq = pair.indexOf('=');
      out.put(pair.substring(0, eq), URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
    }
    return out;
  }

  private static int status(Runnable r) {
    try {
      r.run();
      return 200;
    } catch (FreshetException e) {
      return e.status();
    }
  }

  @Test
  void theSdksPathsAreSafeAndTraversalIsNot() {
    assertThatCode(() -> PacketUrls.requireSafePath("trigger/packet_abc123/payload.json")).doesNotThrowAnyException();
    assertThatCode(() -> PacketUrls.requireSafePath("run_abc-1/output.json")).doesNotThrowAnyException();
    for (String bad : new String[] {"", "/etc/passwd", "a/../b", "..", "a//b", "a/./b", "a\\b", "a/b/", "a\u0000b", "x".repeat(1025)}) {
      assertThat(status(() -> PacketUrls.requireSafePath(bad))).as(bad.length() > 40 ? "long path" : bad).isEqualTo(400);
    }
  }

  @Test
  void aPresignedUrlNamesTheEnvironmentAndThePathAndVerifiesForItsMethodUntilItExpires() {
    String url = PacketUrls.presigned("http://h:1", KEY, "PUT", "env_1", "trigger/packet 1/payload.json", NOW + 300);
    assertThat(url).startsWith("http://h:1/packets/env_1/trigger/packet%201/payload.json?expires=" + (NOW + 300) + "&signature=");
    Map<String, String> q = query(url);
    assertThatCode(() -> PacketUrls.verify(KEY, "PUT", "env_1", "trigger/packet 1/payload.json", q.get("expires"), q.get("signature"), NOW))
        .doesNotThrowAnyException();
    // Every part is covered: another method, environment, path, expiry or key is refused.
    assertThat(status(() -> PacketUrls.verify(KEY, "GET", "env_1", "trigger/packet 1/payload.json", q.get("expires"), q.get("signature"), NOW)))
        .isEqualTo(403);
    assertThat(status(() -> PacketUrls.verify(KEY, "PUT", "env_2", "trigger/packet 1/payload.json", q.get("expires"), q.get("signature"), NOW)))
        .isEqualTo(403);
    assertThat(status(() -> PacketUrls.verify(KEY, "PUT", "env_1", "trigger/packet 2/payload.json", q.get("expires"), q.get("signature"), NOW)))
        .isEqualTo(403);
    assertThat(status(() -> PacketUrls.verify(KEY, "PUT", "env_1", "trigger/packet 1/payload.json", "" + (NOW + 9999), q.get("signature"), NOW)))
        .isEqualTo(403);
    assertThat(status(() -> PacketUrls.verify("tr_dev_other", "PUT", "env_1", "trigger/packet 1/payload.json", q.get("expires"), q.get("signature"), NOW)))
        .isEqualTo(403);
    assertThat(status(() -> PacketUrls.verify(KEY, "PUT", "env_1", "trigger/packet 1/payload.json", "soon", q.get("signature"), NOW)))
        .isEqualTo(403);
    assertThatThrownBy(() -> PacketUrls.verify(KEY, "PUT", "env_1", "trigger/packet 1/payload.json", q.get("expires"), q.get("signature"), NOW + 301))
        .isInstanceOf(FreshetException.class).hasMessageContaining("expired");
  }

  /** A presigned URL's host is configuration or the request's own Host, never a forwarded header, never a Host that is not a host. */
  @Test
  void presignedUrlsPointAtTheConfiguredOriginOrTheRequestsOwnPlainHost() {
    assertThat(PacketRoutes.baseUrl("https://packets.example", "https://api.example", "http", "evil.example")).isEqualTo("https://packets.example");
    assertThat(PacketRoutes.baseUrl("", "https://api.example", "http", "evil.example")).isEqualTo("https://api.example");
    assertThat(PacketRoutes.baseUrl("", "", "http", "127.0.0.1:3030")).isEqualTo("http://127.0.0.1:3030");
    assertThat(PacketRoutes.baseUrl("", "", "https", "api.example.com")).isEqualTo("https://api.example.com");
    assertThat(PacketRoutes.baseUrl("", "", "http", "[::1]:3030")).isEqualTo("http://[::1]:3030");
    for (String host : new String[] {null, "", "evil.example/x", "user@evil.example", "evil.example:80:81", "a b", "evil.example\\x",
        "evil.example#", "evil.example?x"}) {
      assertThat(status(() -> PacketRoutes.baseUrl("", "", "http", host))).as(String.valueOf(host)).isEqualTo(400);
    }
  }
}
