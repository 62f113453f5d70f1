package io.freshet.publisher;

import io.freshet.core.FreshetException;
import io.freshet.core.stream.StreamAnnouncement;
import io.freshet.core.stream.StreamChunk;
import io.freshet.core.stream.StreamProtocol.Append;
import io.freshet.core.stream.StreamProtocol.Appended;
import io.freshet.core.stream.StreamProtocol.Line;
import io.freshet.core.stream.StreamRef;
import io.vertx.core.Future;
import io.vertx.core.Promise;
import io.vertx.pgclient.PgException;
import io.vertx.sqlclient.Pool;
import io.vertx.sqlclient.Row;
import io.vertx.sqlclient.Tuple;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Consumer;

/**
 * Appends writers' lines to the primary with group commit: whatever arrives while a statement is
 * in flight, from every writer on the node, goes in the next one. An idle node writes a line at
 * once; a busy one writes thousands of lines of hundreds of streams per statement, so the commit
 * rate stays bounded while the chunk rate grows. After each commit the environments' streams are
 * announced on the clustered bus with the commit's watermark.
 *
 * <p>One statement per batch does everything: drops lines a resuming writer already stored (same
 * client id and chunk index), bumps each stream's counters (only open streams under their limits
 * match), numbers the lines from the counters' old values, inserts them. Because the counter row
 * is locked by the bump, appends to one stream serialize and seq order is commit order. A
 * concurrent duplicate or a deadlock between two nodes' batches fails the statement; it is retried.
 *
 * <p>Called on the publisher's event loop only.
 */
final class StreamAppender {

  static final String APPEND = "WITH t AS (SELECT " + RunWrites.NOW + " AS now),"
      + " s AS (SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::bool[]) WITH ORDINALITY AS s(env_id, run_id, stream_key, close, stream)),"
      + " l AS (SELECT l.stream, l.client_id, l.chunk_index, l.data, l.ord"
      + "   FROM unnest($5::int8[], $6::text[], $7::int4[], $8::text[]) WITH ORDINALITY AS l(stream, client_id, chunk_index, data, ord)"
      + "   JOIN s ON s.stream = l.stream"
      + "   WHERE l.client_id IS NULL OR NOT EXISTS (SELECT 1 FROM stream_chunks c WHERE c.run_id = s.run_id"
      + "     AND c.stream_key = s.stream_key AND c.client_id = l.client_id AND c.chunk_index = l.chunk_index)),"
      + " n AS (SELECT stream, count(*) AS n, sum(octet_length(data)) AS b FROM l GROUP BY stream),"
      + " u AS (UPDATE realtime_streams r SET next_seq = r.next_seq + COALESCE(n.n, 0), bytes = r.bytes + COALESCE(n.b, 0),"
      + "     appended_at = CASE WHEN n.n > 0 THEN t.now ELSE r.appended_at END,"
      + "     closed_at = CASE WHEN s.close THEN t.now END"
      + "   FROM t, s LEFT JOIN n ON n.stream = s.stream"
      + "   WHERE r.env_id = s.env_id AND r.run_id = s.run_id AND r.stream_key = s.stream_key AND r.closed_at IS NULL"
      + "     AND r.next_seq + COALESCE(n.n, 0) <= $9 AND r.bytes + COALESCE(n.b, 0) <= $10"
      + "   RETURNING s.stream, r.next_seq - COALESCE(n.n, 0) AS first_seq, r.next_seq - 1 AS last_seq, s.close, t.now AS at),"
      + " ins AS (INSERT INTO stream_chunks (run_id, stream_key, seq, client_id, chunk_index, data, created_at)"
      + "   SELECT s.run_id, s.stream_key, u.first_seq + row_number() OVER (PARTITION BY l.stream ORDER BY l.ord) - 1,"
      + "     l.client_id, l.chunk_index, l.data, u.at"
      + "   FROM l JOIN u ON u.stream = l.stream JOIN s ON s.stream = l.stream RETURNING 1)"
      // The watermark: the clock once every line is in (the aggregate reads all of ins first), so
      // the gate's wait starts no earlier than the commit, whatever the batch's size.
      + " SELECT u.stream, u.first_seq, u.last_seq, u.close, u.at, k.done FROM u,"
      + "   (SELECT (COALESCE(max(clock_timestamp()), clock_timestamp()) AT TIME ZONE 'utc')::timestamp(3) AS done FROM ins) k";
  static final String WHY = "SELECT closed_at IS NOT NULL AS closed, next_seq, bytes FROM realtime_streams"
      + " WHERE env_id = $1 AND run_id = $2 AND stream_key = $3";

