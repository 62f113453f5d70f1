package io.freshet.core.feed;

import io.freshet.core.RunRow;

import io.freshet.core.bus.Wire;

import io.freshet.core.RunColumn;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The requests of the web edge to the routers about feed logs, on the clustered event bus: open (a
 * snapshot) and poll (what a client missed; held while live), answered with {@link Answer}. A
 * request goes to the router that owns the log (its handle names the node and router). Failures
 * travel as the message's failure code: an HTTP status and a message. SSE sessions follow logs
 * through the push path ({@link io.freshet.core.push.PushProtocol}), shared with streams.
 *
 * <p>Every field is written and read here, next to the record, so a renamed field cannot compile
 * on one side only.
 */
public final class FeedProtocol {

  private FeedProtocol() {}

  /** Anything that crosses the bus between the edge and a router. */
  public sealed interface Message permits Open, Poll, Cancel, Answer, Handover, Adopted {}

  /**
   * The feed a request names, as its URL and credentials name it: the router checks a handle
   * against it, so a handle is never good for another environment, filter or column set.
   */
  public record FeedRef(String envId, FeedFilter filter, Set<RunColumn> columns) {
    public FeedRef {
      columns = Set.copyOf(columns);
    }

    public void write(Wire out) {
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

    public static FeedRef read(Wire in) {
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
   * joined but replaced for newcomers. {@code credential} names the key or token that asks (never
   * the secret itself): the logs one public token may start are bounded.
   */
  public record Open(FeedRef feed, boolean skipHistory, String expiredHandle, String credential) implements Message {
    public Open {
      expiredHandle = expiredHandle == null ? "" : expiredHandle;
      credential = credential == null ? "" : credential;
    }

    public Open(FeedRef feed, boolean skipHistory, String expiredHandle) {
      this(feed, skipHistory, expiredHandle, "");
    }

    public Open(FeedRef feed, boolean skipHistory) {
      this(feed, skipHistory, "", "");
    }
  }

  /**
   * What the client at {@code offset} has not seen; with {@code live}, held until the log grows or
   * {@code holdMs} passes. {@code pollId} names the hold so that a {@link Cancel} releases only it.
   */
  public record Poll(String handle, FeedRef feed, long offset, boolean live, long holdMs, String pollId) implements Message {}

  /** The client of a held poll went away. */
  public record Cancel(String handle, String pollId) implements Message {}

  /** The log's handle and the slice that brings the client from its offset to the log's end. */
  public record Answer(String handle, LogSlice slice) implements Message {}

  /**
   * A stopping node hands a feed log to a router of another node ({@code NodeAddresses.feedAdoptions()}):
   * its handle (kept, so its clients resume with it), its feed, the offset it reached, its working
   * set, its retained entries, the versions at which recent runs left it, and the web edge sinks
   * whose SSE sessions follow it (the adopter pushes to them from then on). The adopter continues
   * the log from {@code seq}: a client at an offset it retained goes on; one further behind refetches.
   */
  public record Handover(String handle, FeedRef feed, long seq, List<RunRow> rows, java.util.Map<String, Long> left,
      List<HandedEntry> entries, List<String> sinks) implements Message {
    public Handover {
      rows = List.copyOf(rows);
      left = java.util.Map.copyOf(left);
      entries = List.copyOf(entries);
      sinks = List.copyOf(sinks);
    }
  }

  /**
   * One retained entry of a handed-over log, so that a client a few entries behind (a push still
   * on its way when the log moved) catches up at the new owner instead of refetching: its offset,
   * and each run's change in it ({@code ops}: insert, update, delete, parallel to {@code rows}).
   */
  public record HandedEntry(long seq, List<String> ops, List<RunRow> rows) {
    public HandedEntry {
      ops = List.copyOf(ops);
      rows = List.copyOf(rows);
    }
  }

  /** The answer to a {@link Handover}: the router address that serves the log now. */
  public record Adopted(String router) implements Message {}

  // --- wire form -----------------------------------------------------------------------------

  /** A feed reference in another message's wire form. */
  public static void writeFeed(Wire out, FeedRef feed) {
    feed.write(out);
  }

  public static FeedRef readFeed(Wire in) {
    return FeedRef.read(in);
  }

  /** Registers the codec of every message here (they cross nodes: a poll is forwarded to its log's owner). */
  public static void register(io.vertx.core.eventbus.EventBus bus) {
    for (Class<? extends Message> type : List.of(Open.class, Poll.class, Cancel.class, Answer.class, Handover.class, Adopted.class)) {
      registerOne(bus, type);
    }
  }

  private static <T extends Message> void registerOne(io.vertx.core.eventbus.EventBus bus, Class<T> type) {
    io.freshet.core.bus.BusCodec.wire(type, FeedProtocol::write, in -> type.cast(read(in))).register(bus);
  }

  static void write(Wire out, Message message) {
    if (message instanceof Open m) {
      out.tag(1);
      m.feed().write(out);
      out.bool(m.skipHistory()).string(m.expiredHandle()).string(m.credential());
    } else if (message instanceof Poll m) {
      out.tag(2).string(m.handle());
      m.feed().write(out);
      out.longValue(m.offset()).bool(m.live()).longValue(m.holdMs()).string(m.pollId());
    } else if (message instanceof Cancel m) {
      out.tag(3).string(m.handle()).string(m.pollId());
    } else if (message instanceof Answer m) {
      out.tag(7).string(m.handle());
      m.slice().write(out);
    } else if (message instanceof Handover m) {
      out.tag(8).string(m.handle());
      m.feed().write(out);
      out.longValue(m.seq()).intValue(m.rows().size());
      m.rows().forEach(row -> row.write(out));
      out.intValue(m.left().size());
      m.left().forEach((run, version) -> out.string(run).longValue(version));
      out.intValue(m.entries().size());
      for (HandedEntry entry : m.entries()) {
        out.longValue(entry.seq()).strings(entry.ops()).intValue(entry.rows().size());
        entry.rows().forEach(row -> row.write(out));
      }
      out.strings(m.sinks());
    } else if (message instanceof Adopted m) {
      out.tag(9).string(m.router());
    } else {
      throw new IllegalArgumentException("not a feed protocol message: " + message);
    }
  }

  private static Handover readHandover(Wire in) {
    String handle = in.string();
    FeedRef feed = FeedRef.read(in);
    long seq = in.longValue();
    int n = in.intValue();
    List<RunRow> rows = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      rows.add(RunRow.read(in));
    }
    int m = in.intValue();
    java.util.Map<String, Long> left = new java.util.HashMap<>();
    for (int i = 0; i < m; i++) {
      left.put(in.string(), in.longValue());
    }
    int e = in.intValue();
    List<HandedEntry> entries = new ArrayList<>(e);
    for (int i = 0; i < e; i++) {
      long entrySeq = in.longValue();
      List<String> ops = in.strings();
      int k = in.intValue();
      List<RunRow> entryRows = new ArrayList<>(k);
      for (int j = 0; j < k; j++) {
        entryRows.add(RunRow.read(in));
      }
      entries.add(new HandedEntry(entrySeq, ops, entryRows));
    }
    return new Handover(handle, feed, seq, rows, left, entries, in.strings());
  }

  static Message read(Wire in) {
    byte tag = in.tag();
    return switch (tag) {
      case 1 -> new Open(FeedRef.read(in), in.bool(), in.string(), in.string());
      case 2 -> new Poll(in.string(), FeedRef.read(in), in.longValue(), in.bool(), in.longValue(), in.string());
      case 3 -> new Cancel(in.string(), in.string());
      case 7 -> new Answer(in.string(), LogSlice.read(in));
      case 8 -> readHandover(in);
      case 9 -> new Adopted(in.string());
      default -> throw new IllegalArgumentException("unknown feed protocol message tag " + tag);
    };
  }
}
