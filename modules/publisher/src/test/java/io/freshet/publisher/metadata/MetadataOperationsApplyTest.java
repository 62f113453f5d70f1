package io.freshet.publisher.metadata;

import static io.freshet.core.write.metadata.MetadataOperation.append;
import static io.freshet.core.write.metadata.MetadataOperation.delete;
import static io.freshet.core.write.metadata.MetadataOperation.increment;
import static io.freshet.core.write.metadata.MetadataOperation.remove;
import static io.freshet.core.write.metadata.MetadataOperation.set;
import static io.freshet.core.write.metadata.MetadataOperation.update;
import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.write.metadata.JsonValues;
import io.freshet.core.write.metadata.MetadataOperation;
import io.freshet.core.write.metadata.MetadataOperation.Kind;
import io.freshet.publisher.metadata.MetadataOperations.Result;
import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The §6.4 behaviour of applyMetadataOperations, example by example. */
class MetadataOperationsApplyTest {

  private static JsonObject json(String text) {
    return new JsonObject(text);
  }

  private static Result apply(String current, MetadataOperation... ops) {
    return MetadataOperations.apply(json(current), List.of(ops));
  }

  private static void assertMetadata(Result result, String expected) {
    assertThat(JsonValues.deepEquals(result.metadata(), json(expected)))
        .as("%s equals %s", result.metadata().encode(), expected)
        .isTrue();
  }

  @Nested
  class Set {
    @Test
    void literalKeyWritesTopLevelField() {
      assertMetadata(apply("{}", set("a", 1)), "{\"a\":1}");
    }

    @Test
    void dottedKeyWithoutDollarPrefixIsOneLiteralField() {
      assertMetadata(apply("{\"a\":{}}", set("a.b", 1)), "{\"a\":{},\"a.b\":1}");
    }

    @Test
    void literalSetReplacesExistingValueOfAnyType() {
      assertMetadata(apply("{\"a\":[1,2]}", set("a", "x")), "{\"a\":\"x\"}");
    }

    @Test
    void pathUnderMissingParentIsSilentlyIgnored() {
      Result result = apply("{}", set("$.a.b", 2));
      assertMetadata(result, "{}");
      assertThat(result.unapplied()).isEmpty();
      assertThat(result.changed()).isFalse();
    }

    @Test
    void pathUnderScalarParentLeavesMetadataUnchanged() {
      Result result = apply("{\"a\":5}", set("$.a.b", 2));
      assertMetadata(result, "{\"a\":5}");
      assertThat(result.unapplied()).isEmpty();
    }

    @Test
    void pathUnderExistingObjectAddsKey() {
      assertMetadata(apply("{\"a\":{\"x\":1}}", set("$.a.b", 2)), "{\"a\":{\"x\":1,\"b\":2}}");
    }

    @Test
    void topLevelPathWritesRootField() {
      assertMetadata(apply("{}", set("$.a", 1)), "{\"a\":1}");
    }

    @Test
    void pathUnderStringParentIsIgnored() {
      assertMetadata(apply("{\"a\":\"text\"}", set("$.a.length", 1)), "{\"a\":\"text\"}");
    }

    @Test
    void nullOnThePathStopsResolution() {
      assertMetadata(apply("{\"a\":null}", set("$.a.b", 1)), "{\"a\":null}");
      assertMetadata(apply("{\"a\":{\"b\":null}}", set("$.a.b.c", 1)), "{\"a\":{\"b\":null}}");
    }

    @Test
    void pathCannotOverwriteANullLeafBecauseNullStopsResolution() {
      // @jsonhero/path drops null values at every step, the last one included.
      assertMetadata(apply("{\"a\":{\"b\":null}}", set("$.a.b", 1)), "{\"a\":{\"b\":null}}");
      assertMetadata(apply("{\"a\":{\"b\":null}}", set("a", 1)), "{\"a\":1}");
    }

    @Test
    void numericSegmentIndexesIntoArray() {
      assertMetadata(
          apply("{\"a\":[{\"v\":1},{\"v\":2}]}", set("$.a.0.v", 9)),
          "{\"a\":[{\"v\":9},{\"v\":2}]}");
    }

    @Test
    void numericSegmentEqualToArrayLengthAppends() {
      assertMetadata(apply("{\"a\":[\"x\"]}", set("$.a.1", "y")), "{\"a\":[\"x\",\"y\"]}");
    }