  /** Lines per statement: enough to amortise a commit, few enough to keep one statement short. */
  static final int MAX_LINES_PER_BATCH = 4000;
  /** Statements in flight: one filling while one commits. */
  static final int MAX_IN_FLIGHT = 2;
  private static final int MAX_ATTEMPTS = 3;

  private record Pending(Append append, Promise<Appended> reply) {}

  private final Pool primary;
  private final Consumer<StreamAnnouncement> announce;
  private final long maxChunks;
  private final long maxBytes;
  private final int carryMaxBytes;
  private final ArrayDeque<Pending> queue = new ArrayDeque<>();
  private int inFlight;

  /**
   * @param carryMaxBytes an announcement carries a stream's new chunks when they total at most this
   *     (0: never)
   */
  StreamAppender(Pool primary, Consumer<StreamAnnouncement> announce, long maxChunks, long maxBytes, int carryMaxBytes) {
    this.primary = primary;
    this.announce = announce;
    this.maxChunks = maxChunks;
    this.maxBytes = maxBytes;
    this.carryMaxBytes = carryMaxBytes;
  }

  Future<Appended> append(Append append) {
    Promise<Appended> reply = Promise.promise();
    queue.add(new Pending(append, reply));
    drain();
    return reply.future();
  }

  private void drain() {
    while (inFlight < MAX_IN_FLIGHT && !queue.isEmpty()) {
      List<Pending> batch = new ArrayList<>();
      int lines = 0;
      while (!queue.isEmpty() && (batch.isEmpty() || lines + queue.peek().append().lines().size() <= MAX_LINES_PER_BATCH)) {
        Pending next = queue.poll();
        batch.add(next);
        lines += next.append().lines().size();
      }
      inFlight++;
      write(batch, 1).onComplete(ar -> {
        inFlight--;
        drain();
      });
    }
  }

  /** One statement for {@code batch}; each pending append is answered from its stream's row. */
  private Future<Void> write(List<Pending> batch, int attempt) {
    Map<StreamRef, Integer> streams = new LinkedHashMap<>();
    Map<StreamRef, Boolean> closing = new HashMap<>();
    Map<StreamRef, List<String>> sent = new HashMap<>();
    List<Long> lineStream = new ArrayList<>();
    List<String> clients = new ArrayList<>();
    List<Integer> indexes = new ArrayList<>();
    List<String> data = new ArrayList<>();
    for (Pending p : batch) {
      Append a = p.append();
      int stream = streams.computeIfAbsent(a.stream(), s -> streams.size() + 1);
      closing.merge(a.stream(), a.close(), Boolean::logicalOr);
      List<String> streamLines = sent.computeIfAbsent(a.stream(), s -> new ArrayList<>());
      for (Line line : a.lines()) {
        streamLines.add(line.data());
        lineStream.add((long) stream);
        clients.add(a.clientId());
        indexes.add(a.clientId() == null ? null : line.index());
        data.add(line.data());
      }
    }
    List<StreamRef> refs = new ArrayList<>(streams.keySet());
    Tuple params = Tuple.tuple()
        .addArrayOfString(refs.stream().map(StreamRef::envId).toArray(String[]::new))
        .addArrayOfString(refs.stream().map(StreamRef::runId).toArray(String[]::new))
        .addArrayOfString(refs.stream().map(StreamRef::key).toArray(String[]::new))
        .addArrayOfBoolean(refs.stream().map(closing::get).toArray(Boolean[]::new))
        .addArrayOfLong(lineStream.toArray(Long[]::new))
        .addArrayOfString(clients.toArray(String[]::new))
        .addArrayOfInteger(indexes.toArray(Integer[]::new))
        .addArrayOfString(data.toArray(String[]::new))
        .addLong(maxChunks)
        .addLong(maxBytes);
    return primary.preparedQuery(APPEND).execute(params).compose(rows -> {
      Map<StreamRef, Long> lastSeq = new HashMap<>();
      Map<String, List<StreamAnnouncement.Item>> byEnv = new LinkedHashMap<>();
      for (Row row : rows) {
        StreamRef ref = refs.get((int) (row.getLong("stream") - 1));
        long first = row.getLong("first_seq");
        long last = row.getLong("last_seq");
        boolean closed = Boolean.TRUE.equals(row.getBoolean("close"));
        lastSeq.put(ref, last);
        if (last >= first || closed) {
          byEnv.computeIfAbsent(ref.envId(), e -> new ArrayList<>()).add(new StreamAnnouncement.Item(ref.runId(), ref.key(), last,
              StreamWrites.epochMs(row.getLocalDateTime("done")), closed,
              carried(sent.get(ref), first, last, StreamWrites.epochMs(row.getLocalDateTime("at")))));
        }
      }
      byEnv.forEach((env, items) -> announce.accept(new StreamAnnouncement(env, items, List.of())));
      List<Future<Void>> refusals = new ArrayList<>();
      for (Pending p : batch) {
        Long last = lastSeq.get(p.append().stream());
        if (last != null) {
          p.reply().complete(new Appended(last));
        } else {
          refusals.add(refusal(p.append().stream()).onComplete(ar -> p.reply().fail(ar.cause())).mapEmpty());
        }
      }
      return Future.join(refusals).<Void>mapEmpty().otherwiseEmpty();
    }).recover(e -> {
      if (attempt < MAX_ATTEMPTS && retryable(e)) {
        return write(batch, attempt + 1);
      }
      batch.forEach(p -> p.reply().tryFail(e));
      return Future.succeededFuture();
    });
  }

