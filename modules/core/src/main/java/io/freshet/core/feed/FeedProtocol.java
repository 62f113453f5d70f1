package io.freshet.core.feed;

import io.freshet.core.bus.Wire;

import io.freshet.core.RunColumn;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The messages between the web edge and the routers on the clustered event bus, in one place.
 * A request goes to the router that owns the feed log (its handle names the node and router);
 * {@link Answer} is the reply to {@link Open}, {@link Poll} and {@link Watch}; a router pushes
 * {@link Pushes} to the web edge instances ("sinks") whose SSE sessions watch its logs. Failures
 * travel as the message's failure code: an HTTP status and a message.
 *
 * <p>{@link FeedCodec} registers one codec per record; every field is written and read in the
 * record's own {@code write}/{@code read}, so a renamed field cannot compile on one side only.
 */
public final class FeedProtocol {

  private FeedProtocol() {}

  /** Anything that crosses the bus between the edge and a router. */
  public sealed interface Message permits Open, Poll, Cancel, Watch, Unwatch, Refresh, Answer, Refreshed, Pushes {}

  /**
   * The feed a request names, as its URL and credentials name it: the router checks a handle
   * against it, so a handle is never good for another environment, filter or column set.
   */
  public record FeedRef(String envId, FeedFilter filter, Set<RunColumn> columns) {
    public FeedRef {
      columns = Set.copyOf(columns);
    }

    void write(Wire out) {
      out.string(envId);
      FeedFilter.write(out, filter);
      List<String> names = new ArrayList<>();
      for (RunColumn column : RunColumn.values()) {
        if (columns.contains(column)) {
          names.add(column.name());
        }
      }
      out.strings(names);
    }

    static FeedRef read(Wire in) {
      String envId = in.string();
      FeedFilter filter = FeedFilter.read(in);
      EnumSet<RunColumn> columns = EnumSet.noneOf(RunColumn.class);
      for (String name : in.strings()) {
        columns.add(RunColumn.valueOf(name));
      }
      return new FeedRef(envId, filter, columns);
    }
  }

  /**
   * Opens (or joins) the feed's log: the snapshot, or with {@code skipHistory} only its offset
   * ({@code offset=now}). {@code expiredHandle} is a handle the client was told to refetch from
   * (a 409; empty when none): the answer must carry another one, so a log with that handle is not
   * joined but replaced for newcomers.
   */
  public record Open(FeedRef feed, boolean skipHistory, String expiredHandle) implements Message {
    public Open {
      expiredHandle = expiredHandle == null ? "" : expiredHandle;
    }

    public Open(FeedRef feed, boolean skipHistory) {
      this(feed, skipHistory, "");
    }
  }

  /**
   * What the client at {@code offset} has not seen; with {@code live}, held until the log grows or
   * {@code holdMs} passes. {@code pollId} names the hold so that a {@link Cancel} releases only it.
   */
  public record Poll(String handle, FeedRef feed, long offset, boolean live, long holdMs, String pollId) implements Message {}

  /** The client of a held poll went away. */
  public record Cancel(String handle, String pollId) implements Message {}

  /**
   * An SSE session at {@code offset} starts watching the log: the answer carries what it missed,
   * and every later growth is pushed to {@code sink} (the session's web edge instance) until
   * {@link Unwatch}, or until the sink stops refreshing.
   */
  public record Watch(String handle, FeedRef feed, long offset, String sink) implements Message {}

  /** The sink's last session on this log ended. */
  public record Unwatch(String handle, String sink) implements Message {}

  /** A sink's periodic proof of life for the logs it watches; the reply lists those the router no longer has. */
  public record Refresh(String sink, List<String> handles) implements Message {
    public Refresh {
      handles = List.copyOf(handles);
    }
  }

  /** The log's handle and the slice that brings the client from its offset to the log's end. */
  public record Answer(String handle, LogSlice slice) implements Message {}

  /** Handles of a {@link Refresh} that are gone: their sessions end, and the clients get 409 on reconnect. */
  public record Refreshed(List<String> unknown) implements Message {
    public Refreshed {
      unknown = List.copyOf(unknown);
    }
  }

  /** Logs that grew, for one sink: each slice continues where the previous push of its handle ended. */
  public record Pushes(List<Push> pushes) implements Message {
    public Pushes {
      pushes = List.copyOf(pushes);
    }
  }

  public record Push(String handle, LogSlice slice) {}

  // --- wire form -----------------------------------------------------------------------------

  static void write(Wire out, Message message) {
    if (message instanceof Open m) {
      out.tag(1);
      m.feed().write(out);
      out.bool(m.skipHistory()).string(m.expiredHandle());
    } else if (message instanceof Poll m) {
      out.tag(2).string(m.handle());
      m.feed().write(out);
      out.longValue(m.offset()).bool(m.live()).longValue(m.holdMs()).string(m.pollId());
    } else if (message instanceof Cancel m) {
      out.tag(3).string(m.handle()).string(m.pollId());
    } else if (message instanceof Watch m) {
      out.tag(4).string(m.handle());
      m.feed().write(out);
      out.longValue(m.offset()).string(m.sink());
    } else if (message instanceof Unwatch m) {
      out.tag(5).string(m.handle()).string(m.sink());
    } else if (message instanceof Refresh m) {
      out.tag(6).string(m.sink()).strings(m.handles());
    } else if (message instanceof Answer m) {
      out.tag(7).string(m.handle());
      m.slice().write(out);
    } else if (message instanceof Refreshed m) {
      out.tag(8).strings(m.unknown());
    } else if (message instanceof Pushes m) {
      out.tag(9).intValue(m.pushes().size());
      for (Push push : m.pushes()) {
        out.string(push.handle());
        push.slice().write(out);
      }
    } else {
      throw new IllegalArgumentException("not a feed protocol message: " + message);
    }
  }

  static Message read(Wire in) {
    byte tag = in.tag();
    return switch (tag) {
      case 1 -> new Open(FeedRef.read(in), in.bool(), in.string());
      case 2 -> new Poll(in.string(), FeedRef.read(in), in.longValue(), in.bool(), in.longValue(), in.string());
      case 3 -> new Cancel(in.string(), in.string());
      case 4 -> new Watch(in.string(), FeedRef.read(in), in.longValue(), in.string());
      case 5 -> new Unwatch(in.string(), in.string());
      case 6 -> new Refresh(in.string(), in.strings());
      case 7 -> new Answer(in.string(), LogSlice.read(in));
      case 8 -> new Refreshed(in.strings());
      case 9 -> {
        int n = in.intValue();
        List<Push> pushes = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
          pushes.add(new Push(in.string(), LogSlice.read(in)));
        }
        yield new Pushes(pushes);
      }
      default -> throw new IllegalArgumentException("unknown feed protocol message tag " + tag);
    };
  }
}
