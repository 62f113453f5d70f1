package io.freshet.bench;

import io.freshet.core.FreshetConfig;
import io.vertx.core.json.JsonObject;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The benchmark's modes and the node config each one means, in one place. {@code gated+rows} is
 * Freshet as it ships: records carry the committed row (and announcements the committed chunks),
 * served at once, and the gate for the rest. {@code gated} is the same gate with records that carry
 * nothing, so every change waits for the replica (the state before records carried rows, and what
 * records from other producers still get). The others are the baselines.
 */
final class Modes {

  private Modes() {}

  static final String ROWS = "gated+rows";

  /** The sweep's modes. */
  static final List<String> SWEEP = List.of(ROWS, "gated", "ungated", "fixed-delay", "primary-reads");
  /** The stall phase's: Freshet, its gate alone, the gate without its fallback (trigger.dev's behaviour), primary reads. */
  static final List<String> STALL = List.of(ROWS, "gated", "gated-no-fallback", "primary-reads");
  /** The fan-out and streams phases': Freshet, and its gate alone. */
  static final List<String> FAN_OUT = List.of("gated", ROWS);

  /** The node config of {@code mode}. */
  static JsonObject config(String mode) {
    JsonObject c = new JsonObject();
    switch (mode) {
      case ROWS -> c.put(FreshetConfig.GATE_MODE.path(), "gated");
      case "gated-no-fallback" -> c.put(FreshetConfig.GATE_MODE.path(), "gated").put(FreshetConfig.GATE_PRIMARY_FALLBACK_PER_SEC.path(), 0)
          .put(FreshetConfig.ROUTER_ROW_IMAGE_MAX_BYTES.path(), 0);
      default -> c.put(FreshetConfig.GATE_MODE.path(), mode).put(FreshetConfig.ROUTER_ROW_IMAGE_MAX_BYTES.path(), 0);
    }
    return c;
  }

  /** The same, as the flat keys a node process takes. */
  static Map<String, String> flat(String mode) {
    Map<String, String> out = new LinkedHashMap<>();
    config(mode).forEach(e -> out.put(e.getKey(), String.valueOf(e.getValue())));
    return out;
  }
}