  /**
   * The chunks one stream's commit stored, when the writer knows them: every line it sent was stored
   * (none was a resumed writer's duplicate), so they are numbered {@code first..last} in the order
   * sent; and they fit an announcement. Otherwise none: readers read them from the replica.
   */
  private List<StreamChunk> carried(List<String> lines, long first, long last, long atMs) {
    if (lines == null || lines.size() != last - first + 1 || carryMaxBytes <= 0) {
      return List.of();
    }
    int bytes = 0;
    for (String line : lines) {
      bytes += line.length();
      if (bytes > carryMaxBytes) {
        return List.of();
      }
    }
    List<StreamChunk> chunks = new ArrayList<>(lines.size());
    for (int i = 0; i < lines.size(); i++) {
      chunks.add(new StreamChunk(first + i, atMs, lines.get(i)));
    }
    return chunks;
  }

  /** Why the statement left a stream out: it is closed, full, or gone. Always a failed future. */
  private Future<Void> refusal(StreamRef ref) {
    return primary.preparedQuery(WHY).execute(Tuple.of(ref.envId(), ref.runId(), ref.key())).compose(rows -> {
      if (rows.size() == 0) {
        return Future.failedFuture(FreshetException.notFound("stream '" + ref.key() + "' of run " + ref.runId()
            + " does not exist (never registered, or past retention)"));
      }
      Row row = rows.iterator().next();
      if (Boolean.TRUE.equals(row.getBoolean("closed"))) {
        return Future.failedFuture(new FreshetException(409, "stream '" + ref.key() + "' of run " + ref.runId()
            + " is closed: its writer ended it, or the run ended"));
      }
      return Future.failedFuture(FreshetException.tooLarge("stream '" + ref.key() + "' of run " + ref.runId() + " is full: it holds "
          + row.getLong("next_seq") + " chunks and " + row.getLong("bytes") + " bytes (limits: " + maxChunks
          + " chunks, streams.maxChunksPerStream; " + maxBytes + " bytes, streams.maxBytesPerStream)"));
    });
  }

  /** A concurrent duplicate (another node stored the same writer chunk) or a deadlock between batches. */
  private static boolean retryable(Throwable e) {
    return e instanceof PgException pg && ("23505".equals(pg.getSqlState()) || "40P01".equals(pg.getSqlState()));
  }
}
