// Realtime streams with the real @trigger.dev/sdk 4.8.3: a simulated task process writes through
// the SDK's own stream writer (streams.pipe: PUT, then one long NDJSON POST, HEAD to resume),
// readers follow with runs.subscribeToRun(id).withStreams(), streams.read / fetchStream, and a
// plain EventSource in headless Chromium.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { configure, runs, streams, tasks } from "@trigger.dev/sdk";
import { ApiClient, apiClientManager, realtimeStreams } from "@trigger.dev/core/v3";
import { StandardRealtimeStreamsManager } from "@trigger.dev/core/v3/workers";
import {
  BASE, LIMITED_BASE, SECRET, assertEveryChunkOnce, collect, cuttableProxy, eventually, http, launchChromium, metric, servePage, sleep,
  startStreamTask, streamTask, track,
  transition,
} from "./helpers.js";


// What a web app would ship: a plain EventSource on the stream (the token rides in ?token=).
// EventSource reconnects after every close, with Last-Event-ID; the server answers a finished
// stream with 204, which is what makes it stop (readyState CLOSED).
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Freshet stream</title></head><body><script>
window.chunks = [];
window.opens = 0;
window.follow = (url) => {
  const source = new EventSource(url);
  source.onopen = () => window.opens++;
  source.onmessage = (event) => window.chunks.push({ id: event.lastEventId, chunk: JSON.parse(event.data) });
  source.onerror = () => { if (source.readyState === EventSource.CLOSED) window.closedAt = Date.now(); };
};
</script></body></html>`;

async function triggerExecuting(task) {
  const handle = await tasks.trigger(task, { prompt: "stream me" });
  await transition(handle.id, "executing");
  return handle;
}

/** Everything a stream read yields, in the background (a ReadableStream of chunks). */
function drain(stream) {
  const got = [];
  const state = { done: false, error: undefined };
  const finished = (async () => {
    try {
      for await (const chunk of stream) {
        got.push(chunk);
      }
    } catch (error) {
      state.error = error;
    } finally {
      state.done = true;
    }
  })();
  return { got, state, finished };
}

describe("realtime streams through the SDK", () => {
  let pageServer;
  let pageOrigin;
  let context;
  let browser;

  before(async () => {
    configure({ baseURL: BASE, secretKey: SECRET });
    // This process appends too (streams.append), as a task would.
    realtimeStreams.setGlobalManager(new StandardRealtimeStreamsManager(apiClientManager.clientOrThrow(), BASE));
    pageServer = await servePage(PAGE);
    pageOrigin = pageServer.origin;
    browser = await launchChromium();
    context = browser.context;
  });

  after(async () => {
    await browser?.close();
    pageServer?.close();
  });

  test("500 chunks from the SDK's stream writer reach withStreams() and a browser EventSource in order, once each; the run's completion ends both reads", async () => {
    const handle = await triggerExecuting("stream-task");
    const sub = collect(runs.subscribeToRun(handle.id).withStreams());
    const page = await context.newPage();
    await page.goto(pageOrigin);
    const url = `${BASE}/realtime/v1/streams/${handle.id}/tokens?token=${encodeURIComponent(handle.publicAccessToken)}`;
    await page.evaluate((u) => window.follow(u), url);

    // The task is still running after its 500th chunk, so its writer never closes the stream.
    const task = startStreamTask({ runId: handle.id, count: 500, intervalMs: 2, holdOpen: true });

    const sdkChunks = () => sub.items.filter((e) => e.type === "tokens").map((e) => e.chunk);
    await sub.waitFor(() => sdkChunks().length >= 500, "500 chunks through withStreams()", 30_000);
    await page.waitForFunction(() => window.chunks.length >= 500, null, { timeout: 30_000 });
    // The run row announced the stream: withStreams() found it there.
    const runEvents = sub.items.filter((e) => e.type === "run");
    assert.ok(runEvents.some((e) => e.run.id === handle.id), "run rows arrive beside the stream");

    assert.equal(await metric("freshet_stream_readers"), 2, "the SDK's stream read and the browser's are open");
    await transition(handle.id, "completed", { output: { ok: true } });
    // The completion ends both reads: the node ends the SDK's stream response (withStreams() itself
    // goes on until its consumer breaks out: in 4.8.3 its run half never closes by itself, against
    // trigger.dev too), and the browser's EventSource reconnects once, gets 204, and stays closed.
    await sub.waitFor((items) => items.find((e) => e.type === "run" && e.run.status === "COMPLETED"), "the completed run", 15_000);
    await page.waitForFunction(() => window.closedAt, null, { timeout: 30_000 });
    await eventually(async () => (await metric("freshet_stream_readers")) === 0, "every stream read ended by the node", 15_000);
    sub.stop();
    task.kill();

    assertEveryChunkOnce(sdkChunks(), 500, "withStreams()");
    const browser = await page.evaluate(() => window.chunks);
    assertEveryChunkOnce(browser.map((c) => c.chunk), 500, "EventSource");
    assert.match(browser[0].id, /^\d{13}-0$/, "event ids are <ms>-<seq>");
    assert.ok(sub.items.some((e) => e.type === "run" && e.run.status === "COMPLETED"), "the completed run arrived");
    await page.close();
  });

  test("a writer and a reader cut off mid-stream both resume: nothing lost, nothing repeated", async () => {
    const handle = await triggerExecuting("stream-task");
    const writerPath = await cuttableProxy();
    const readerPath = await cuttableProxy();
    // The reader goes through its own proxy: fetchStream as streams.read() calls it.
    const reader = drain(await new ApiClient(readerPath.base, SECRET).fetchStream(handle.id, "tokens", { timeoutInSeconds: 60 }));
    const writing = streamTask({ runId: handle.id, count: 600, intervalMs: 5, base: writerPath.base });

    await eventually(() => reader.got.length >= 150, "150 chunks before the reader's cut", 30_000);
    assert.ok(readerPath.cut() >= 1, "the reader's connection was cut");
    await eventually(() => reader.got.length >= 300, "300 chunks before the writer's cut", 30_000);
    assert.ok(writerPath.cut() >= 1, "the writer's connection was cut");

    const task = await writing;
    assert.equal(task.code, 0, `the task process failed: ${task.output}`);
    // The writer's end closed the stream: the reader's stream ends once it has every chunk.
    await Promise.race([reader.finished, sleep(30_000)]);
    assert.equal(reader.state.done, true, `the reader did not end; it has ${reader.got.length}`);
    assert.equal(reader.state.error, undefined);
    assertEveryChunkOnce(reader.got, 600, "the resumed reader");

    // A reader arriving after the end reads the whole stream from the replica, then ends.
    const late = drain(await streams.read(handle.id, "tokens", { timeoutInSeconds: 10 }));
    await Promise.race([late.finished, sleep(20_000)]);
    assertEveryChunkOnce(late.got, 600, "a late reader");
    // startIndex: from chunk 590 on (Last-Event-ID 589).
    const tail = drain(await streams.read(handle.id, "tokens", { startIndex: 590, timeoutInSeconds: 10 }));
    await Promise.race([tail.finished, sleep(20_000)]);
    assert.deepEqual(tail.got.map((c) => c.i), [590, 591, 592, 593, 594, 595, 596, 597, 598, 599]);
  });

  test("streams.append parts reach a reader, and the run's end closes a stream whose writer never ended it", async () => {
    const handle = await triggerExecuting("append-task");
    const reader = drain(await streams.read(handle.id, "progress", { timeoutInSeconds: 30 }));
    for (let step = 1; step <= 5; step++) {
      await streams.append("progress", JSON.stringify({ step }), { target: handle.id });
    }
    await eventually(() => reader.got.length >= 5, "5 appended parts", 15_000);
    assert.deepEqual(reader.got.map((c) => c.step), [1, 2, 3, 4, 5]);
    assert.equal(reader.state.done, false, "an open stream keeps its reader");
    await transition(handle.id, "completed");
    await Promise.race([reader.finished, sleep(15_000)]);
    assert.equal(reader.state.done, true, "the run's end ended the read");
    const retrieved = await runs.retrieve(handle.id);
    assert.equal(retrieved.status, "COMPLETED");
  });

  test("bad input gets a clear 4xx and stores nothing", async () => {
    const handle = await triggerExecuting("stream-task");
    const run = handle.id;
    const path = `/realtime/v1/streams/${run}/self/bad`;
    assert.equal((await http("PUT", path)).status, 202);

    const big = JSON.stringify({ blob: "x".repeat(600 * 1024) });
    const oversize = await fetch(`${BASE}${path}`, {
      method: "POST", headers: { authorization: `Bearer ${SECRET}`, "x-client-id": "c1" }, body: `{"ok":1}\n${big}\n{"ok":2}\n`,
    });
    assert.equal(oversize.status, 413);
    assert.match((await oversize.json()).error, /exceeds 524288 bytes/);
    const bigAppend = await fetch(`${BASE}${path}/append`, { method: "POST", headers: { authorization: `Bearer ${SECRET}` }, body: big });
    assert.equal(bigAppend.status, 413);

    const badUtf8 = await fetch(`${BASE}${path}`, {
      method: "POST", headers: { authorization: `Bearer ${SECRET}`, "x-client-id": "c2" }, body: Buffer.from([0x7b, 0xff, 0xfe, 0x7d, 0x0a]),
    });
    assert.equal(badUtf8.status, 400);
    const badResume = await fetch(`${BASE}${path}`, {
      method: "POST", headers: { authorization: `Bearer ${SECRET}`, "x-resume-from-chunk": "-1" }, body: "{}\n",
    });
    assert.equal(badResume.status, 400);
    assert.equal((await http("PUT", `/realtime/v1/streams/${run}/parent/bad`)).status, 400);
    assert.equal((await http("PUT", `/realtime/v1/streams/run_doesnotexist/self/bad`)).status, 404);

    // A public token reads, never writes; and only what its scope covers.
    const asToken = await fetch(`${BASE}${path}`, { method: "PUT", headers: { authorization: `Bearer ${handle.publicAccessToken}` } });
    assert.equal(asToken.status, 403);
    const other = await triggerExecuting("stream-task");
    const wrongScope = await fetch(`${BASE}/realtime/v1/streams/${run}/bad?token=${encodeURIComponent(other.publicAccessToken)}`);
    assert.equal(wrongScope.status, 403);
    assert.match((await wrongScope.json()).error, /lacks a scope/);

    const reads = [
      ["Last-Event-ID", "not-an-id"],
      ["Timeout-Seconds", "0"],
      ["Timeout-Seconds", "601"],
    ];
    for (const [name, value] of reads) {
      const res = await fetch(`${BASE}/realtime/v1/streams/${run}/bad`, { headers: { authorization: `Bearer ${SECRET}`, [name]: value } });
      assert.equal(res.status, 400, `${name}: ${value}`);
    }
    assert.equal((await fetch(`${BASE}/realtime/v1/streams/run_doesnotexist/bad`, { headers: { authorization: `Bearer ${SECRET}` } })).status, 404);

    // The oversize line was refused with what came before it kept; the stream is still open.
    const good = await fetch(`${BASE}${path}`, { method: "POST", headers: { authorization: `Bearer ${SECRET}`, "x-client-id": "c3" }, body: '{"ok":3}\n' });
    assert.equal(good.status, 200);
    // Written after close: 409 on each write path.
    assert.equal((await http("PUT", path)).status, 409);
    const afterClose = await fetch(`${BASE}${path}`, { method: "POST", headers: { authorization: `Bearer ${SECRET}` }, body: '{"late":1}\n' });
    assert.equal(afterClose.status, 409);
    assert.match((await afterClose.json()).error, /is closed/);
    const appendAfterClose = await fetch(`${BASE}${path}/append`, { method: "POST", headers: { authorization: `Bearer ${SECRET}` }, body: "late" });
    assert.equal(appendAfterClose.status, 409);
    const all = drain(await streams.read(run, "bad", { timeoutInSeconds: 5 }));
    await Promise.race([all.finished, sleep(10_000)]);
    assert.deepEqual(all.got, [{ ok: 1 }, { ok: 3 }], "exactly what was accepted, nothing after the close");

    // A finished run: no new streams, and an unknown one is a 404 rather than a wait.
    await transition(run, "completed");
    assert.equal((await http("PUT", `/realtime/v1/streams/${run}/self/new-key`)).status, 400);
    const unknown = await fetch(`${BASE}/realtime/v1/streams/${run}/never-written`, { headers: { authorization: `Bearer ${SECRET}` } });
    assert.equal(unknown.status, 404);
    assert.match((await unknown.json()).error, /ended without a stream 'never-written'/);

    // At most streams.maxStreamsPerRun (10) streams per run.
    const many = await triggerExecuting("stream-task");
    for (let i = 0; i < 10; i++) {
      assert.equal((await http("PUT", `/realtime/v1/streams/${many.id}/self/s${i}`)).status, 202);
    }
    const eleventh = await http("PUT", `/realtime/v1/streams/${many.id}/self/s10`);
    assert.equal(eleventh.status, 422);
  });

  test("stream readers count against the environment's connection limit, shared with run feeds", async () => {
    assert.ok(LIMITED_BASE, "clients/run.sh starts a limited node");
    const handle = await triggerExecuting("stream-task");
    const open = [];
    const connect = (path) => {
      const abort = new AbortController();
      track(() => abort.abort());
      open.push(abort);
      return fetch(`${LIMITED_BASE}${path}`, { headers: { authorization: `Bearer ${SECRET}` }, signal: abort.signal });
    };
    const first = await connect(`/realtime/v1/streams/${handle.id}/a`);
    assert.equal(first.status, 200);
    const feed = await connect(`/realtime/v1/runs/${handle.id}?offset=-1`);
    const { headers } = feed;
    const live = await connect(`/realtime/v1/runs/${handle.id}?offset=${headers.get("electric-offset")}&handle=${headers.get("electric-handle")}&live=true&live_sse=true`);
    assert.equal(live.status, 200);
    const third = await connect(`/realtime/v1/streams/${handle.id}/b`);
    assert.equal(third.status, 429);
    open.forEach((a) => a.abort());
  });
});
