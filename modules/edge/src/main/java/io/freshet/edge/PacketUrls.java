package io.freshet.edge;

import io.freshet.core.FreshetException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;

/**
 * Packet paths and the presigned URLs that upload and download them. A presigned URL points at this
 * cluster ({@code /packets/{envId}/{path}?expires=..&signature=..}) and needs no key: the signature
 * is an HMAC, under the environment's secret key, of the method, the environment, the path and the
 * expiry, so it is good for that one packet, that one method, until it expires, on any node.
 */
public final class PacketUrls {

  static final int MAX_PATH_CHARS = 1024;
  static final String PREFIX = "/packets/";

  private PacketUrls() {}

  /**
   * A packet path as the SDK names them ({@code trigger/packet_abc/payload.json},
   * {@code run_abc-1/output.json}): relative, no empty, {@code .} or {@code ..} segment, no
   * backslash or control character. Anything else is a 400 (trigger.dev's own rules).
   */
  static String requireSafePath(String path) {
    if (path == null || path.isEmpty()) {
      throw FreshetException.badRequest("packet path is empty");
    }
    if (path.length() > MAX_PATH_CHARS) {
      throw FreshetException.badRequest("packet path: at most " + MAX_PATH_CHARS + " characters");
    }
    if (path.startsWith("/") || path.indexOf('\\') >= 0 || path.chars().anyMatch(c -> c < 0x20 || c == 0x7f)) {
      throw FreshetException.badRequest("packet path must be relative, without backslashes or control characters");
    }
    for (String segment : path.split("/", -1)) {
      if (segment.isEmpty() || segment.equals(".") || segment.equals("..")) {
        throw FreshetException.badRequest("packet path must not contain empty, '.' or '..' segments");
      }
    }
    return path;
  }

  /** The presigned URL for {@code method} on the packet, valid until {@code expiresS} (epoch seconds). */
  public static String presigned(String baseUrl, String secretKey, String method, String envId, String path, long expiresS) {
    StringBuilder url = new StringBuilder(baseUrl).append(PREFIX).append(encode(envId));
    for (String segment : path.split("/")) {
      url.append('/').append(encode(segment));
    }
    return url.append("?expires=").append(expiresS).append("&signature=").append(signature(secretKey, method, envId, path, expiresS))
        .toString();
  }

  /** Refuses (403) an expired URL or one whose signature does not cover this method, environment, path and expiry. */
  static void verify(String secretKey, String method, String envId, String path, String expires, String signature, long nowS) {
    long expiresS;
    try {
      expiresS = Long.parseLong(expires == null ? "" : expires);
    } catch (NumberFormatException e) {
      throw FreshetException.forbidden("presigned URL lacks a valid expires parameter");
    }
    byte[] expected = signature(secretKey, method, envId, path, expiresS).getBytes(StandardCharsets.US_ASCII);
    byte[] given = (signature == null ? "" : signature).getBytes(StandardCharsets.US_ASCII);
    if (!MessageDigest.isEqual(expected, given)) {
      throw FreshetException.forbidden("presigned URL signature does not match");
    }
    if (expiresS < nowS) {
      throw FreshetException.forbidden("presigned URL expired; ask for a new one");
    }
  }

  static String signature(String secretKey, String method, String envId, String path, long expiresS) {
    return HexFormat.of().formatHex(PublicTokens.hmac(secretKey, "packet\n" + method + "\n" + envId + "\n" + path + "\n" + expiresS));
  }

  private static String encode(String segment) {
    return URLEncoder.encode(segment, StandardCharsets.UTF_8).replace("+", "%20");
  }
}
