package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetException;
import io.freshet.core.time.FakeScheduler;
import io.freshet.store.Environments.Environment;
import io.vertx.core.Future;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;

/** What a stranger's keys cost: no query for a key of the wrong form, a bounded number for random ones. */
class AuthenticatorTest {

  private static final Environment DEV = new Environment("env_dev1", "dev", "DEVELOPMENT", "tr_dev_aaaaaaaaaaaaaaaaaaaaaaaa");

  /** Environments on a "primary" that counts its queries. */
  private static final class CountingReads implements Authenticator.EnvironmentReads {
    final List<String> queries = new ArrayList<>();

    @Override
    public Future<Optional<Environment>> byApiKey(String key) {
      queries.add(key);
      return Future.succeededFuture(key.equals(DEV.apiKey()) ? Optional.of(DEV) : Optional.empty());
    }

    @Override
    public Future<Optional<Environment>> byId(String envId) {
      queries.add(envId);
      return Future.succeededFuture(envId.equals(DEV.id()) ? Optional.of(DEV) : Optional.empty());
    }
  }

  private final FakeScheduler clock = new FakeScheduler();
  private final CountingReads reads = new CountingReads();
  private final Authenticator auth = new Authenticator(reads, null, clock);

  private String outcome(String key) {
    Future<Principal> result = auth.authenticate("Bearer " + key);
    assertThat(result.isComplete()).isTrue();
    if (result.succeeded()) {
      return "ok " + result.result().envId();
    }
    return ((FreshetException) result.cause()).status() + " " + result.cause().getMessage();
  }

  private static String randomKey(int i) {
    return "tr_dev_random" + String.format("%011d", i);
  }

  @Test
  void aKeyOfTheWrongFormIsRefusedWithoutAQuery() {
    for (String key : List.of("x", "tr_dev_", "sk_live_abc", "tr_dev_abc-def", "tr_dev_" + "a".repeat(3000), "tr__abc", "TR_DEV_abc")) {
      assertThat(outcome(key)).as(key).isEqualTo("401 invalid API key");
    }
    assertThat(reads.queries).isEmpty();
    assertThat(auth.secretKeyOf("env_' OR 1=1").failed()).isTrue();
    assertThat(reads.queries).isEmpty();
  }

  @Test
  void randomKeysCostAtMostTheLookupBudgetAndTheOverflowGets429() {
    int refused = 0;
    for (int i = 0; i < 1000; i++) {
      String answer = outcome(randomKey(i));
      if (answer.startsWith("429")) {
        refused++;
      } else {
        assertThat(answer).isEqualTo("401 invalid API key");
      }
    }
    assertThat(reads.queries).hasSize(2 * Authenticator.LOOKUPS_PER_SEC);
    assertThat(refused).isEqualTo(1000 - 2 * Authenticator.LOOKUPS_PER_SEC);
    clock.advance(1000);
    assertThat(outcome(randomKey(5000))).isEqualTo("401 invalid API key");
    assertThat(reads.queries).hasSize(2 * Authenticator.LOOKUPS_PER_SEC + 1);
  }

  @Test
  void aFailedLookupIsRememberedAndAFloodNeverEvictsAKnownKey() {
    assertThat(outcome(DEV.apiKey())).isEqualTo("ok env_dev1");
    assertThat(outcome(randomKey(1))).isEqualTo("401 invalid API key");
    int before = reads.queries.size();
    assertThat(outcome(randomKey(1))).as("remembered").isEqualTo("401 invalid API key");
    assertThat(reads.queries).hasSize(before);
    // A flood spends the budget; the known key is still served, from its cached answer, past its TTL too.
    for (int i = 100; i < 20_000 + 100; i++) {
      outcome(randomKey(i));
      if (i % 100 == 0) {
        clock.advance(50);
      }
    }
    clock.advance(Authenticator.TTL_MS);
    for (int i = 0; i < 1000; i++) {
      outcome(randomKey(100_000 + i)); // spends the budget again
    }
    assertThat(outcome(DEV.apiKey())).isEqualTo("ok env_dev1");
  }
}
