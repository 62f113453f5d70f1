package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import java.util.List;
import org.junit.jupiter.api.Test;

class PrincipalTest {

  private static Principal token(String... scopes) {
    return new Principal("env_1", false, List.of(scopes));
  }

  @Test
  void readRunsIsASuperScopeForEveryRealtimeFeed() {
    Principal all = token("read:runs");
    assertThatCode(() -> all.requireRead(List.of("runs:run_1"))).doesNotThrowAnyException();
    assertThatCode(() -> all.requireRead(List.of("tags:user:1", "tags:vip"))).doesNotThrowAnyException();
    assertThatCode(() -> all.requireRead(List.of("batch:batch_1"))).doesNotThrowAnyException();
  }

  @Test
  void aRunScopedTokenReadsOnlyThatRun() {
    Principal one = token("read:runs:run_1");
    assertThatCode(() -> one.requireRead(List.of("runs:run_1"))).doesNotThrowAnyException();
    assertThatThrownBy(() -> one.requireRead(List.of("runs:run_2")))
        .isInstanceOfSatisfying(FreshetException.class, e -> org.assertj.core.api.Assertions.assertThat(e.status()).isEqualTo(403));
    assertThatThrownBy(() -> one.requireRead(List.of("tags:run_1"))).isInstanceOf(FreshetException.class);
    assertThatThrownBy(() -> one.requireRead(List.of("batch:batch_1"))).isInstanceOf(FreshetException.class);
  }

  @Test
  void aTagFeedNeedsOneOfItsTags() {
    Principal tag = token("read:tags:user:1");
    assertThatCode(() -> tag.requireRead(List.of("tags:user:1", "tags:vip"))).doesNotThrowAnyException();
    assertThatThrownBy(() -> tag.requireRead(List.of("tags:user:2"))).isInstanceOf(FreshetException.class);
  }

  @Test
  void readRunsStarReadsEveryRunAsReadRunsDoesOnEveryFeed() {
    for (String scope : List.of("read:runs:*", "read:runs", "read:all", "admin", "read:tasks")) {
      Principal every = token(scope);
      for (List<String> resources : List.of(List.of("runs:*"), List.of("runs:run_1"), List.of("tags:vip"), List.of("batch:batch_1"))) {
        assertThatCode(() -> every.requireRead(resources)).as(scope + " " + resources).doesNotThrowAnyException();
      }
    }
  }

  @Test
  void onlyAScopeThatReadsEveryRunReadsTheAllRunsFeed() {
    for (String scope : List.of("read:runs:run_1", "read:tags:vip", "read:batch:batch_1", "read:tasks:email", "read:tags", "read:batch")) {
      assertThatThrownBy(() -> token(scope).requireRead(List.of("runs:*"))).as(scope).isInstanceOf(FreshetException.class);
    }
  }

  @Test
  void aBareTypeScopeGrantsEveryResourceOfItsTypeAndNoOther() {
    assertThatCode(() -> token("read:tasks").requireRead(List.of("runs:run_1", "tasks:email"))).doesNotThrowAnyException();
    assertThatCode(() -> token("read:tags").requireRead(List.of("tags:vip"))).doesNotThrowAnyException();
    assertThatCode(() -> token("read:batch").requireRead(List.of("batch:batch_1"))).doesNotThrowAnyException();
    assertThatThrownBy(() -> token("read:tags").requireRead(List.of("runs:run_1", "batch:batch_1"))).isInstanceOf(FreshetException.class);
    assertThatThrownBy(() -> token("read:batch").requireRead(List.of("runs:run_1", "tags:vip"))).isInstanceOf(FreshetException.class);
    assertThatThrownBy(() -> token("read").requireRead(List.of("runs:run_1", "tags:vip"))).isInstanceOf(FreshetException.class);
  }

  @Test
  void theClusterFiguresNeedTheSecretKeyOrAnOperatorScope() {
    assertThatCode(() -> Principal.secretKey("env_1").requireOperator()).doesNotThrowAnyException();
    assertThatCode(() -> token("admin").requireOperator()).doesNotThrowAnyException();
    assertThatCode(() -> token("read:all").requireOperator()).doesNotThrowAnyException();
    for (String scope : List.of("read:runs:run_1", "read:runs", "read:tags:vip")) {
      assertThatThrownBy(() -> token(scope).requireOperator()).as(scope)
          .isInstanceOfSatisfying(FreshetException.class, e -> org.assertj.core.api.Assertions.assertThat(e.status()).isEqualTo(403));
    }
  }
}
