package io.freshet.core.write.metadata;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.freshet.core.write.metadata.MetadataOperation.Kind;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class MetadataOperationParseTest {

  private static List<MetadataOperation> parse(String ops) {
    return MetadataOperation.parseAll("operations", new JsonArray(ops));
  }

  private static void assertRejected(String ops, String... messageParts) {
    assertThatThrownBy(() -> parse(ops))
        .isInstanceOf(FreshetException.class)
        .satisfies(e -> assertThat(((FreshetException) e).status()).isEqualTo(400))
        .message()
        .contains(messageParts);
  }

  @Test
  void parsesEveryKnownOperation() {
    List<MetadataOperation> ops =
        parse(
            "[{\"type\":\"update\",\"value\":{\"a\":1}},"
                + "{\"type\":\"set\",\"key\":\"a\",\"value\":null},"
                + "{\"type\":\"delete\",\"key\":\"a\"},"
                + "{\"type\":\"append\",\"key\":\"$.a.b\",\"value\":[1]},"
                + "{\"type\":\"remove\",\"key\":\"a\",\"value\":{\"k\":1}},"
                + "{\"type\":\"increment\",\"key\":\"n\",\"value\":-1.5}]");
    assertThat(ops)
        .extracting(MetadataOperation::kind)
        .containsExactly(Kind.UPDATE, Kind.SET, Kind.DELETE, Kind.APPEND, Kind.REMOVE, Kind.INCREMENT);
    assertThat(ops.get(0).value()).isEqualTo(new JsonObject().put("a", 1));
    assertThat(ops.get(1).value()).isNull();
    assertThat(ops.get(3).key()).isEqualTo("$.a.b");
    assertThat(ops.get(5).value()).isEqualTo(-1.5);
  }

  @Test
  void emptyArrayParsesToNoOperations() {
    assertThat(parse("[]")).isEmpty();
  }

  @Test
  void anUnknownTypeIsRefusedSoNothingOfTheRequestIsApplied() {
    assertThatThrownBy(() -> parse("[{\"type\":\"set\",\"key\":\"a\",\"value\":1},{\"type\":\"merge\",\"key\":\"a\"}]"))
        .isInstanceOf(FreshetException.class).hasMessageContaining("operations[1]").hasMessageContaining("unknown type \"merge\"");
  }

  @Test
  void toJsonGivesTheWireShapeBack() {
    String wire = "{\"type\":\"increment\",\"key\":\"n\",\"value\":2}";
    assertThat(parse("[" + wire + "]").get(0).toJson().encode()).isEqualTo(wire);
    assertThat(MetadataOperation.delete("a").toJson().encode()).isEqualTo("{\"type\":\"delete\",\"key\":\"a\"}");
    assertThat(MetadataOperation.set("a", null).toJson().encode())
        .isEqualTo("{\"type\":\"set\",\"key\":\"a\",\"value\":null}");
  }

  @Test
  void elementThatIsNotAnObjectIsRejectedWithItsIndex() {
    assertRejected("[{\"type\":\"delete\",\"key\":\"a\"}, 5]", "operations[1]", "must be an object");
    assertRejected("[null]", "operations[0]", "must be an object");
    assertRejected("[[]]", "operations[0]", "must be an object");
  }

  @Test
  void missingOrNonStringTypeIsRejected() {
    assertRejected("[{\"key\":\"a\",\"value\":1}]", "operations[0]", "\"type\"");
    assertRejected("[{\"type\":1,\"key\":\"a\"}]", "operations[0]", "\"type\"");
    assertRejected("[{\"type\":null}]", "operations[0]", "\"type\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"set", "delete", "append", "remove", "increment"})
  void keyOperationWithoutStringKeyIsRejected(String type) {
    assertRejected("[{\"type\":\"" + type + "\",\"value\":1}]", "operations[0]", type, "\"key\"");
    assertRejected(
        "[{\"type\":\"" + type + "\",\"key\":3,\"value\":1}]", "operations[0]", type, "\"key\"");
  }

  @ParameterizedTest
  @ValueSource(strings = {"set", "append", "remove"})
  void valueOperationWithoutValueIsRejected(String type) {
    assertRejected("[{\"type\":\"" + type + "\",\"key\":\"a\"}]", "operations[0]", "\"value\"");
  }

  @Test
  void incrementWithNonNumberValueIsRejected() {
    assertRejected("[{\"type\":\"increment\",\"key\":\"n\",\"value\":\"1\"}]", "operations[0]", "number");
    assertRejected("[{\"type\":\"increment\",\"key\":\"n\",\"value\":null}]", "number");
    assertRejected("[{\"type\":\"increment\",\"key\":\"n\"}]", "number");
  }

  @Test
  void updateWithNonObjectValueIsRejected() {
    assertRejected("[{\"type\":\"update\",\"value\":[1]}]", "operations[0]", "object");
    assertRejected("[{\"type\":\"update\",\"value\":\"x\"}]", "object");
    assertRejected("[{\"type\":\"update\"}]", "object");
  }

  @Test
  void bareDollarDotKeyIsRejected() {
    assertRejected("[{\"type\":\"set\",\"key\":\"$.\",\"value\":1}]", "operations[0]", "$.");
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "$.__proto__",
        "$.a.__proto__",
        "$.constructor",
        "$.a.prototype.b",
        "$.a.constructor",
        "$.a\\\\.__proto__"
      })
  void pathWithPrototypeSegmentIsRejected(String key) {
    String op = new JsonObject().put("type", "set").put("key", key).put("value", 1).encode();
    assertRejected("[" + op + "]", "operations[0]", "forbidden segment");
  }

  @Test
  void plainProtoKeyIsRejected() {
    assertRejected("[{\"type\":\"delete\",\"key\":\"__proto__\"}]", "operations[0]", "__proto__");
  }

  @Test
  void plainConstructorAndPrototypeKeysAreOrdinaryFields() {
    assertThat(parse("[{\"type\":\"set\",\"key\":\"constructor\",\"value\":1},"
            + "{\"type\":\"set\",\"key\":\"prototype\",\"value\":1}]"))
        .hasSize(2);
  }

  @ParameterizedTest
  @ValueSource(strings = {"$.a..b", "$.a.", "$..a"})
  void pathWithEmptySegmentIsRejected(String key) {
    String op = new JsonObject().put("type", "increment").put("key", key).put("value", 1).encode();
    assertRejected("[" + op + "]", "empty segment");
  }

  @Test
  void keysThatOnlyLookLikePathsAreLiteral() {
    assertThat(parse("[{\"type\":\"set\",\"key\":\"$\",\"value\":1},"
            + "{\"type\":\"set\",\"key\":\"$a.b\",\"value\":1},"
            + "{\"type\":\"set\",\"key\":\"a..b\",\"value\":1}]"))
        .hasSize(3);
  }

  @Test
  void errorNamesTheFieldItCameFrom() {
    assertThatThrownBy(() -> MetadataOperation.parseAll("parentOperations", new JsonArray("[1]")))
        .hasMessageContaining("parentOperations[0]");
  }
}
