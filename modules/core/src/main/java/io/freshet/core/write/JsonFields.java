package io.freshet.core.write;

import io.freshet.core.FreshetException;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;

/**
 * Typed reads of request JSON that fail with a 400 naming the field, so a malformed body is a
 * client error and never a {@link ClassCastException} turned into a 500.
 */
public final class JsonFields {

  private JsonFields() {}

  public static JsonObject object(Object value, String field) {
    if (value instanceof JsonObject object) {
      return object;
    }
    throw FreshetException.badRequest(field + " must be a JSON object");
  }

  /** The object at {@code key}, or an empty one when absent or null. */
  public static JsonObject optObject(JsonObject json, String key, String field) {
    Object value = json.getValue(key);
    return value == null ? new JsonObject() : object(value, field);
  }

  public static String requiredString(JsonObject json, String key, String field) {
    Object value = json.getValue(key);
    if (value instanceof String s && !s.isEmpty()) {
      return s;
    }
    throw FreshetException.badRequest(field + " is required and must be a non-empty string");
  }

  public static String optString(JsonObject json, String key, String field) {
    Object value = json.getValue(key);
    if (value == null || value instanceof String) {
      return (String) value;
    }
    throw FreshetException.badRequest(field + " must be a string");
  }

  public static Boolean optBoolean(JsonObject json, String key, String field) {
    Object value = json.getValue(key);
    if (value == null || value instanceof Boolean) {
      return (Boolean) value;
    }
    throw FreshetException.badRequest(field + " must be a boolean");
  }

  public static JsonArray optArray(JsonObject json, String key, String field) {
    Object value = json.getValue(key);
    if (value == null || value instanceof JsonArray) {
      return (JsonArray) value;
    }
    throw FreshetException.badRequest(field + " must be an array");
  }

  /** A whole number (JSON {@code 3} or {@code 3.0}), or null when absent. */
  public static Long optWhole(JsonObject json, String key, String field) {
    Object value = json.getValue(key);
    if (value == null) {
      return null;
    }
    if (value instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && !Double.isInfinite(n.doubleValue())) {
      return n.longValue();
    }
    throw FreshetException.badRequest(field + " must be an integer");
  }

  public static String limited(String value, int maxChars, String field) {
    if (value != null && value.length() > maxChars) {
      throw FreshetException.badRequest(field + " must be at most " + maxChars + " characters");
    }
    return value;
  }
}
