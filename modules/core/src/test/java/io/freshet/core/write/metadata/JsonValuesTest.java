package io.freshet.core.write.metadata;

import static org.assertj.core.api.Assertions.assertThat;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.math.BigDecimal;
import org.junit.jupiter.api.Test;

class JsonValuesTest {

  @Test
  void numbersAreEqualByValueAcrossJavaTypes() {
    assertThat(JsonValues.deepEquals(1, 1.0d)).isTrue();
    assertThat(JsonValues.deepEquals(1L, 1)).isTrue();
    assertThat(JsonValues.deepEquals(new BigDecimal("2.50"), 2.5d)).isTrue();
    assertThat(JsonValues.deepEquals(1, 2)).isFalse();
  }

  @Test
  void valuesOfDifferentJsonTypesAreNeverEqual() {
    assertThat(JsonValues.deepEquals(1, "1")).isFalse();
    assertThat(JsonValues.deepEquals(true, 1)).isFalse();
    assertThat(JsonValues.deepEquals(null, false)).isFalse();
    assertThat(JsonValues.deepEquals(new JsonArray(), new JsonObject())).isFalse();
  }

  @Test
  void objectsIgnoreKeyOrderButNotMissingKeys() {
    assertThat(JsonValues.deepEquals(new JsonObject("{\"a\":1,\"b\":[1,{}]}"), new JsonObject("{\"b\":[1.0,{}],\"a\":1}")))
        .isTrue();
    assertThat(JsonValues.deepEquals(new JsonObject("{\"a\":null}"), new JsonObject("{}"))).isFalse();
  }

  @Test
  void arraysCompareInOrder() {
    assertThat(JsonValues.deepEquals(new JsonArray("[1,2]"), new JsonArray("[2,1]"))).isFalse();
    assertThat(JsonValues.deepEquals(new JsonArray("[1,2]"), new JsonArray("[1,2,3]"))).isFalse();
  }

  @Test
  void additionKeepsWholeNumbersWhole() {
    assertThat(JsonValues.add(1, 2)).isEqualTo(3);
    assertThat(JsonValues.add(Integer.MAX_VALUE, 1)).isEqualTo(2147483648L);
    assertThat(JsonValues.add(0.5d, 0.25d)).isEqualTo(0.75d);
  }

  @Test
  void additionOverflowingToInfinityStoresNullAsJsonStringifyWould() {
    assertThat(JsonValues.add(Double.MAX_VALUE, Double.MAX_VALUE)).isNull();
  }
}
