package io.freshet.edge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.freshet.core.FreshetException;
import org.junit.jupiter.api.Test;

class WriteDeadlineTest {

  private static final long NOW = 1_765_000_000_000L;

  /** As nginx writes $msec: seconds, a dot, three digits. */
  static String stamp(long epochMs) {
    return String.format("t=%d.%03d", epochMs / 1000, epochMs % 1000);
  }

  @Test
  void nginxsStampAndWholeMillisecondsOrMicrosecondsAreRead() {
    assertThat(WriteDeadline.receivedAtMs("t=1765000000.123")).isEqualTo(1_765_000_000_123L);
    assertThat(WriteDeadline.receivedAtMs("1765000000.5")).isEqualTo(1_765_000_000_500L);
    assertThat(WriteDeadline.receivedAtMs("t=1765000000123")).isEqualTo(1_765_000_000_123L);
    assertThat(WriteDeadline.receivedAtMs("t=1765000000123456")).isEqualTo(1_765_000_000_123L);
    assertThat(WriteDeadline.receivedAtMs("1765000000")).isEqualTo(1_765_000_000_000L);
  }

  @Test
  void aStampThatIsNoTimeIsIgnored() {
    for (String bad : new String[] {"", "t=", "t=abc", "-5", "t=1e9", "99999999999999999999999", "t=1.2.3"}) {
      assertThat(WriteDeadline.receivedAtMs(bad)).as(bad).isEqualTo(-1);
      assertThatCode(() -> new WriteDeadline(2000).check(bad, NOW)).as(bad).doesNotThrowAnyException();
    }
  }

  @Test
  void aWriteOlderThanTheDeadlineIsRefusedWith503AndAYoungerOneOrOneWithoutAStampPasses() {
    WriteDeadline deadline = new WriteDeadline(2000);

    assertThatThrownBy(() -> deadline.check(stamp(NOW - 2001), NOW))
        .isInstanceOfSatisfying(FreshetException.class, e -> {
          assertThat(e.status()).isEqualTo(503);
          assertThat(e.getMessage()).contains("2001 ms", "nothing was written");
        });
    assertThatCode(() -> deadline.check(stamp(NOW - 2000), NOW)).doesNotThrowAnyException();
    assertThatCode(() -> deadline.check(stamp(NOW + 60_000), NOW)).doesNotThrowAnyException();
    assertThatCode(() -> deadline.check(null, NOW)).doesNotThrowAnyException();
  }

  @Test
  void aDeadlineOfZeroNeverRefuses() {
    assertThatCode(() -> new WriteDeadline(0).check("t=1.000", NOW)).doesNotThrowAnyException();
  }
}