    @Test
    void numericSegmentBeyondArrayLengthLeavesHolesSerialisedAsNull() {
      assertMetadata(apply("{\"a\":[\"x\"]}", set("$.a.3", "y")), "{\"a\":[\"x\",null,null,\"y\"]}");
    }

    @Test
    void nonIndexSegmentOnArrayWritesNothingVisible() {
      assertMetadata(apply("{\"a\":[1]}", set("$.a.foo", 2)), "{\"a\":[1]}");
      assertMetadata(apply("{\"a\":[1]}", set("$.a.01", 2)), "{\"a\":[1]}");
    }

    @Test
    void numericSegmentOnObjectIsAnOrdinaryKey() {
      assertMetadata(apply("{\"a\":{}}", set("$.a.0", 1)), "{\"a\":{\"0\":1}}");
    }

    @Test
    void numericSegmentPastArrayEndDoesNotCreateDeeperLevels() {
      assertMetadata(apply("{\"a\":[]}", set("$.a.0.v", 1)), "{\"a\":[]}");
    }

    @Test
    void wildcardWritesEveryChildOfAnObject() {
      assertMetadata(
          apply("{\"a\":{\"x\":{\"n\":1},\"y\":{\"n\":2}}}", set("$.a.*.n", 0)),
          "{\"a\":{\"x\":{\"n\":0},\"y\":{\"n\":0}}}");
    }

    @Test
    void wildcardWritesEveryElementOfAnArray() {
      assertMetadata(
          apply("{\"a\":[{\"done\":false},{\"done\":false}]}", set("$.a.*.done", true)),
          "{\"a\":[{\"done\":true},{\"done\":true}]}");
    }

    @Test
    void wildcardSkipsChildrenThatAreNotContainers() {
      assertMetadata(
          apply("{\"a\":{\"x\":{},\"y\":3,\"z\":null}}", set("$.a.*.n", 1)),
          "{\"a\":{\"x\":{\"n\":1},\"y\":3,\"z\":null}}");
    }

    @Test
    void wildcardAsLastSegmentReplacesEveryChild() {
      assertMetadata(apply("{\"a\":[1,2,3]}", set("$.a.*", 0)), "{\"a\":[0,0,0]}");
    }

    @Test
    void wildcardOverEmptyContainerWritesNothing() {
      assertMetadata(apply("{\"a\":{}}", set("$.a.*", 1)), "{\"a\":{}}");
    }

    @Test
    void bracketSyntaxIsALiteralKey() {
      assertMetadata(apply("{\"a\":[1,2]}", set("$.a[1]", 9)), "{\"a\":[1,2],\"a[1]\":9}");
    }

    @Test
    void escapedDotIsPartOfTheKey() {
      assertMetadata(apply("{\"a\":{}}", set("$.a\\.b", 1)), "{\"a\":{},\"a.b\":1}");
    }

    @Test
    void eachWildcardMatchGetsItsOwnCopyOfTheValue() {
      Result result = apply("{\"a\":{\"x\":{},\"y\":{}}}", set("$.a.*.list", new JsonArray()));
      result.metadata().getJsonObject("a").getJsonObject("x").getJsonArray("list").add(1);
      assertThat(result.metadata().getJsonObject("a").getJsonObject("y").getJsonArray("list"))
          .isEmpty();
    }
  }

  @Nested
  class Delete {
    @Test
    void removesTopLevelKey() {
      assertMetadata(apply("{\"a\":1,\"b\":2}", delete("a")), "{\"b\":2}");
    }

    @Test
    void pathKeyIsNotResolved() {
      Result result = apply("{\"a\":{\"b\":1}}", delete("$.a.b"));
      assertMetadata(result, "{\"a\":{\"b\":1}}");
      assertThat(result.unapplied()).isEmpty();
      assertThat(result.changed()).isFalse();
    }

    @Test
    void pathKeyRemovesTopLevelFieldSpelledThatWay() {
      assertMetadata(apply("{\"a\":{\"b\":1},\"$.a.b\":2}", delete("$.a.b")), "{\"a\":{\"b\":1}}");
    }

    @Test
    void missingKeyIsAppliedAndChangesNothing() {
      Result result = apply("{\"a\":1}", delete("zzz"));
      assertThat(result.unapplied()).isEmpty();
      assertThat(result.changed()).isFalse();
    }

    @Test
    void keyHoldingNullIsRemoved() {
      assertMetadata(apply("{\"a\":null}", delete("a")), "{}");
    }
  }

