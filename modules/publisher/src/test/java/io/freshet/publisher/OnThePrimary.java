package io.freshet.publisher;

import io.freshet.store.testing.RigTest;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;

/** Command tests against a publisher on the real primary: one fixture per test class, records drained per test. */
@RigTest
abstract class OnThePrimary {

  static PublisherFixture f;

  @BeforeAll
  static void start() {
    f = new PublisherFixture();
  }

  @AfterAll
  static void stop() {
    f.close();
  }

  @BeforeEach
  void clearRecords() {
    f.drainRecords();
  }
}
