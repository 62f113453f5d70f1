package io.freshet.bench;

import io.freshet.core.PgText;
import io.freshet.core.RunColumn;
import io.vertx.core.Future;
import io.vertx.core.http.HttpClientAgent;
import io.vertx.core.http.HttpMethod;
import io.vertx.core.http.RequestOptions;
import io.vertx.core.json.JsonObject;
import java.time.Instant;

/**
 * The hot run's writer for the physical reference: instead of a metadata write through Freshet,
 * a POST to nchan's {@code /pub/<channel>} of the very lines Freshet's SSE stream carries for that
 * change, a change message of a run's full row (about the size Freshet sends) and its up-to-date
 * control, with {@code updatedAt} the time of the publish. Same pacing, same traces, same load
 * client: the difference in latency is what Freshet adds over forwarding bytes.
 */
final class NchanPublisher extends WriteClient {

  private final HttpClientAgent client;
  private long lsn;

  NchanPublisher(HttpClientAgent client) {
    super(client, "");
    this.client = client;
  }

  @Override
  Future<Void> updateMetadata(String channel, JsonObject metadata) {
    long now = System.currentTimeMillis();
    String body = message(channel, metadata, now) + "\n{\"headers\":{\"control\":\"up-to-date\",\"global_last_seen_lsn\":\""
        + (++lsn) + "\"}}";
    RequestOptions options = new RequestOptions().setMethod(HttpMethod.POST).setURI("/pub/" + channel).setIdleTimeout(30_000);
    return client.request(options).compose(req -> req.send(body)).compose(resp -> resp.body().map(buf -> {
      if (resp.statusCode() / 100 != 2) {
        throw new IllegalStateException("POST /pub/" + channel + " answered " + resp.statusCode() + ": " + buf);
      }
      return (Void) null;
    }));
  }

  /** A change message shaped as Freshet sends one for a bench run: every column, this metadata. */
  private static String message(String channel, JsonObject metadata, long nowMs) {
    String at = PgText.timestamp(Instant.ofEpochMilli(nowMs));
    JsonObject value = new JsonObject();
    for (RunColumn column : RunColumn.values()) {
      String text = switch (column) {
        case ID -> "cm" + channel + "0000000000000000";
        case FRIENDLY_ID -> "run_" + channel;
        case TASK_IDENTIFIER -> "bench-fanout";
        case CREATED_AT, QUEUED_AT -> "2026-12-06T00:00:00.000";
        case UPDATED_AT -> at;
        case NUMBER -> "1";
        case IS_TEST -> "f";
        case STATUS -> "PENDING";
        case USAGE_DURATION_MS, COST_IN_CENTS, BASE_COST_IN_CENTS -> "0";
        case PAYLOAD -> "{\"json\":\"bench\"}";
        case PAYLOAD_TYPE -> "application/super+json";
        case METADATA -> metadata.encode();
        case METADATA_TYPE -> "application/json";
        case RUN_TAGS, REALTIME_STREAMS -> "{}";
        default -> null;
      };
      value.put(column.wireName(), text);
    }
    return "{\"key\":\"\\\"public\\\".\\\"TaskRun\\\"/\\\"" + channel + "\\\"\",\"value\":" + value.encode()
        + ",\"headers\":{\"operation\":\"update\"}}";
  }
}