  @Nested
  class Append {
    @Test
    void literalPushesOntoExistingArray() {
      assertMetadata(apply("{\"a\":[1]}", append("a", 2)), "{\"a\":[1,2]}");
    }

    @Test
    void literalOnMissingKeyCreatesSingletonArray() {
      assertMetadata(apply("{}", append("a", 1)), "{\"a\":[1]}");
    }

    @Test
    void literalOnScalarWrapsOldAndNew() {
      assertMetadata(apply("{\"a\":\"x\"}", append("a", "y")), "{\"a\":[\"x\",\"y\"]}");
    }

    @Test
    void literalOnNullWrapsNullAndNew() {
      assertMetadata(apply("{\"a\":null}", append("a", 1)), "{\"a\":[null,1]}");
    }

    @Test
    void literalOnObjectWrapsObjectAndNew() {
      assertMetadata(apply("{\"a\":{\"k\":1}}", append("a", 2)), "{\"a\":[{\"k\":1},2]}");
    }

    @Test
    void literalAppendsArrayValueAsOneElement() {
      assertMetadata(apply("{\"a\":[1]}", append("a", new JsonArray("[2,3]"))), "{\"a\":[1,[2,3]]}");
    }

    @Test
    void pathOnMissingLeafUnderExistingParentCreatesSingletonArray() {
      assertMetadata(apply("{\"a\":{}}", append("$.a.log", "x")), "{\"a\":{\"log\":[\"x\"]}}");
    }

    @Test
    void pathOnArrayAppends() {
      assertMetadata(apply("{\"a\":{\"log\":[1]}}", append("$.a.log", 2)), "{\"a\":{\"log\":[1,2]}}");
    }

    @Test
    void pathOnScalarWrapsOldAndNew() {
      assertMetadata(apply("{\"a\":{\"v\":5}}", append("$.a.v", 6)), "{\"a\":{\"v\":[5,6]}}");
    }

    @Test
    void pathOnNullIsSilentNoOp() {
      Result result = apply("{\"a\":{\"v\":null}}", append("$.a.v", 1));
      assertMetadata(result, "{\"a\":{\"v\":null}}");
      assertThat(result.unapplied()).isEmpty();
      assertThat(result.changed()).isFalse();
    }

    @Test
    void pathWithMissingParentIsSilentNoOp() {
      Result result = apply("{}", append("$.a.log", 1));
      assertMetadata(result, "{}");
      assertThat(result.unapplied()).isEmpty();
    }

    @Test
    void pathThroughWildcardAppendsToFirstMatchAndWritesEveryMatch() {
      // The SDK reads only the first match, then sets the same new array everywhere.
      assertMetadata(
          apply("{\"a\":{\"x\":[1],\"y\":[2]}}", append("$.a.*", 3)),
          "{\"a\":{\"x\":[1,3],\"y\":[1,3]}}");
    }
    @Test
    void wildcardMatchOnNullChildWrapsNullLikeTheSdk() {
      // The wildcard step keeps null children, so this is not the plain-path null no-op.
      assertMetadata(apply("{\"a\":{\"x\":null}}", append("$.a.*", 1)), "{\"a\":{\"x\":[null,1]}}");
    }

    @Test
    void wildcardVisitsIndexLikeKeysFirstAsJavaScriptDoes() {
      assertMetadata(
          apply("{\"a\":{\"b\":[1],\"0\":[2]}}", append("$.a.*", 3)),
          "{\"a\":{\"b\":[2,3],\"0\":[2,3]}}");
    }
  }

  @Nested
  class Remove {
    @Test
    void literalDropsEveryDeepEqualElement() {
      assertMetadata(
          apply("{\"a\":[1,{\"k\":[2]},1,3,{\"k\":[2]}]}", remove("a", 1)),
          "{\"a\":[{\"k\":[2]},3,{\"k\":[2]}]}");
      assertMetadata(
          apply("{\"a\":[1,{\"k\":[2]},3]}", remove("a", json("{\"k\":[2]}"))), "{\"a\":[1,3]}");
    }

    @Test
    void numbersMatchByValueWhateverTheirJavaType() {
      assertMetadata(apply("{\"a\":[1,2.0,3]}", remove("a", 2)), "{\"a\":[1,3]}");
      assertMetadata(apply("{\"a\":[1,2,3]}", remove("a", 1.0d)), "{\"a\":[2,3]}");
    }

    @Test
    void objectKeyOrderDoesNotMatter() {
      assertMetadata(
          apply("{\"a\":[{\"x\":1,\"y\":2}]}", remove("a", json("{\"y\":2,\"x\":1}"))), "{\"a\":[]}");
    }

