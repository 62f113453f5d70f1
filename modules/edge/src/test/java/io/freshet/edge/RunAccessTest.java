package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.freshet.store.RunReads.RunMembership;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** Which scopes read a run by id: its id, any of its tags, its batch, its task, or a super scope. */
class RunAccessTest {

  private static final List<String> RUN = RunAccess.resources("run_1",
      Optional.of(new RunMembership(List.of("vip", "eu"), "batch_9", "email")));

  private static Principal token(String... scopes) {
    return new Principal("env_1", false, List.of(scopes));
  }

  @Test
  void aRunIsItsIdItsTagsItsBatchAndItsTask() {
    assertThat(RUN).containsExactly("runs:run_1", "tags:vip", "tags:eu", "batch:batch_9", "tasks:email");
    assertThat(RunAccess.resources("run_2", Optional.empty())).containsExactly("runs:run_2");
  }

  @Test
  void eachOfThemGrantsTheRunAndNothingElseDoes() {
    // A bare type grants every resource of the type, as in trigger.dev: any tag, any batch, any task.
    for (String scope : List.of("read:runs:run_1", "read:tags:eu", "read:batch:batch_9", "read:tasks:email", "read:runs", "read:runs:*",
        "read:all", "admin", "read:tags", "read:batch", "read:tasks")) {
      assertThat(token(scope).mayRead(RUN)).as(scope).isTrue();
    }
    for (String scope : List.of("read:runs:run_2", "read:tags:us", "read:batch:batch_8", "read:tasks:sms", "write:tags:vip", "write:tags",
        "read", "read:runs:run_1x")) {
      assertThat(token(scope).mayRead(RUN)).as(scope).isFalse();
    }
  }

  @Test
  void onlyMembershipScopesCostALookup() {
    assertThat(token("read:runs:run_1").readsRunsByMembership()).isFalse();
    assertThat(token("read:tags:vip").readsRunsByMembership()).isTrue();
    assertThat(token("read:batch:batch_9").readsRunsByMembership()).isTrue();
    assertThat(token("read:tasks:email").readsRunsByMembership()).isTrue();
    assertThat(token("read:tags").readsRunsByMembership()).as("any tag: only the run says whether it has one").isTrue();
    assertThat(token("read:batch").readsRunsByMembership()).isTrue();
    assertThat(token("read:tasks").readsRunsByMembership()).as("every run has a task: no lookup").isFalse();
    assertThat(Principal.secretKey("env_1").readsRunsByMembership()).isFalse();
  }

  @Test
  void aRefusalNamesOnlyTheIdAskedForNeverWhatTheRunCarriesOrWhetherItExists() {
    Principal other = token("read:tags:us");
    Optional<RunMembership> run = Optional.of(new RunMembership(List.of("vip", "eu"), "batch_9", "email"));
    String refusedExisting = refusal(() -> RunAccess.requireRead(other, "run_1", run));
    String refusedMissing = refusal(() -> RunAccess.requireRead(other, "run_1", Optional.empty()));
    assertThat(refusedExisting).isEqualTo("public access token lacks a scope for read:runs:run_1").isEqualTo(refusedMissing)
        .doesNotContain("vip").doesNotContain("batch_9").doesNotContain("email");
    RunAccess.requireRead(token("read:tags:eu"), "run_1", run); // granted through a tag: no refusal
  }

  private static String refusal(Runnable check) {
    String[] message = new String[1];
    assertThatThrownBy(check::run).isInstanceOfSatisfying(FreshetException.class, e -> {
      assertThat(e.status()).isEqualTo(403);
      message[0] = e.getMessage();
    });
    return message[0];
  }
}
