package io.freshet.edge;

import io.freshet.core.FreshetException;
import io.vertx.core.buffer.Buffer;
import io.vertx.core.json.DecodeException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Text a request carries must be storable: PostgreSQL's text and jsonb cannot hold the NUL
 * character (a {@code \u0000} escape in JSON), nor a lone UTF-16 surrogate (a {@code \ud800}
 * escape without its pair: not a Unicode character, which the driver would write as {@code ?}),
 * and refusing them at the edge, for the whole request, is what keeps a bad item from failing
 * halfway through a write or being stored as something nobody sent.
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

  /**
   * A request body as a JSON object ({} when empty or blank), refused with a 400 unless it is
   * strict UTF-8, a JSON object, and storable ({@link #requireStorable}). Strict: Jackson decodes
   * some byte sequences that are not UTF-8 (an overlong {@code C0 AF} becomes "/"), which would
   * store text the client never sent; the JDK's decoder refuses them.
   */
  static JsonObject jsonObject(Buffer body) {
    if (body == null || body.length() == 0) {
      return new JsonObject();
    }
    String text = StreamRoutes.utf8(body, "request body");
    if (text.isBlank()) {
      return new JsonObject();
    }
    try {
      if (Json.decodeValue(text) instanceof JsonObject object) {
        requireStorable(object, "body");
        return object;
      }
      throw FreshetException.badRequest("request body must be a JSON object");
    } catch (DecodeException e) {
      throw FreshetException.badRequest("request body is not valid JSON: " + e.getMessage().lines().findFirst().orElse(""));
    }
  }

  /**
   * Throws 400 naming the first field (key or value, at any depth: tags, metadata, the payload)
   * that holds a NUL character or a lone surrogate.
   */
  static void requireStorable(Object json, String path) {
    if (json instanceof String s) {
      requireStorableText(s, path);
    } else if (json instanceof JsonObject object) {
      for (String key : object.fieldNames()) {
        requireStorableText(key, path + " (a key)");
        requireStorable(object.getValue(key), path + "." + key);
      }
    } else if (json instanceof JsonArray array) {
      for (int i = 0; i < array.size(); i++) {
        requireStorable(array.getValue(i), path + "[" + i + "]");
      }
    }
  }

  private static void requireStorableText(String s, String path) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '\u0000') {
        throw FreshetException.badRequest(path + " contains a NUL character (\\u0000), which cannot be stored");
      }
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c) && i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1))) {
          i++; // a pair: one character outside the BMP
          continue;
        }
        throw FreshetException.badRequest(path + " contains a lone surrogate (\\u" + Integer.toHexString(c)
            + "), which is not Unicode text and cannot be stored");
      }
    }
  }
}
