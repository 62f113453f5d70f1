package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import io.freshet.core.time.FakeScheduler;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** One noisy credential reaches its own limit; the others of its environment do not notice. */
class CredentialLimitsTest {

  private final FakeScheduler clock = new FakeScheduler();
  private final CredentialLimits limits = new CredentialLimits(3, 5, 2, 10, clock);

  private static Principal token(String name) {
    return new Principal("env_1", false, List.of("read:runs"), "token:" + name);
  }

  private static void is429(org.assertj.core.api.ThrowableAssert.ThrowingCallable call, String says) {
    assertThatThrownBy(call).isInstanceOfSatisfying(FreshetException.class, e -> assertThat(e.status()).isEqualTo(429)).hasMessageContaining(says);
  }

  @Test
  void aTokenPastItsConnectionLimitIsRefusedWhileAnotherTokenOfItsEnvironmentIsAdmitted() {
    List<Runnable> held = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      held.add(limits.acquireConnection(token("noisy")));
    }
    is429(() -> limits.acquireConnection(token("noisy")), "realtime.maxConnectionsPerToken");
    assertThatCode(() -> held.add(limits.acquireConnection(token("quiet")))).doesNotThrowAnyException();
    for (int i = 0; i < 5; i++) {
      held.add(limits.acquireConnection(Principal.secretKey("env_1")));
    }
    is429(() -> limits.acquireConnection(Principal.secretKey("env_1")), "realtime.maxConnectionsPerSecretKey");
    assertThat(limits.connectionsOf("token:noisy")).isEqualTo(3);
  }

  @Test
  void aSlotIsReleasedOnceHoweverOftenItsReleaseRunsAndAnIdleCredentialIsForgotten() {
    Runnable first = limits.acquireConnection(token("t"));
    Runnable second = limits.acquireConnection(token("t"));
    first.run();
    first.run();
    assertThat(limits.connectionsOf("token:t")).isEqualTo(1);
    second.run();
    assertThat(limits.credentialsHolding()).isZero();
    for (int i = 0; i < 3; i++) {
      limits.acquireConnection(token("t"));
    }
    is429(() -> limits.acquireConnection(token("t")), "limit 3");
  }

  @Test
  void feedOpensAreAdmittedInABurstThenAtTheConfiguredRate() {
    int admitted = 0;
    for (int i = 0; i < 100; i++) {
      try {
        limits.admitFeedOpen(token("flood"));
        admitted++;
      } catch (FreshetException e) {
        assertThat(e.status()).isEqualTo(429);
      }
    }
    assertThat(admitted).as("the burst: five seconds' worth at 2/s").isEqualTo(2 * CredentialLimits.BURST_SECONDS);
    assertThatCode(() -> limits.admitFeedOpen(token("other"))).as("another token of the environment").doesNotThrowAnyException();
    clock.advance(499);
    is429(() -> limits.admitFeedOpen(token("flood")), "realtime.feedOpensPerSecPerToken");
    clock.advance(1);
    assertThatCode(() -> limits.admitFeedOpen(token("flood"))).as("one more after half a second at 2/s").doesNotThrowAnyException();
    is429(() -> limits.admitFeedOpen(token("flood")), "retry shortly");
  }
}
