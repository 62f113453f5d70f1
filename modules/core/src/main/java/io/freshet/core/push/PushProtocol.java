package io.freshet.core.push;

import io.freshet.core.bus.BusCodec;
import io.freshet.core.bus.Wire;
import io.freshet.core.feed.FeedProtocol;
import io.freshet.core.feed.LogSlice;
import io.freshet.core.stream.ChunkSlice;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.eventbus.EventBus;
import java.util.ArrayList;
import java.util.List;

/**
 * The one push path between the logs' owners (a router's feed logs, a node's stream logs) and the
 * web edge instances whose SSE sessions follow them. A session's instance (its <em>sink</em>)
 * asks the owner to {@link Follow} a log from a position: the owner answers with what the session
 * missed ({@link Caught}) and from then on pushes the log's growth to the sink ({@link Pushes}, one
 * message per delivery round, whatever the number of logs and sessions). The sink proves itself
 * alive with {@link Refresh} (the owner forgets sinks that stop, and answers which logs it no
 * longer has), and says {@link Unfollow} when its last session on a log ends. A gap (a push that
 * raced the follow) or a socket that was full is caught up with another {@link Follow}.
 */
public final class PushProtocol {

  private PushProtocol() {}

  /** What a session follows; {@link #id} names it in pushes, unique within its owner. */
  public sealed interface Followed permits FeedLog, Stream {
    String id();
  }

  /** A feed log, by its handle, checked against the feed the request names (environment, filter, columns). */
  public record FeedLog(String handle, FeedProtocol.FeedRef feed) implements Followed {
    @Override
    public String id() {
      return handle;
    }
  }

  /** A realtime stream. */
  public record Stream(StreamRef stream) implements Followed {
    @Override
    public String id() {
      return stream.id();
    }
  }

  /** Follow {@code log} from {@code position}: answer with {@link Caught}, then push its growth to {@code sink}. */
  public record Follow(Followed log, long position, String sink) {}

  /**
   * What a follower at its position missed; {@code complete}: the log ends after it (a finished
   * stream); {@code more}: there is more than one answer carries, follow again from its end.
   */
  public record Caught(Slice slice, boolean complete, boolean more) {}

  /** The sink's last session on {@code log} ended. */
  public record Unfollow(String log, String sink) {}

  /**
   * A log a sink follows and a position in it: in a {@link Refresh}, the lowest its live sessions
   * reached ({@link #UNKNOWN} when none is live); in a {@link Refreshed}, the owner's head.
   */
  public record Following(String log, long position) {
    public static final long UNKNOWN = -1;
  }

  /** A sink's periodic proof of life for the logs it follows at one owner, with how far its sessions got. */
  public record Refresh(String sink, List<Following> logs) {
    public Refresh {
      logs = List.copyOf(logs);
    }
  }

  /**
   * The answer to a {@link Refresh}: the logs the owner no longer has, and those whose head is past
   * the position the sink named, with the head. Pushes the owner sent before it answered arrive
   * before the answer (one connection, in order), so a session still short of the head then lost a
   * push (its sink was unreachable for a while: its node was cut off, or its consumer was not yet
   * known cluster-wide) and catches up.
   */
  public record Refreshed(List<String> unknown, List<Following> ahead) {
    public Refreshed {
      unknown = List.copyOf(unknown);
      ahead = List.copyOf(ahead);
    }
  }

  /** One delivery round's growth of the logs a sink follows. */
  public record Pushes(List<Push> pushes) {
    public Pushes {
      pushes = List.copyOf(pushes);
    }
  }

  /** A log grew by {@code slice} (continuing where its previous push ended); {@code complete}: it ends there. */
  public record Push(String log, Slice slice, boolean complete) {}

  /**
   * The owner of {@code log} handed it to {@code owner} (a graceful stop): the sink's sessions on it
   * follow it there from their positions, without ending their responses.
   */
  public record Moved(String log, String owner) {}

  // --- wire form -------------------------------------------------------------------------------

