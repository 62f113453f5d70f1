package io.freshet.server;

import static org.assertj.core.api.Assertions.assertThat;

import io.freshet.core.FreshetConfig;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;

/**
 * Every port the rig, the bench rig and the defaults name lies below Linux's ephemeral range
 * (32768–60999): a port inside it may already be taken by one of the tens of thousands of client
 * sockets a fan-out run leaves behind, and then {@code db.sh start} fails with "Address already in use".
 */
class RigPortsTest {

  static final int EPHEMERAL_FROM = 32768;

  /** host:port in a URI or a compose mapping, a shell default ({@code PORT:-n}), a Java default, "ports n/m". */
  private static final Pattern PORT = Pattern.compile(
      "127\\.0\\.0\\.1:(\\d{4,5})|PORT:-(\\d{4,5})|PORT\", \"(\\d{4,5})|ports? (\\d{4,5})/(\\d{4,5})");

  private static final List<String> FILES = List.of("scripts/db.sh", "scripts/bench.sh", "scripts/start.sh", "scripts/faults.sh",
      "clients/run.sh", "clients/set-delay.sh", "clients/README.md", "conf/freshet.json", "docker-compose.yml", "README.md",
      "modules/bench/README.md", "docs/api.md", "docs/architecture.md", "docs/benchmarks.md", "docs/configuration.md",
      "docs/operations.md", "modules/store/src/test/java/io/freshet/store/testing/PgRig.java",
      "modules/bench/src/main/java/io/freshet/bench/BenchMain.java");

  @Test
  void theRigsAndTheDefaultsUsePortsBelowTheEphemeralRange() throws Exception {
    Path root = Path.of(System.getProperty("freshet.projectRoot", "../.."));
    List<String> named = new ArrayList<>();
    for (String file : FILES) {
      Matcher m = PORT.matcher(Files.readString(root.resolve(file)));
      while (m.find()) {
        for (int g = 1; g <= m.groupCount(); g++) {
          if (m.group(g) != null) {
            named.add(file + " " + m.group(g));
          }
        }
      }
    }
    named.add("db.primary.uri " + URI.create(FreshetConfig.DB_PRIMARY_URI.defaultValue()).getPort());
    named.add("db.replica.uri " + URI.create(FreshetConfig.DB_REPLICA_URI.defaultValue()).getPort());
    assertThat(named).as("ports found").anyMatch(n -> n.startsWith("scripts/db.sh")).anyMatch(n -> n.startsWith("scripts/bench.sh"));
    assertThat(named).allSatisfy(n -> assertThat(Integer.parseInt(n.substring(n.lastIndexOf(' ') + 1))).as(n).isLessThan(EPHEMERAL_FROM));
  }
}
