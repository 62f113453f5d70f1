package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetConfig;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;

/** The README's config table lists every key, with its environment variable and default. */
class ReadmeTest {

  @Test
  void theConfigTableListsEveryKeyWithItsDefault() throws Exception {
    Path root = Path.of(System.getProperty("freshet.projectRoot", "../.."));
    String readme = Files.readString(root.resolve("README.md"));
    for (FreshetConfig.Key<?> key : FreshetConfig.keys()) {
      assertThat(readme).as("README row for %s", key.path())
          .contains("| `" + key.path() + "` | `" + key.envName() + "` | `" + key.defaultValue() + "` |");
    }
  }
}
