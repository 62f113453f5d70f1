package io.freshet.core.write;

import io.freshet.core.FreshetConfig;
import io.freshet.core.FreshetException;
import io.vertx.core.json.Json;
import io.vertx.core.json.JsonObject;
import io.vertx.core.json.DecodeException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.LocalDateTime;
import java.util.List;
import java.util.regex.Pattern;

/**
 * One validated trigger: a {@code TriggerTaskRequestBody} (or a batch item) reduced to the values
 * the run row stores. Parsing throws a 400 naming the field, 413 for an oversize metadata document
 * and 422 for too many tags, at the edge, before anything is sent to the publisher.
 */
public record TriggerRequest(
    String taskId,
    String payload,
    String payloadType,
    String metadata,
    List<String> tags,
    String ttl,
    LocalDateTime delayUntil,
    String idempotencyKey,
    Duration idempotencyKeyTtl,
    boolean isTest,
    String parentRunId) {

  /** How long an idempotency key holds when the trigger names no {@code idempotencyKeyTTL} (trigger.dev's default). */
  static final Duration DEFAULT_IDEMPOTENCY_KEY_TTL = Duration.ofDays(30);

  static final int MAX_TASK_ID_CHARS = 128;
  static final int MAX_IDEMPOTENCY_KEY_CHARS = 2048;
  private static final Pattern TASK_ID = Pattern.compile("[A-Za-z0-9_./:-]+");

  /** {@code publisher.maxTags} and {@code publisher.maxMetadataBytes}. */
  public record Limits(int maxTags, int maxMetadataBytes) {
    public static Limits of(FreshetConfig config) {
      return new Limits(config.getInt(FreshetConfig.PUBLISHER_MAX_TAGS), config.getInt(FreshetConfig.PUBLISHER_MAX_METADATA_BYTES));
    }
  }

  /**
   * @param taskId the task identifier from the path or the batch item
   * @param body {@code {payload?, context?, options?}}
   * @param where prefix for error messages, e.g. {@code ""} or {@code "items[3]."}
   * @param now the moment a relative {@code delay} counts from
   */
  public static TriggerRequest parse(String taskId, JsonObject body, String where, Limits limits, Instant now) {
    validateTaskId(taskId, where.isEmpty() ? "taskId" : where + "task");
    JsonObject options = JsonFields.optObject(body, "options", where + "options");

    String payloadType = JsonFields.optString(options, "payloadType", where + "options.payloadType");
    Object rawPayload = body.getValue("payload");
    String payload;
    if (rawPayload == null) {
      payload = null;
    } else if (rawPayload instanceof String s) {
      payload = s; // the SDK's serialized packet, kept verbatim with its type
    } else {
      payload = Json.encode(rawPayload);
      payloadType = "application/json";
    }
    if (payloadType == null) {
      payloadType = "application/json";
    }
    if (payloadType.equals("application/store") && (payload == null || payload.isEmpty())) {
      throw FreshetException.badRequest(where + "payload must be a non-empty string when payloadType is application/store");
    }

    String metadata = metadataText(options.getValue("metadata"), where + "options.metadata", limits.maxMetadataBytes());

    List<String> tags = RunTags.normalize(options.getValue("tags"), where + "options.tags");
    if (tags.size() > limits.maxTags()) {
      throw RunTags.tooMany(limits.maxTags(), tags.size());
    }

    String ttl = Durations.ttl(options.getValue("ttl"));

    Object delay = options.getValue("delay");
    LocalDateTime delayUntil = null;
    if (delay instanceof String d) {
      delayUntil = Durations.delayUntil(d, now);
    } else if (delay != null) {
      throw FreshetException.badRequest(where + "options.delay must be a duration string or an ISO date-time");
    }

    String idempotencyKey = JsonFields.limited(
        JsonFields.optString(options, "idempotencyKey", where + "options.idempotencyKey"),
        MAX_IDEMPOTENCY_KEY_CHARS, where + "options.idempotencyKey");
    if (idempotencyKey != null && idempotencyKey.isEmpty()) {
      idempotencyKey = null;
    }
    Duration idempotencyKeyTtl = idempotencyKeyTtl(options.getValue("idempotencyKeyTTL"), where + "options.idempotencyKeyTTL");
    Boolean test = JsonFields.optBoolean(options, "test", where + "options.test");
    String parentRunId = JsonFields.optString(options, "parentRunId", where + "options.parentRunId");
    return new TriggerRequest(taskId, payload, payloadType, metadata, tags, ttl, delayUntil, idempotencyKey,
        idempotencyKey == null ? null : idempotencyKeyTtl, Boolean.TRUE.equals(test), parentRunId);
  }

  /** A duration string such as {@code "10s"}, {@code "1h"} or {@code "2d"}; absent means 30 days. */
  static Duration idempotencyKeyTtl(Object value, String field) {
    if (value == null) {
      return DEFAULT_IDEMPOTENCY_KEY_TTL;
    }
    Duration ttl = value instanceof String s ? Durations.parse(s) : null;
    if (ttl == null || ttl.isZero()) {
      throw FreshetException.badRequest(field + " must be a duration such as \"10s\", \"1h\" or \"2d\"");
    }
    return ttl;
  }

  static void validateTaskId(String taskId, String field) {
    if (taskId == null || taskId.isEmpty()) {
      throw FreshetException.badRequest(field + " is required");
    }
    if (taskId.length() > MAX_TASK_ID_CHARS) {
      throw FreshetException.badRequest(field + " must be at most " + MAX_TASK_ID_CHARS + " characters");
    }
    if (!TASK_ID.matcher(taskId).matches()) {
      throw FreshetException.badRequest(field + " may only contain letters, digits and _ . / : -");
    }
  }

  /**
   * The metadata column for {@code options.metadata}: the SDK sends a raw JSON object; a string
   * holding a JSON object is accepted too. Null when absent.
   */
  static String metadataText(Object raw, String field, int maxBytes) {
    if (raw == null) {
      return null;
    }
    JsonObject object;
    if (raw instanceof JsonObject o) {
      object = o;
    } else if (raw instanceof String s) {
      try {
        object = new JsonObject(s);
      } catch (DecodeException | ClassCastException e) {
        throw FreshetException.badRequest(field + " must be a JSON object");
      }
    } else {
      throw FreshetException.badRequest(field + " must be a JSON object");
    }
    String text = object.encode();
    checkMetadataSize(text, maxBytes);
    return text;
  }

  /** 413 when a metadata document (as stored) is larger than {@code maxBytes} in UTF-8. */
  public static void checkMetadataSize(String text, int maxBytes) {
    int bytes = text.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > maxBytes) {
      throw FreshetException.tooLarge("Metadata exceeds the maximum size of " + maxBytes + " bytes (got " + bytes + ")");
    }
  }
}
