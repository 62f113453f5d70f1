package io.freshet.bench;

import io.vertx.core.json.JsonArray;
import io.vertx.core.json.JsonObject;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.StandardSocketOptions;
import java.nio.ByteBuffer;
import java.nio.channels.SelectionKey;
import java.nio.channels.Selector;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The half-open phase's attacker, in a JVM of its own (so its CPU and file descriptors are its
 * own): TCP connections that send part of a request line or of the headers, then nothing, kept at
 * {@code sockets} open at once: each one the node closes is replaced at once, until {@code STOP}.
 * One thread, one selector.
 *
 * <p>Protocol on stdin/stdout, as {@link SseLoadClient}'s: prints {@code READY}; on {@code GO}
 * opens the first wave and prints {@code OPENED <connected> <ms>} once all of it is connected; on
 * {@code STOP} stops replacing, waits for the node to close what is left (at most
 * {@code drainMs}), and prints {@code RESULT <json>}: sockets opened and connected, closed by the
 * node (end of stream or reset), answered with bytes instead, still open at the end, and the time
 * from connect to close, for all of them and for the first wave.
 *
 * <p>Argument: a JSON spec file {@code {host, port, sockets, localAddresses: [...], drainMs}}.
 */
public final class HalfOpenClient {

  /** What each socket sends before falling silent: part of a request line, a line and part of the headers, part of a header. */
  static final List<String> PARTIAL_REQUESTS = List.of(
      "GET /realtime/v1/runs/",
      "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n",
      "POST /api/v1/tasks/x/trigger HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nAuthorization: Bearer tr_dev_");
  /** Connections started per round of the selector loop: a burst the node's accept backlog (4,096 here) takes. */
  private static final int OPEN_BATCH = 250;

  private static final class Conn {
    final boolean firstWave;
    final ByteBuffer partial;
    long connectedNs;
    boolean answered;

    Conn(boolean firstWave, String partial) {
      this.firstWave = firstWave;
      this.partial = ByteBuffer.wrap(partial.getBytes(StandardCharsets.US_ASCII));
    }
  }

  private final InetSocketAddress target;
  private final List<String> locals;
  private final int sockets;
  private final Selector selector;
  private final Histogram allCloses = new Histogram();
  private final Histogram firstWaveCloses = new Histogram();
  private long opened;
  private long connected;
  private long connectFailed;
  private long closedByNode;
  private long answered;
  private int open;
  private int firstWaveLeft;
  private long firstWaveOpenMs = -1;
  private long next;
  private volatile boolean go;
  private volatile boolean stop;

  private HalfOpenClient(InetSocketAddress target, List<String> locals, int sockets) throws IOException {
    this.target = target;
    this.locals = locals;
    this.sockets = sockets;
    this.selector = Selector.open();
    this.firstWaveLeft = sockets;
  }

