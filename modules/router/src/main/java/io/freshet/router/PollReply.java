package io.freshet.router;

import io.vertx.core.json.JsonObject;

/** Where a poll's answer goes: the event-bus message in production, a recorder in tests. */
public interface PollReply {

  void reply(JsonObject body);

  void fail(int status, String message);
}
