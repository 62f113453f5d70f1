package io.freshet.edge;

import io.freshet.core.push.PushProtocol;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Meter;
import io.micrometer.core.instrument.MeterRegistry;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * The meters of one web edge instance's SSE sessions: how many are open (run feeds as
 * {@code freshet_held_feeds{kind=sse}}, streams as {@code freshet_stream_readers}) and why run
 * feed sessions ended ({@code freshet_sse_closed_total{reason}}).
 */
final class SessionCounts implements Sink.Counts {

  static final List<String> REASONS = List.of("client", "deadline", "behind", "gone", "stopping", "refused");

  private final List<Meter> meters = new ArrayList<>();
  private final Map<String, Counter> closes = new HashMap<>();
  private int feedSessions;
  private int streamReaders;

  SessionCounts(MeterRegistry registry, int index) {
    String instance = "web-" + index;
    for (String reason : REASONS) {
      Counter counter = Counter.builder("freshet.sse.closed")
          .description("SSE responses ended, by why: the client left, its deadline, too far behind a full socket, its log or router gone,"
              + " the node stopping, the handle refused.")
          .tag("reason", reason).tag("instance", instance).register(registry);
      closes.put(reason, counter);
      meters.add(counter);
    }
    meters.add(Gauge.builder("freshet.held.feeds", this, c -> c.feedSessions)
        .description("Live connections held: long-polls held on a router, SSE sessions open on a web edge instance.")
        .tag("kind", "sse").tag("instance", instance).register(registry));
    meters.add(Gauge.builder("freshet.stream.readers", this, c -> c.streamReaders)
        .description("Realtime stream readers (SSE responses) open on a web edge instance.").tag("instance", instance).register(registry));
  }

  List<Meter> meters() {
    return meters;
  }

  @Override
  public void opened(SseSession session) {
    if (session.log instanceof PushProtocol.FeedLog) {
      feedSessions++;
    } else {
      streamReaders++;
    }
  }

  @Override
  public void closed(SseSession session, String reason) {
    if (session.log instanceof PushProtocol.FeedLog) {
      feedSessions--;
      closes.getOrDefault(reason, closes.get("client")).increment();
    } else {
      streamReaders--;
    }
  }
}
