package io.freshet.api;

import io.freshet.core.FreshetException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Text a request carries must be storable: PostgreSQL's text and jsonb cannot hold the NUL
 * character (a {@code \u0000} escape in JSON), and refusing it at the edge, for the whole request,
 * is what keeps a bad item from failing halfway through a write.
 */
final class RequestText {

  private RequestText() {}

  /**
   * Throws 400 when the raw query string's percent-encoded bytes are not UTF-8 (Vert.x would
   * decode them to replacement characters, and {@code tags=%FF} would become a tag nobody wrote).
   */
  static void requireUtf8Query(String rawQuery) {
    if (rawQuery == null || rawQuery.indexOf('%') < 0) {
      return;
    }
    java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(rawQuery.length());
    for (int i = 0; i < rawQuery.length(); i++) {
      char c = rawQuery.charAt(i);
      if (c == '%' && i + 2 < rawQuery.length()
          && Character.digit(rawQuery.charAt(i + 1), 16) >= 0 && Character.digit(rawQuery.charAt(i + 2), 16) >= 0) {
        bytes.write(Character.digit(rawQuery.charAt(i + 1), 16) * 16 + Character.digit(rawQuery.charAt(i + 2), 16));
        i += 2;
      } else if (c == '%') {
        throw FreshetException.badRequest("the query string has a malformed percent-escape");
      } else {
        bytes.write(c < 0x80 ? c : '?');
      }
    }
    try {
      java.nio.charset.StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(java.nio.charset.CodingErrorAction.REPORT).onUnmappableCharacter(java.nio.charset.CodingErrorAction.REPORT)
          .decode(java.nio.ByteBuffer.wrap(bytes.toByteArray()));
    } catch (java.nio.charset.CharacterCodingException e) {
      throw FreshetException.badRequest("the query string is not valid UTF-8 once decoded");
    }
  }

  /** Throws 400 naming the first field (key or value) that holds a NUL character. */
  static void rejectNul(Object json, String path) {
    if (json instanceof String s) {
      if (s.indexOf('\u0000') >= 0) {
        throw FreshetException.badRequest(path + " contains a NUL character (\\u0000), which cannot be stored");
      }
    } else if (json instanceof JsonObject object) {
      for (String key : object.fieldNames()) {
        rejectNul(key, path + " (a key)");
        rejectNul(object.getValue(key), path + "." + key);
      }
    } else if (json instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        rejectNul(array.getValue(i), path + "[" + i + "]");
      }
    }
  }
}
