// The real @electric-sql/client 1.5.28 ShapeStream following a Freshet run feed, in long-poll and
// in SSE mode: every change delivered once, resume by offset and handle, 409 must-refetch.
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { ShapeStream, isChangeMessage, isControlMessage } from "@electric-sql/client";
import { BASE, SECRET, eventually, http, track, transition, unique } from "./helpers.js";

async function triggerRun(metadata) {
  const res = await http("POST", "/api/v1/tasks/electric-task/trigger", {
    body: {
      payload: JSON.stringify({ from: "electric" }),
      options: { payloadType: "application/json", tags: [unique("electric")], metadata },
    },
  });
  assert.equal(res.status, 200, res.text);
  return res.json.id;
}

async function setMetadata(runId, metadata) {
  const res = await http("PUT", `/api/v1/runs/${runId}/metadata`, { body: { metadata } });
  assert.equal(res.status, 200, res.text);
  assert.deepEqual(res.json.metadata, metadata);
}

/**
 * A ShapeStream on a run feed that records every change message and every request URL, so a
 * test can tell long-poll from SSE and count deliveries.
 */
function follow(runId, { liveSse = false, offset, handle } = {}) {
  const controller = new AbortController();
  const urls = [];
  const changes = [];
  const controls = [];
  const errors = [];
  let answered = 0;
  const stream = new ShapeStream({
    url: `${BASE}/realtime/v1/runs/${runId}`,
    headers: { Authorization: `Bearer ${SECRET}` },
    liveSse,
    offset,
    handle,
    signal: controller.signal,
    fetchClient: (input, init) => {
      urls.push(String(input instanceof Request ? input.url : input));
      return fetch(input, init).finally(() => answered++);
    },
    onError: (error) => {
      errors.push(error);
    },
  });
  track(() => controller.abort());
  let row;
  stream.subscribe((messages) => {
    for (const message of messages) {
      if (isChangeMessage(message)) {
        changes.push(message);
        row = message.headers.operation === "insert" ? { ...message.value } : { ...row, ...message.value };
      } else if (isControlMessage(message)) {
        controls.push(message.headers.control);
      }
    }
  }, (error) => errors.push(error));
  return {
    stream,
    urls,
    changes,
    controls,
    errors,
    row: () => row,
    /** Requests sent whose response has not arrived (a held long-poll). */
    pending: () => urls.length - answered,
    metadata: () => (row?.metadata == null ? undefined : JSON.parse(row.metadata)),
    stop() {
      controller.abort();
      stream.unsubscribeAll();
    },
    async waitForMetadata(expected, label) {
      await eventually(() => {
        if (errors.length) {
          throw errors[0];
        }
        return JSON.stringify(this.metadata()) === JSON.stringify(expected);
      }, `${label}: metadata ${JSON.stringify(expected)} (have ${JSON.stringify(this.metadata())}, errors ${errors.map(String)})`);
    },
  };
}

/** The metadata of each change message delivered, in order (every one a full row). */
const delivered = (feed) => feed.changes.map((m) => (m.value.metadata == null ? null : JSON.parse(m.value.metadata)));

