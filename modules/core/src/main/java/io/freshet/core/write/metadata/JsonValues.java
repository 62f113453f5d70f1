package io.freshet.core.write.metadata;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.Objects;

/**
 * JSON value helpers with JavaScript's view of numbers: the SDK compares and adds metadata values
 * as IEEE doubles, so {@code 1} and {@code 1.0} are the same value here too.
 */
public final class JsonValues {

  /** Beyond 2^53 a double no longer holds every integer, so JavaScript prints it as a double. */
  private static final double MAX_SAFE_INTEGER = 9007199254740992d;

  private JsonValues() {}

  public static boolean isContainer(Object value) {
    return value instanceof JsonObject || value instanceof JsonArray;
  }

  /** A copy that shares no mutable JSON container with {@code value}. */
  public static Object copy(Object value) {
    if (value instanceof JsonObject object) {
      return object.copy();
    }
    if (value instanceof JsonArray array) {
      return array.copy();
    }
    return value;
  }

  /**
   * Structural equality as {@code dequal} sees parsed JSON: object key order does not matter, array
   * order does, and numbers compare by value whatever their Java type.
   */
  public static boolean deepEquals(Object a, Object b) {
    if (a == b) {
      return true;
    }
    if (a == null || b == null) {
      return false;
    }
    if (a instanceof Number x && b instanceof Number y) {
      return numbersEqual(x, y);
    }
    if (a instanceof JsonObject x && b instanceof JsonObject y) {
      return objectsEqual(x, y);
    }
    if (a instanceof JsonArray x && b instanceof JsonArray y) {
      return arraysEqual(x, y);
    }
    return Objects.equals(a, b);
  }

  /**
   * {@code a + b} as JavaScript computes it, stored the way JavaScript would print it: a whole
   * result becomes an Integer or Long (so it encodes as {@code 3}, not {@code 3.0}). A sum that
   * overflows to infinity is stored as null, which is what {@code JSON.stringify} writes for it.
   */
  public static Number add(Number a, Number b) {
    double sum = a.doubleValue() + b.doubleValue();
    if (Double.isNaN(sum) || Double.isInfinite(sum)) {
      return null;
    }
    if (sum == Math.rint(sum) && Math.abs(sum) <= MAX_SAFE_INTEGER) {
      long whole = (long) sum;
      if (whole >= Integer.MIN_VALUE && whole <= Integer.MAX_VALUE) {
        return (int) whole;
      }
      return whole;
    }
    return sum;
  }

  private static boolean numbersEqual(Number x, Number y) {
    if (isWhole(x) && isWhole(y)) {
      return x.longValue() == y.longValue();
    }
    return x.doubleValue() == y.doubleValue();
  }

  private static boolean isWhole(Number n) {
    return n instanceof Integer || n instanceof Long || n instanceof Short || n instanceof Byte;
  }

  private static boolean objectsEqual(JsonObject x, JsonObject y) {
    if (x.size() != y.size()) {
      return false;
    }
    for (String key : x.fieldNames()) {
      if (!y.containsKey(key) || !deepEquals(x.getValue(key), y.getValue(key))) {
        return false;
      }
    }
    return true;
  }

  private static boolean arraysEqual(JsonArray x, JsonArray y) {
    if (x.size() != y.size()) {
      return false;
    }
    for (int i = 0; i < x.size(); i++) {
      if (!deepEquals(x.getValue(i), y.getValue(i))) {
        return false;
      }
    }
    return true;
  }

  public static boolean isNumber(Object value) {
    return value instanceof Integer
        || value instanceof Long
        || value instanceof Double
        || value instanceof Float
        || value instanceof Short
        || value instanceof Byte
        || value instanceof BigDecimal
        || value instanceof BigInteger;
  }
}