    @Test
    void stringDoesNotEqualNumber() {
      assertMetadata(apply("{\"a\":[1,\"1\"]}", remove("a", "1")), "{\"a\":[1]}");
    }

    @Test
    void canRemoveNulls() {
      assertMetadata(apply("{\"a\":[null,1,null]}", remove("a", null)), "{\"a\":[1]}");
    }

    @Test
    void literalOnScalarIsUnapplied() {
      MetadataOperation op = remove("a", 5);
      Result result = apply("{\"a\":5}", op);
      assertMetadata(result, "{\"a\":5}");
      assertThat(result.unapplied()).containsExactly(op);
    }

    @Test
    void literalOnMissingKeyIsUnapplied() {
      MetadataOperation op = remove("a", 1);
      assertThat(apply("{}", op).unapplied()).containsExactly(op);
    }

    @Test
    void literalOnNullIsUnapplied() {
      MetadataOperation op = remove("a", null);
      assertThat(apply("{\"a\":null}", op).unapplied()).containsExactly(op);
    }

    @Test
    void pathOnArrayDropsMatches() {
      assertMetadata(apply("{\"a\":{\"t\":[\"x\",\"y\"]}}", remove("$.a.t", "x")), "{\"a\":{\"t\":[\"y\"]}}");
    }

    @Test
    void pathNotFoundIsUnapplied() {
      MetadataOperation op = remove("$.a.t", "x");
      Result result = apply("{}", op);
      assertThat(result.unapplied()).containsExactly(op);
      assertThat(result.changed()).isFalse();
    }

    @Test
    void pathOnScalarIsUnapplied() {
      MetadataOperation op = remove("$.a.t", "x");
      assertThat(apply("{\"a\":{\"t\":\"x\"}}", op).unapplied()).containsExactly(op);
    }

    @Test
    void removingAbsentValueIsAppliedButChangesNothing() {
      Result result = apply("{\"a\":[1,2]}", remove("a", 3));
      assertThat(result.unapplied()).isEmpty();
      assertThat(result.changed()).isFalse();
    }
  }

  @Nested
  class Increment {
    @Test
    void literalAddsToNumber() {
      assertMetadata(apply("{\"n\":2}", increment("n", 3)), "{\"n\":5}");
    }

    @Test
    void negativeValueDecrements() {
      assertMetadata(apply("{\"n\":2}", increment("n", -5)), "{\"n\":-3}");
    }

    @Test
    void missingKeyCountsFromZero() {
      assertMetadata(apply("{}", increment("n", 4)), "{\"n\":4}");
    }

    @Test
    void numericStringCountsAsZero() {
      assertMetadata(apply("{\"n\":\"3\"}", increment("n", 2)), "{\"n\":2}");
    }

    @Test
    void nullAndObjectsCountAsZero() {
      assertMetadata(apply("{\"n\":null}", increment("n", 1)), "{\"n\":1}");
      assertMetadata(apply("{\"n\":{\"x\":1}}", increment("n", 1)), "{\"n\":1}");
    }

    @Test
    void arithmeticIsJavaScriptDoubleArithmetic() {
      assertMetadata(apply("{\"n\":0.1}", increment("n", 0.2)), "{\"n\":0.30000000000000004}");
    }

    @Test
    void wholeResultIsStoredAsIntegerNotDouble() {
      Result result = apply("{\"n\":1.5}", increment("n", 0.5));
      assertThat(result.metadata().getValue("n")).isEqualTo(2);
      assertThat(result.metadata().encode()).isEqualTo("{\"n\":2}");
    }

    @Test
    void pathAddsToNestedNumber() {
      assertMetadata(apply("{\"a\":{\"n\":1}}", increment("$.a.n", 1)), "{\"a\":{\"n\":2}}");
    }

    @Test
    void pathOnMissingLeafUnderExistingParentCountsFromZero() {
      assertMetadata(apply("{\"a\":{}}", increment("$.a.n", 7)), "{\"a\":{\"n\":7}}");
    }

    @Test
    void pathWithMissingParentIsSilentNoOp() {
      Result result = apply("{}", increment("$.a.n", 1));
      assertMetadata(result, "{}");
      assertThat(result.unapplied()).isEmpty();
      assertThat(result.changed()).isFalse();
    }

    @Test
    void pathOnNullLeafIsSilentNoOp() {
      assertMetadata(apply("{\"a\":{\"n\":null}}", increment("$.a.n", 1)), "{\"a\":{\"n\":null}}");
    }

