package io.freshet.example;

import com.hazelcast.config.Config;
import io.freshet.producer.ChangePublisher;
import io.freshet.producer.ChangeRecord;
import io.vertx.core.Future;
import io.vertx.core.Vertx;
import io.vertx.core.json.JsonObject;
import io.vertx.pgclient.PgBuilder;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.SqlClient;
import io.vertx.sqlclient.Tuple;
import io.vertx.spi.cluster.hazelcast.ConfigUtil;
import io.vertx.spi.cluster.hazelcast.HazelcastClusterManager;
import java.time.ZoneOffset;
import java.util.Arrays;
import java.util.concurrent.TimeUnit;

/**
 * An app that writes a run itself (here: its metadata) and tells Freshet, through the producer
 * library, that the run changed. The record's watermark comes from the write's own RETURNING, so
 * Freshet can gate its replica read on exactly this commit; no extra query.
 *
 * <pre>
 * mvn -q -pl modules/producer-example exec:java -Dexec.args="--primary postgresql://freshet:freshet@127.0.0.1:15432/freshet \
 *     --members 127.0.0.1:5701 --cluster freshet --run run_... --metadata '{\"progress\":42}'"
 * </pre>
 * The Freshet nodes must run with {@code cluster.enabled=true} and list this app's member address.
 */
public final class ProducerExample {

  static final String UPDATE_METADATA = "UPDATE task_runs"
      + " SET metadata = $1, metadata_type = 'application/json',"
      + "     updated_at = GREATEST((clock_timestamp() AT TIME ZONE 'utc')::timestamp(3), updated_at + interval '1 millisecond')"
      + " WHERE friendly_id = $2"
      + " RETURNING env_id, updated_at, run_tags, batch_id";

  private ProducerExample() {}

  /** Writes the metadata and publishes the change record; fails if the run does not exist. */
  public static Future<ChangeRecord> updateMetadata(SqlClient primary, ChangePublisher publisher, String runId, JsonObject metadata) {
    return primary.preparedQuery(UPDATE_METADATA).execute(Tuple.of(metadata.encode(), runId)).map(rows -> {
      if (rows.size() == 0) {
        throw new IllegalArgumentException("no run " + runId);
      }
      Row row = rows.iterator().next();
      ChangeRecord record = ChangeRecord.of(row.getString("env_id"), runId,
          row.getLocalDateTime("updated_at").toInstant(ZoneOffset.UTC).toEpochMilli(),
          Arrays.asList(row.getArrayOfStrings("run_tags")), row.getString("batch_id"));
      publisher.publish(record);
      return record;
    });
  }

  /** Joins the Freshet cluster over TCP on loopback (no multicast). */
  public static Future<Vertx> joinCluster(String clusterName, String members, int port) {
    Config hz = ConfigUtil.loadConfig().setClusterName(clusterName);
    hz.setProperty("hazelcast.phone.home.enabled", "false");
    hz.getNetworkConfig().setPort(port).setPortAutoIncrement(true);
    hz.getNetworkConfig().getInterfaces().setEnabled(true).setInterfaces(java.util.List.of("127.0.0.1"));
    hz.getNetworkConfig().getJoin().getMulticastConfig().setEnabled(false);
    hz.getNetworkConfig().getJoin().getAutoDetectionConfig().setEnabled(false);
    hz.getNetworkConfig().getJoin().getTcpIpConfig().setEnabled(true).setMembers(Arrays.asList(members.split(",")));
    System.setProperty("hazelcast.local.localAddress", "127.0.0.1");
    io.vertx.core.VertxOptions options = new io.vertx.core.VertxOptions();
    options.getEventBusOptions().setHost("127.0.0.1");
    return Vertx.builder().with(options).withClusterManager(new HazelcastClusterManager(hz)).buildClustered();
  }

  public static void main(String[] args) throws Exception {
    String primaryUri = arg(args, "--primary", "postgresql://freshet:freshet@127.0.0.1:15432/freshet");
    String members = arg(args, "--members", "127.0.0.1:5701");
    String cluster = arg(args, "--cluster", "freshet");
    String runId = arg(args, "--run", null);
    JsonObject metadata = new JsonObject(arg(args, "--metadata", "{\"progress\":1}"));
    if (runId == null) {
      System.err.println("usage: ProducerExample --run <runId> [--metadata JSON] [--primary URI] [--members host:port,...] [--cluster NAME]");
      System.exit(2);
    }
    Vertx vertx = joinCluster(cluster, members, 5790).await(60, TimeUnit.SECONDS);
    Pool primary = PgBuilder.pool().connectingTo(primaryUri).using(vertx).build();
    try {
      ChangeRecord record = updateMetadata(primary, ChangePublisher.create(vertx), runId, metadata).await(30, TimeUnit.SECONDS);
      System.out.println("published " + record);
      Thread.sleep(200); // let the publish leave this node before it shuts down
    } finally {
      vertx.close().await(30, TimeUnit.SECONDS);
    }
  }

  private static String arg(String[] args, String name, String fallback) {
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals(name)) {
        return args[i + 1];
      }
    }
    return fallback;
  }
}
