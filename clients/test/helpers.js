// Shared helpers for the client tests. Everything talks to a real Freshet node whose address and
// keys come from the environment (clients/run.sh exports them).
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { after } from "node:test";
import { fileURLToPath } from "node:url";

// Whatever a test left open (a failed assertion skips its cleanup) is stopped when the file ends,
// so a failing test file still exits instead of hanging on a held request.
const openStreams = new Set();
after(() => {
  for (const stop of openStreams) {
    stop();
  }
});

/** Registers a stop function to run when the test file ends; returns it. */
export function track(stop) {
  openStreams.add(stop);
  return stop;
}

function required(name) {
  const value = process.env[name];
  if (!value) {
    throw new Error(`${name} is not set: run the tests through clients/run.sh`);
  }
  return value;
}

export const BASE = required("FRESHET_BASE_URL");
export const SECRET = required("FRESHET_SECRET_KEY");
export const OTHER_KEY = process.env.FRESHET_OTHER_KEY;
/** A node with realtime.maxConnectionsPerEnv=2 and a short SSE keep-alive, for the limits test. */
export const LIMITED_BASE = process.env.FRESHET_LIMITED_BASE_URL;

/** A unique suffix so tests sharing the database never see each other's tags. */
export function unique(prefix) {
  return `${prefix}-${Date.now().toString(36)}-${Math.random().toString(36).slice(2, 8)}`;
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/** A plain JSON call; returns status, headers and the parsed body (or the text). */
export async function http(method, path, { key = SECRET, body, headers = {}, base = BASE } = {}) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: {
      ...(key ? { authorization: `Bearer ${key}` } : {}),
      ...(body !== undefined ? { "content-type": "application/json" } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: response.status, headers: response.headers, json, text };
}

/** Drives a run's status the way an engine would (completed/failed set completedAt). */
export async function transition(runId, to, extra = {}, key = SECRET) {
  const res = await http("POST", `/engine/v1/runs/${runId}/transitions`, { key, body: { to, ...extra } });
  assert.equal(res.status, 200, `transition ${runId} -> ${to}: ${res.status} ${res.text}`);
  return res.json;
}

/**
 * Consumes an async iterable (a trigger.dev RunSubscription) in the background, keeping every
 * item, so a test can wait for a condition with a deadline instead of hanging: a subscription
 * that hits a 4xx goes silent without ending.
 */
export function collect(iterable, { stop } = {}) {
  const items = [];
  const state = { done: false, error: undefined };
  const finished = (async () => {
    try {
      for await (const item of iterable) {
        items.push(item);
      }
    } catch (error) {
      state.error = error;
    } finally {
      state.done = true;
    }
  })();
  track(() => iterable.unsubscribe?.());
  return {
    items,
    state,
    finished,
    async waitFor(predicate, label, timeoutMs = 15_000) {
      const deadline = Date.now() + timeoutMs;
      while (Date.now() < deadline) {
        if (state.error) {
          throw state.error;
        }
        const found = predicate(items);
        if (found) {
          return found;
        }
        if (state.done) {
          break;
        }
        await sleep(20);
      }
      throw new Error(`timed out waiting for ${label}; got ${items.length} items: ${JSON.stringify(items.slice(-5), null, 1).slice(0, 4000)}`);
    },
    async waitForEnd(label, timeoutMs = 15_000) {
      const timer = sleep(timeoutMs).then(() => "timeout");
      const outcome = await Promise.race([finished.then(() => "ended"), timer]);
      if (state.error) {
        throw state.error;
      }
      assert.equal(outcome, "ended", `${label}: the subscription did not end`);
    },
    /** Ends the subscription (its held request is aborted), so the test process can exit. */
    stop() {
      iterable.unsubscribe?.();
      stop?.();
    },
  };
}

/**
 * Every row a subscription delivered must equal one of the states committed so far (never a
 * stale or invented one), states must never go backwards, and the last one must be delivered.
 * {@code project} picks the compared fields from a delivered row.
 */
export function assertCommittedSequence(rows, committed, project, label) {
  let last = -1;
  for (const row of rows) {
    const seen = project(row);
    const index = committed.findIndex((state) => isDeepStrictEqual(state, seen));
    assert.ok(index >= 0, `${label}: delivered a row that was never committed: ${JSON.stringify(seen)}\ncommitted: ${JSON.stringify(committed)}`);
    assert.ok(index >= last, `${label}: went back from state ${last} to ${index}: ${JSON.stringify(seen)}`);
    last = index;
  }
  assert.equal(last, committed.length - 1, `${label}: the final change was not delivered`);
}

function isDeepStrictEqual(a, b) {
  try {
    assert.deepStrictEqual(a, b);
    return true;
  } catch {
    return false;
  }
}

/** Waits until `check()` is truthy, polling. */
export async function eventually(check, label, timeoutMs = 15_000) {
  const deadline = Date.now() + timeoutMs;
  let lastError;
  while (Date.now() < deadline) {
    try {
      const value = await check();
      if (value) {
        return value;
      }
    } catch (error) {
      lastError = error;
    }
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${label}${lastError ? `: ${lastError.message}` : ""}`);
}

/** The value of a Prometheus gauge from /metrics (summed over label sets). */
export async function metric(name, base = BASE) {
  const text = await (await fetch(`${base}/metrics`)).text();
  let total = 0;
  let found = false;
  for (const line of text.split("\n")) {
    if (line.startsWith(name + " ") || line.startsWith(name + "{")) {
      total += Number(line.slice(line.lastIndexOf(" ") + 1));
      found = true;
    }
  }
  return found ? total : undefined;
}

/**
 * A TCP proxy in front of a node that a test can cut: `cut()` resets every connection through it
 * (what a load balancer restart or a network blip does to a long request), new ones still pass.
 */
export async function cuttableProxy(target = BASE) {
  const { createServer, connect } = await import("node:net");
  const url = new URL(target);
  const sockets = new Set();
  const server = createServer((client) => {
    const upstream = connect(Number(url.port), url.hostname);
    const pair = { client, upstream };
    sockets.add(pair);
    client.pipe(upstream);
    upstream.pipe(client);
    const drop = () => {
      sockets.delete(pair);
      client.destroy();
      upstream.destroy();
    };
    client.on("error", drop).on("close", drop);
    upstream.on("error", drop).on("close", drop);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  const proxy = {
    base: `http://127.0.0.1:${server.address().port}`,
    /** Resets every open connection; returns how many there were. */
    cut() {
      const n = sockets.size;
      for (const { client, upstream } of [...sockets]) {
        client.resetAndDestroy?.() ?? client.destroy();
        upstream.destroy();
      }
      sockets.clear();
      return n;
    },
    close() {
      proxy.cut();
      server.close();
    },
  };
  track(() => proxy.close());
  return proxy;
}

/**
 * Starts the simulated task process (test/stream-task.mjs): the SDK's own stream writer pipes
 * `count` chunks {i, token} to stream `key` of `runId`. Resolves with its exit code and output.
 */
export async function streamTask(options) {
  const task = startStreamTask(options);
  return task.exited;
}

/** The task process, started: `exited` resolves with its exit code and output; `kill()` stops it. */
export function startStreamTask({ runId, key = "tokens", count = 500, intervalMs = 2, base = BASE, holdOpen = false }) {
  const child = spawn(process.execPath, [fileURLToPath(new URL("./stream-task.mjs", import.meta.url))], {
    env: {
      ...process.env, FRESHET_BASE_URL: base, RUN_ID: runId, KEY: key, COUNT: String(count), INTERVAL_MS: String(intervalMs),
      HOLD_OPEN: holdOpen ? "1" : "0",
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const kill = track(() => child.kill());
  let output = "";
  child.stdout.on("data", (d) => (output += d));
  child.stderr.on("data", (d) => (output += d));
  const exited = new Promise((resolve) => child.on("exit", (code) => resolve({ code, output })));
  return { exited, kill };
}

/** Asserts `chunks` (the SDK's or a browser's) are {i} 0..count-1, in order, each once. */
export function assertEveryChunkOnce(chunks, count, label) {
  const seen = chunks.map((c) => c.i);
  const expected = Array.from({ length: count }, (_, i) => i);
  if (!isDeepStrictEqual(seen, expected)) {
    const dupes = seen.filter((v, i) => seen.indexOf(v) !== i).slice(0, 10);
    const missing = expected.filter((v) => !seen.includes(v)).slice(0, 10);
    assert.fail(`${label}: ${seen.length} chunks, expected ${count} in order once each; repeated ${JSON.stringify(dupes)}, missing ${JSON.stringify(missing)}`);
  }
}

/**
 * Debian's Chromium (clients/run.sh installs it), headless, on a fresh profile removed by
 * `close()`. `options` go to playwright's launchPersistentContext (a viewport, say).
 */
export async function launchChromium(options = {}) {
  const { chromium } = await import("playwright-core");
  const { mkdtempSync, rmSync } = await import("node:fs");
  const { tmpdir } = await import("node:os");
  const { join } = await import("node:path");
  const profile = mkdtempSync(join(tmpdir(), "freshet-chromium-"));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.FRESHET_CHROMIUM ?? "/usr/bin/chromium",
    headless: true,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-quic",
      "--no-first-run", "--disable-component-update", "--disable-sync"],
    ...options,
  });
  return {
    context,
    async close() {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/**
 * Serves one HTML page from another origin than the node's (localhost rather than 127.0.0.1, and
 * another port), as a web app on its own domain would be.
 */
export async function servePage(html) {
  const { createServer } = await import("node:http");
  const server = createServer((req, res) => {
    res.writeHead(200, { "content-type": "text/html; charset=utf-8" });
    res.end(html);
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return { origin: `http://localhost:${server.address().port}`, close: () => server.close() };
}