    @Test
    void pathIntoArrayElement() {
      assertMetadata(apply("{\"a\":[10,20]}", increment("$.a.1", 1)), "{\"a\":[10,21]}");
    }

    @Test
    void pathThroughWildcardWritesFirstMatchPlusValueEverywhere() {
      assertMetadata(
          apply("{\"a\":{\"x\":1,\"y\":5}}", increment("$.a.*", 1)), "{\"a\":{\"x\":2,\"y\":2}}");
    }
  }

  @Nested
  class Update {
    @Test
    void replacesWholeMetadata() {
      assertMetadata(apply("{\"a\":1,\"b\":2}", update(json("{\"c\":3}"))), "{\"c\":3}");
    }

    @Test
    void laterOperationsApplyToTheReplacement() {
      assertMetadata(
          apply("{\"a\":1}", update(json("{\"b\":{}}")), set("$.b.c", 1), increment("n", 1)),
          "{\"b\":{\"c\":1},\"n\":1}");
    }

    @Test
    void laterOperationsDoNotMutateTheOperationsValue() {
      JsonObject value = json("{\"list\":[1]}");
      apply("{}", update(value), append("list", 2));
      assertThat(value.encode()).isEqualTo("{\"list\":[1]}");
    }

    @Test
    void replacementEqualToCurrentIsNoChange() {
      assertThat(apply("{\"a\":1,\"b\":[1]}", update(json("{\"b\":[1.0],\"a\":1}"))).changed()).isFalse();
    }
  }

  @Nested
  class Batch {
    @Test
    void operationsRunInOrder() {
      assertMetadata(apply("{}", set("a", 1), delete("a"), append("a", 2)), "{\"a\":[2]}");
      assertMetadata(apply("{}", append("a", 2), delete("a"), set("a", 1)), "{\"a\":1}");
    }

    @Test
    void inputIsNeverMutated() {
      JsonObject current = json("{\"a\":[1],\"b\":{\"n\":1}}");
      MetadataOperations.apply(
          current, List.of(append("a", 2), increment("$.b.n", 1), set("c", 1), delete("b")));
      assertThat(current.encode()).isEqualTo("{\"a\":[1],\"b\":{\"n\":1}}");
    }

    @Test
    void unsafeKeyBuiltInCodeIsUnappliedRatherThanWritten() {
      MetadataOperation op = set("$.a.__proto__.x", 1);
      Result result = apply("{\"a\":{}}", op);
      assertThat(result.unapplied()).containsExactly(op);
      assertThat(result.changed()).isFalse();
    }

    @Test
    void emptyBatchChangesNothing() {
      Result result = apply("{\"a\":1}");
      assertMetadata(result, "{\"a\":1}");
      assertThat(result.changed()).isFalse();
      assertThat(result.unapplied()).isEmpty();
    }
  }

  @Nested
  class Changed {
    @Test
    void setToAnEqualValueChangesNothing() {
      assertThat(apply("{\"a\":{\"x\":[1,2]}}", set("a", json("{\"x\":[1,2]}"))).changed()).isFalse();
    }

    @Test
    void setToNumericallyEqualValueChangesNothing() {
      assertThat(apply("{\"a\":1}", set("a", 1.0d)).changed()).isFalse();
    }

    @Test
    void incrementByZeroChangesNothing() {
      assertThat(apply("{\"n\":4}", increment("n", 0)).changed()).isFalse();
    }

    @Test
    void incrementByZeroOfMissingKeyCreatesItAndIsAChange() {
      assertThat(apply("{}", increment("n", 0)).changed()).isTrue();
    }

    @Test
    void changesThatCancelOutChangeNothing() {
      assertThat(apply("{\"n\":4}", increment("n", 2), increment("n", -2)).changed()).isFalse();
      assertThat(apply("{\"a\":1}", set("b", 1), delete("b")).changed()).isFalse();
    }

    @Test
    void realWriteIsAChange() {
      assertThat(apply("{\"a\":1}", set("a", 2)).changed()).isTrue();
      assertThat(apply("{\"a\":1}", set("a", "1")).changed()).isTrue();
    }

    @Test
    void metadataUpdateThatChangesNothingPublishesNothing() {
      Result result =
          apply("{\"a\":1}", delete("missing"), set("$.x.y", 1), remove("$.nope", 1), set("a", 1));
      assertThat(result.changed()).isFalse();
    }
  }
}
