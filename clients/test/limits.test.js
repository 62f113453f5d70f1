// Connection limits and liveness, against a node started with realtime.maxConnectionsPerEnv=2 and
// a 1 s SSE keep-alive (FRESHET_LIMITED_BASE_URL): 429 past the limit, keep-alive comments, and
// every slot and held feed released when clients go away.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ShapeStream, isChangeMessage } from "@electric-sql/client";
import { LIMITED_BASE, SECRET, eventually, http, metric, sleep, track } from "./helpers.js";

const base = LIMITED_BASE;
const auth = { authorization: `Bearer ${SECRET}` };

async function openRun() {
  assert.ok(base, "FRESHET_LIMITED_BASE_URL names the node with a connection limit of 2");
  const created = await http("POST", "/api/v1/tasks/limits-task/trigger", { base, body: { payload: "{}", options: { payloadType: "application/json" } } });
  assert.equal(created.status, 200, created.text);
  const runId = created.json.id;
  // The feed opens from the lagging replica, so a run created a moment ago may reach it only
  // shortly after: catch up (non-live requests hold no slot) until the row is there, so that the
  // live requests below have nothing left to deliver and are held.
  const feed = `${base}/realtime/v1/runs/${runId}`;
  let res = await fetch(`${feed}?offset=-1`, { headers: auth });
  let messages = await res.json();
  const handle = res.headers.get("electric-handle");
  let offset = res.headers.get("electric-offset");
  await eventually(async () => {
    if (messages.some((m) => m.key)) {
      return true;
    }
    res = await fetch(`${feed}?handle=${handle}&offset=${offset}`, { headers: auth });
    messages = await res.json();
    offset = res.headers.get("electric-offset");
    return false;
  }, "the new run in its feed");
  return {
    runId,
    live: (sse = false) => `${feed}?handle=${handle}&offset=${offset}&live=true&cursor=${sse ? "&live_sse=true" : ""}`,
  };
}

/** Starts a held live request; resolves to the Response once headers arrive (at once for SSE or 429). */
function hold(url) {
  const controller = new AbortController();
  track(() => controller.abort());
  const response = fetch(url, { headers: auth, signal: controller.signal });
  response.catch(() => {});
  return { controller, response };
}

describe("connection limits and liveness (limit 2 per environment)", () => {
  test("a third concurrent live connection gets 429; slots come back when clients go away; no held feed lingers", async () => {
    const { live } = await openRun();
    // SSE connections hold their slot for as long as they are open (a long-poll may be answered
    // early, which would free its slot before the third request arrives).
    const a = hold(live(true));
    const b = hold(live(true));
    for (const held of [a, b]) {
      const res = await held.response;
      assert.equal(res.status, 200, "SSE connection opens");
      assert.match(res.headers.get("content-type"), /text\/event-stream/);
    }

    for (const sse of [false, true]) {
      const third = await fetch(live(sse), { headers: auth });
      assert.equal(third.status, 429, `third ${sse ? "SSE" : "long-poll"} connection`);
      const body = await third.json();
      assert.match(body.error, /too many concurrent realtime connections/);
    }
    // Catch-up (non-live) requests hold no slot and still work.
    const { runId } = await openRun();
    assert.equal((await fetch(`${base}/realtime/v1/runs/${runId}?offset=-1`, { headers: auth })).status, 200);
    assert.ok((await metric("freshet_held_feeds", base)) >= 1, "feeds are held while the SSE connections wait");

    a.controller.abort();
    b.controller.abort();
    // Both slots are released: two new live connections are admitted.
    const admitted = [];
    await eventually(async () => {
      const attempt = hold(live(true));
      const res = await attempt.response;
      if (res.status === 200) {
        admitted.push(attempt);
      } else {
        await res.text();
      }
      return admitted.length === 2;
    }, "both slots to be released");
    for (const held of admitted) {
      held.controller.abort();
    }
    await eventually(async () => (await metric("freshet_held_feeds", base)) === 0, "freshet_held_feeds back to 0");
  });

  test("SSE keep-alive comments arrive during silence", async () => {
    const { live } = await openRun();
    const { controller, response } = hold(live(true));
    const res = await response;
    assert.equal(res.status, 200);
    const reader = res.body.getReader();
    const decoder = new TextDecoder();
    let text = "";
    // The node sends one every second of silence; the deadline only keeps a broken node from hanging the test.
    const deadline = Date.now() + 30_000;
    while (!text.includes(": keep-alive") && Date.now() < deadline) {
      const chunk = await Promise.race([reader.read(), sleep(deadline - Date.now()).then(() => ({ done: true }))]);
      if (chunk.done) {
        break;
      }
      text += decoder.decode(chunk.value, { stream: true });
    }
    controller.abort();
    assert.match(text, /^: keep-alive$/m, `a keep-alive comment during the silence; got ${JSON.stringify(text)}`);
    await eventually(async () => (await metric("freshet_held_feeds", base)) === 0, "freshet_held_feeds back to 0");
  });

  test("an Electric client over the limit keeps retrying (429 is retryable) and delivers every change once a slot frees", async () => {
    const created = await http("POST", "/api/v1/tasks/limits-task/trigger", {
      base, body: { payload: "{}", options: { payloadType: "application/json", metadata: { v: 0 } } },
    });
    const runId = created.json.id;
    const streams = [];
    const follow = () => {
      const controller = new AbortController();
      track(() => controller.abort());
      const seen = [];
      const statuses = [];
      const stream = new ShapeStream({
        url: `${base}/realtime/v1/runs/${runId}`, headers: auth, signal: controller.signal,
        fetchClient: async (input, init) => {
          const response = await fetch(input, init);
          statuses.push(response.status);
          return response;
        },
      });
      stream.subscribe((messages) => {
        for (const m of messages) {
          if (isChangeMessage(m)) {
            seen.push(JSON.parse(m.value.metadata));
          }
        }
      });
      const entry = { controller, seen, statuses, stream };
      streams.push(entry);
      return entry;
    };
    const first = follow();
    const second = follow();
    await eventually(() => first.stream.isUpToDate && second.stream.isUpToDate, "two streams live");
    await eventually(async () => (await metric("freshet_held_feeds", base)) === 2, "both live requests held, both slots taken");
    const third = follow(); // snapshot is fine; its live requests get 429 while the others hold both slots
    await eventually(() => third.stream.isUpToDate, "third stream's snapshot");
    await eventually(() => third.statuses.includes(429), "the third stream's live request refused with 429");
    first.controller.abort(); // frees a slot; the third stream's retry gets in

    const res = await http("PUT", `/api/v1/runs/${runId}/metadata`, { base, body: { metadata: { v: 1 } } });
    assert.equal(res.status, 200, res.text);
    await eventually(() => third.seen.some((m) => m.v === 1), "the change on the stream that was refused", 40_000);
    await eventually(() => second.seen.some((m) => m.v === 1), "the change on the second stream");
    assert.deepEqual(third.seen, [{ v: 0 }, { v: 1 }]);
    for (const s of streams) {
      s.controller.abort();
    }
    await eventually(async () => (await metric("freshet_held_feeds", base)) === 0, "freshet_held_feeds back to 0");
  });
});