  /** Registers the codec of every message here (they cross nodes: a feed's owner may be elsewhere). */
  public static void register(EventBus bus) {
    BusCodec.wire(Follow.class, PushProtocol::writeFollow, PushProtocol::readFollow).register(bus);
    BusCodec.wire(Caught.class, (out, m) -> {
      writeSlice(out, m.slice());
      out.bool(m.complete()).bool(m.more());
    }, in -> new Caught(readSlice(in), in.bool(), in.bool())).register(bus);
    BusCodec.wire(Unfollow.class, (out, m) -> out.string(m.log()).string(m.sink()), in -> new Unfollow(in.string(), in.string()))
        .register(bus);
    // The positions came later than the handles: each is written after its message's older
    // fields, so that nodes of both versions read each other's during a rolling upgrade.
    BusCodec.wire(Refresh.class, (out, m) -> {
      out.string(m.sink()).strings(m.logs().stream().map(Following::log).toList());
      m.logs().forEach(f -> out.longValue(f.position()));
    }, in -> {
      String sink = in.string();
      List<String> logs = in.strings();
      List<Following> following = new ArrayList<>(logs.size());
      for (String log : logs) {
        following.add(new Following(log, in.hasMore() ? in.longValue() : Following.UNKNOWN));
      }
      return new Refresh(sink, following);
    }).register(bus);
    BusCodec.wire(Refreshed.class, (out, m) -> writeFollowing(out.strings(m.unknown()), m.ahead()),
        in -> new Refreshed(in.strings(), in.hasMore() ? readFollowing(in) : List.of())).register(bus);
    BusCodec.wire(Moved.class, (out, m) -> out.string(m.log()).string(m.owner()), in -> new Moved(in.string(), in.string())).register(bus);
    BusCodec.wire(Pushes.class, (out, m) -> {
      out.intValue(m.pushes().size());
      for (Push push : m.pushes()) {
        out.string(push.log());
        writeSlice(out, push.slice());
        out.bool(push.complete());
      }
    }, in -> {
      int n = in.intValue();
      List<Push> pushes = new ArrayList<>(n);
      for (int i = 0; i < n; i++) {
        pushes.add(new Push(in.string(), readSlice(in), in.bool()));
      }
      return new Pushes(pushes);
    }).register(bus);
  }

  private static void writeFollowing(Wire out, List<Following> logs) {
    out.intValue(logs.size());
    for (Following f : logs) {
      out.string(f.log()).longValue(f.position());
    }
  }

  private static List<Following> readFollowing(Wire in) {
    int n = in.intValue();
    List<Following> logs = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      logs.add(new Following(in.string(), in.longValue()));
    }
    return logs;
  }

  private static void writeFollow(Wire out, Follow m) {
    if (m.log() instanceof FeedLog feed) {
      out.tag(1).string(feed.handle());
      FeedProtocol.writeFeed(out, feed.feed());
    } else if (m.log() instanceof Stream s) {
      out.tag(2).string(s.stream().envId()).string(s.stream().runId()).string(s.stream().key());
    }
    out.longValue(m.position()).string(m.sink());
  }

  private static Follow readFollow(Wire in) {
    byte tag = in.tag();
    Followed log = switch (tag) {
      case 1 -> new FeedLog(in.string(), FeedProtocol.readFeed(in));
      case 2 -> new Stream(new StreamRef(in.string(), in.string(), in.string()));
      default -> throw new IllegalArgumentException("unknown followed log tag " + tag);
    };
    return new Follow(log, in.longValue(), in.string());
  }

  private static void writeSlice(Wire out, Slice slice) {
    if (slice instanceof LogSlice log) {
      out.tag(1);
      log.write(out);
    } else if (slice instanceof ChunkSlice chunks) {
      out.tag(2);
      chunks.write(out);
    } else {
      throw new IllegalArgumentException("no wire form for " + slice.getClass().getName());
    }
  }

  private static Slice readSlice(Wire in) {
    byte tag = in.tag();
    return switch (tag) {
      case 1 -> LogSlice.read(in);
      case 2 -> ChunkSlice.read(in);
      default -> throw new IllegalArgumentException("unknown slice tag " + tag);
    };
  }
}