for (const liveSse of [false, true]) {
  const mode = liveSse ? "SSE" : "long-poll";

  describe(`@electric-sql/client 1.5.28 ShapeStream, ${mode}`, () => {
    test(`receives each change with current content (${mode})`, async () => {
      const runId = await triggerRun({ v: 0 });
      const feed = follow(runId, { liveSse });
      try {
        await feed.waitForMetadata({ v: 0 }, "snapshot");
        const first = feed.row();
        assert.equal(first.friendlyId, runId);
        assert.equal(first.status, "PENDING");
        assert.equal(typeof first.number, "number", "int4 parsed to a number");
        assert.equal(first.isTest, false, "bool parsed");
        assert.ok(!first.createdAt.endsWith("Z"), "timestamps are zone-less");
        for (let v = 1; v <= 4; v++) {
          await setMetadata(runId, { v });
          await feed.waitForMetadata({ v }, `change ${v}`);
        }
        await transition(runId, "completed", { output: JSON.stringify({ done: true }), outputType: "application/json" });
        await eventually(() => feed.row().status === "COMPLETED_SUCCESSFULLY", "completion");
        assert.ok(feed.row().completedAt, "completedAt set");
        assert.equal(feed.row().output, JSON.stringify({ done: true }));
        assert.deepEqual(delivered(feed), [{ v: 0 }, { v: 1 }, { v: 2 }, { v: 3 }, { v: 4 }, { v: 4 }], "each change exactly once, in order");
        const live = feed.urls.filter((u) => u.includes("live=true"));
        assert.ok(live.length > 0, "went live");
        if (liveSse) {
          assert.ok(live.every((u) => u.includes("live_sse=true")), `stayed on SSE (no fallback to long-poll): ${live.join("\n")}`);
        } else {
          assert.ok(live.every((u) => !u.includes("live_sse")), "long-poll only");
        }
        assert.deepEqual(feed.errors, []);
      } finally {
        feed.stop();
      }
    });

    test(`resumes from its offset and handle after a forced disconnect, losing and repeating nothing (${mode})`, async () => {
      const runId = await triggerRun({ v: 0 });
      const first = follow(runId, { liveSse });
      await first.waitForMetadata({ v: 0 }, "snapshot");
      await setMetadata(runId, { v: 1 });
      await first.waitForMetadata({ v: 1 }, "change 1");
      // Cut it while it follows live: its next live request is in flight (long-poll), or its SSE
      // connection stays open (the one that delivered change 1).
      await eventually(() => liveSse || first.pending() > 0, "the next live request after change 1");
      first.stop();
      const offset = first.stream.lastOffset;
      const handle = first.stream.shapeHandle;
      assert.match(offset, /^\d+_\d+$/);
      assert.ok(handle);

      await setMetadata(runId, { v: 2 }); // committed while nobody is connected
      // The change is old news when the client returns: the feed's log already holds it (another
      // client catching up from the same offset and handle gets it).
      await eventually(async () => {
        const caughtUp = await http("GET", `/realtime/v1/runs/${runId}?offset=${offset}&handle=${handle}`);
        return caughtUp.status === 200 && (caughtUp.json ?? []).some((m) => m.key && JSON.parse(m.value.metadata ?? "null")?.v === 2);
      }, "change 2 in the feed's log");

      const second = follow(runId, { liveSse, offset, handle });
      try {
        await second.waitForMetadata({ v: 2 }, "the change made while disconnected");
        await setMetadata(runId, { v: 3 });
        await second.waitForMetadata({ v: 3 }, "a change after the reconnect");
        // A later change as a sentinel: the feed is in order, so a wrongly repeated delivery of an
        // earlier one would arrive before it.
        await setMetadata(runId, { v: 4 });
        await second.waitForMetadata({ v: 4 }, "the sentinel change");
        assert.deepEqual(delivered(first), [{ v: 0 }, { v: 1 }]);
        assert.deepEqual(delivered(second), [{ v: 2 }, { v: 3 }, { v: 4 }], "resumed: nothing lost, nothing repeated");
        assert.ok(second.urls[0].includes(`handle=${handle}`) && second.urls[0].includes(`offset=${offset}`), second.urls[0]);
        assert.deepEqual(second.errors, []);
        assert.ok(!second.controls.includes("must-refetch"), "the handle was still known");
      } finally {
        second.stop();
      }
    });

    test(`obeys 409 must-refetch for a handle the server no longer knows, then keeps delivering (${mode})`, async () => {
      const runId = await triggerRun({ v: 0 });
      const open = await http("GET", `/realtime/v1/runs/${runId}?offset=-1`);
      const real = open.headers.get("electric-handle");
      // Same node and router, a serial it never issued: what a client holds after the feed was dropped.
      const [node, router] = real.split("-");
      const stale = `${node}-${router}-zzzzzzzzz-gone1`;
      const feed = follow(runId, { liveSse, offset: "5_0", handle: stale });
      try {
        await feed.waitForMetadata({ v: 0 }, "the row after the refetch");
        assert.ok(feed.controls.includes("must-refetch"), `must-refetch published (${feed.controls})`);
        assert.notEqual(feed.stream.shapeHandle, stale, "a new handle");
        await setMetadata(runId, { v: 1 });
        await feed.waitForMetadata({ v: 1 }, "a change after the refetch");
        assert.deepEqual(feed.errors, []);
      } finally {
        feed.stop();
      }
    });
  });
}

describe("409 responses carry what both client versions need", () => {
  for (const [what, handle] of [
    ["an unknown serial on a live node", (real) => `${real.split("-")[0]}-0-zzzzzzzzz-gone1`],
    ["a node that is gone (restarted)", () => "deadnode1-0-1-abcdef"],
    ["a handle of a foreign form", () => "17431-1700000000000"],
  ]) {
    test(`409 for ${what}`, async () => {
      const runId = await triggerRun({ v: 0 });
      const open = await http("GET", `/realtime/v1/runs/${runId}?offset=-1`);
      const stale = handle(open.headers.get("electric-handle"));
      for (const live of ["", "&live=true", "&live=true&live_sse=true"]) {
        const res = await http("GET", `/realtime/v1/runs/${runId}?offset=3_0&handle=${stale}${live}`);
        assert.equal(res.status, 409, `${live}: ${res.status} ${res.text}`);
        assert.match(res.headers.get("content-type"), /application\/json/);
        assert.ok(res.headers.get("electric-handle"), "a new handle");
        assert.notEqual(res.headers.get("electric-handle"), stale);
        assert.deepEqual(res.json, [{ headers: { control: "must-refetch" } }]);
      }
    });
  }
});