  public static void main(String[] args) throws Exception {
    JsonObject spec = new JsonObject(Files.readString(Path.of(args[0])));
    List<String> locals = spec.getJsonArray("localAddresses", new JsonArray().add("127.0.0.1")).stream().map(Object::toString).toList();
    HalfOpenClient client = new HalfOpenClient(new InetSocketAddress(spec.getString("host", "127.0.0.1"), spec.getInteger("port")), locals,
        spec.getInteger("sockets"));
    Thread commands = new Thread(() -> {
      try (BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8))) {
        for (String line; (line = in.readLine()) != null; ) {
          if (line.equals("GO")) {
            client.go = true;
          } else if (line.equals("STOP")) {
            client.stop = true;
          }
          client.selector.wakeup();
        }
      } catch (IOException e) {
        client.stop = true;
      }
    }, "commands");
    commands.setDaemon(true);
    commands.start();
    System.out.println("READY");
    System.out.flush();
    client.run(spec.getLong("drainMs", 10_000L));
    System.exit(0);
  }

  private void run(long drainMs) throws IOException {
    while (!go) {
      selector.select(100);
    }
    long started = System.nanoTime();
    boolean reportedOpened = false;
    long stopDeadline = Long.MAX_VALUE;
    while (true) {
      if (!stop) {
        // Keep `sockets` open: the first wave, then a replacement for each one the node closed.
        for (int i = 0; i < OPEN_BATCH && open < sockets; i++) {
          openOne(opened < sockets);
        }
      } else if (stopDeadline == Long.MAX_VALUE) {
        stopDeadline = System.nanoTime() + drainMs * 1_000_000;
      }
      if (!reportedOpened && firstWaveLeft == 0) {
        reportedOpened = true;
        firstWaveOpenMs = (System.nanoTime() - started) / 1_000_000;
        System.out.println("OPENED " + connected + " " + firstWaveOpenMs);
        System.out.flush();
      }
      if (stop && (open == 0 || System.nanoTime() > stopDeadline)) {
        break;
      }
      selector.select(20);
      var keys = selector.selectedKeys().iterator();
      while (keys.hasNext()) {
        SelectionKey key = keys.next();
        keys.remove();
        handle(key);
      }
    }
    long stillOpen = open;
    for (SelectionKey key : selector.keys()) {
      key.channel().close();
    }
    JsonObject result = new JsonObject().put("opened", opened).put("connected", connected).put("connectFailed", connectFailed)
        .put("closedByNode", closedByNode).put("answered", answered).put("stillOpen", stillOpen)
        .put("closeMs", allCloses.toJson()).put("firstWaveCloseMs", firstWaveCloses.toJson()).put("firstWaveOpenMs", firstWaveOpenMs)
        .put("cpuSeconds", ProcessCpu.self());
    System.out.println("RESULT " + result.encode());
    System.out.flush();
  }

  private void openOne(boolean firstWave) throws IOException {
    SocketChannel channel = SocketChannel.open();
    channel.configureBlocking(false);
    channel.setOption(StandardSocketOptions.SO_LINGER, 0); // our own close (at the end) is a reset: no TIME_WAIT left behind
    channel.bind(new InetSocketAddress(locals.get((int) (next % locals.size())), 0));
    Conn conn = new Conn(firstWave, PARTIAL_REQUESTS.get((int) (next % PARTIAL_REQUESTS.size())));
    next++;
    opened++;
    open++;
    try {
      if (channel.connect(target)) {
        connected(channel, conn);
      } else {
        channel.register(selector, SelectionKey.OP_CONNECT, conn);
      }
    } catch (IOException e) {
      failed(channel, conn);
    }
  }

  private void handle(SelectionKey key) throws IOException {
    SocketChannel channel = (SocketChannel) key.channel();
    Conn conn = (Conn) key.attachment();
    if (key.isConnectable()) {
      try {
        channel.finishConnect();
        connected(channel, conn);
      } catch (IOException e) {
        key.cancel();
        failed(channel, conn);
      }
      return;
    }
    if (key.isReadable()) {
      ByteBuffer buffer = ByteBuffer.allocate(1024);
      int n;
      try {
        n = channel.read(buffer);
      } catch (IOException reset) {
        n = -1;
      }
      if (n > 0 && !conn.answered) {
        conn.answered = true; // the node wrote something (it should not): counted, and its close still waited for
        answered++;
      } else if (n < 0) {
        long ms = (System.nanoTime() - conn.connectedNs) / 1_000_000;
        allCloses.record(ms);
        if (conn.firstWave) {
          firstWaveCloses.record(ms);
        }
        closedByNode++;
        open--;
        key.cancel();
        channel.close();
      }
    }
  }

  private void connected(SocketChannel channel, Conn conn) throws IOException {
    conn.connectedNs = System.nanoTime();
    connected++;
    if (conn.firstWave) {
      firstWaveLeft--;
    }
    channel.write(conn.partial); // a few dozen bytes: always fit the socket buffer
    channel.register(selector, SelectionKey.OP_READ, conn);
  }

  private void failed(SocketChannel channel, Conn conn) throws IOException {
    connectFailed++;
    open--;
    if (conn.firstWave) {
      firstWaveLeft--;
    }
    channel.close();
  }
}
