// What a team switching to Freshet does with the unmodified @trigger.dev/sdk 4.8.3 beyond the happy
// path: payloads and outputs large enough for the SDK to offload them as packets, tokens scoped to a
// tag reading a run by id, skipColumns naming a column the server does not have, idempotency keys
// that expire, and (with the Electric client) a tag feed filtered by status on the server.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { ShapeStream, isChangeMessage } from "@electric-sql/client";
import { auth, configure, runs, tasks } from "@trigger.dev/sdk";
import { conditionallyExportPacket, stringifyIO } from "@trigger.dev/core/v3";
import { BASE, SECRET, collect, eventually, http, track, transition, unique } from "./helpers.js";

describe("@trigger.dev/sdk 4.8.3 edge cases against Freshet", () => {
  before(() => {
    configure({ baseURL: BASE, secretKey: SECRET });
  });

  test("a 300 KB payload is offloaded as a packet; runs.retrieve and subscribeToRun hand back the real payload", async () => {
    const blob = "x".repeat(300 * 1024);
    const handle = await tasks.trigger("big-task", { blob, n: 7 });
    // Offloaded, as the SDK does at 128 KiB and more: the run names a packet, not the bytes.
    const packet = await http("GET", `/api/v1/runs/${handle.id}/packets/payload`);
    assert.equal(packet.status, 200, packet.text);
    assert.match(packet.json.presignedUrl, /\/packets\/.+\/trigger\/packet_[^/]+\/payload\.json\?expires=\d+&signature=[0-9a-f]+$/);

    const retrieved = await runs.retrieve(handle.id);
    assert.equal(retrieved.payload?.blob?.length, blob.length, "runs.retrieve downloads the payload");
    assert.equal(retrieved.payload.n, 7);

    const sub = collect(runs.subscribeToRun(handle.id));
    try {
      const first = await sub.waitFor((rows) => rows.find((r) => r.payload?.blob), "the run with its payload");
      assert.equal(first.payload.blob, blob, "subscribeToRun downloads the payload");
      assert.equal(first.payload.n, 7);
    } finally {
      sub.stop();
    }
  });

  test("an engine completion with a 200 KB output (offloaded by the SDK's own exporter) reaches the subscriber", async () => {
    const handle = await tasks.trigger("big-output-task", { small: true });
    const sub = collect(runs.subscribeToRun(handle.id));
    await sub.waitFor((rows) => rows.length > 0, "the run");
    await transition(handle.id, "executing");
    const output = { text: "y".repeat(200 * 1024), tokens: 51_200 };
    // What the task executor does with a completed attempt's output: stringify, offload past 128 KiB.
    const exported = await conditionallyExportPacket(await stringifyIO(output), `${handle.id}-1/output`);
    assert.equal(exported.dataType, "application/store", "the SDK offloaded the output");
    assert.equal(exported.data, `${handle.id}-1/output.json`);
    await transition(handle.id, "completed", { output: exported.data, outputType: exported.dataType });
    await sub.waitForEnd("closeOnComplete");
    const last = sub.items.at(-1);
    assert.equal(last.status, "COMPLETED");
    assert.deepEqual(last.output, output, "the subscriber gets the real output");
    const retrieved = await runs.retrieve(handle.id);
    assert.deepEqual(retrieved.output, output, "runs.retrieve too");
  });

  test("a tag-scoped token reads a tagged run by id, and is refused on an untagged one", async () => {
    const tag = unique("compat-tag");
    const tagged = await tasks.trigger("scoped-task", { which: "tagged" }, { tags: [tag] });
    const untagged = await tasks.trigger("scoped-task", { which: "untagged" }, { tags: [unique("compat-other")] });
    const token = await auth.createPublicToken({ scopes: { read: { tags: [tag] } } });
    await auth.withAuth({ baseURL: BASE, accessToken: token }, async () => {
      const sub = collect(runs.subscribeToRun(tagged.id));
      try {
        const run = await sub.waitFor((rows) => rows[0], "the tagged run, by id");
        assert.deepEqual(run.payload, { which: "tagged" });
      } finally {
        sub.stop();
      }
    });
    const refused = await http("GET", `/realtime/v1/runs/${untagged.id}?offset=-1`, { key: token });
    assert.equal(refused.status, 403, refused.text);
    assert.match(refused.json.error, /scope/);
  });

  test("skipColumns naming a column the server does not have skips nothing else, as on trigger.dev", async () => {
    const handle = await tasks.trigger("skip-task", { keep: "payload" });
    const sub = collect(runs.subscribeToRun(handle.id, { skipColumns: ["noSuchColumn", "output"] }));
    try {
      const run = await sub.waitFor((rows) => rows[0], "the run");
      assert.deepEqual(run.payload, { keep: "payload" }, "a known, unskipped column is still there");
      await transition(handle.id, "completed", { output: JSON.stringify({ hidden: true }), outputType: "application/json" });
      await sub.waitForEnd("closeOnComplete");
      assert.equal(sub.items.at(-1).output, undefined, "the known skipped column is skipped");
      assert.equal(sub.state.error, undefined, "no error ended the subscription");
    } finally {
      sub.stop();
    }
  });

  test("idempotencyKeyTTL: the key holds within its TTL, and once expired a trigger creates a new run", async () => {
    const key = unique("compat-idem");
    const first = await tasks.trigger("idem-task", { n: 1 }, { idempotencyKey: key, idempotencyKeyTTL: "2s" });
    const again = await tasks.trigger("idem-task", { n: 2 }, { idempotencyKey: key, idempotencyKeyTTL: "2s" });
    assert.equal(again.id, first.id, "within the TTL: the same run");
    // Triggered again until the server's clock passes the TTL: every attempt before it names the
    // first run, the first one after it creates a new run (nothing here waits on the test's clock).
    const later = await eventually(async () => {
      const attempt = await tasks.trigger("idem-task", { n: 3 }, { idempotencyKey: key, idempotencyKeyTTL: "2s" });
      return attempt.id !== first.id && attempt;
    }, "a new run once the key's TTL has passed");
    assert.notEqual(later.id, first.id, "after the TTL: a new run");
    assert.deepEqual((await runs.retrieve(later.id)).payload, { n: 3 });
    assert.deepEqual((await runs.retrieve(first.id)).payload, { n: 1 }, "the old run keeps its content");
  });
});

describe("a tag feed filtered by status on the server (@electric-sql/client 1.5.28)", () => {
  test("statuses=EXECUTING: a run enters when it starts and leaves when it completes, with current content each time", async () => {
    const tag = unique("compat-status");
    const run = (await tasks.trigger("status-task", { s: 1 }, { tags: [tag], metadata: { phase: "queued" } })).id;
    const controller = new AbortController();
    track(() => controller.abort());
    const changes = [];
    const errors = [];
    const rows = new Map();
    const stream = new ShapeStream({
      url: `${BASE}/realtime/v1/runs?tags=${encodeURIComponent(tag)}&statuses=EXECUTING`,
      headers: { Authorization: `Bearer ${SECRET}` },
      signal: controller.signal,
      onError: (error) => {
        errors.push(error);
      },
    });
    stream.subscribe((messages) => {
      for (const m of messages) {
        if (!isChangeMessage(m)) {
          continue;
        }
        changes.push({ op: m.headers.operation, status: m.value.status, metadata: m.value.metadata == null ? undefined : JSON.parse(m.value.metadata) });
        if (m.headers.operation === "delete") {
          rows.delete(m.key);
        } else {
          rows.set(m.key, { ...(rows.get(m.key) ?? {}), ...m.value });
        }
      }
    }, (error) => errors.push(error));
    try {
      await eventually(() => stream.isUpToDate, "the snapshot");
      assert.equal(rows.size, 0, "a queued run is not in an EXECUTING feed");

      await transition(run, "executing");
      await eventually(() => rows.size === 1, "the run enters when it starts");
      const res = await http("PUT", `/api/v1/runs/${run}/metadata`, { body: { metadata: { phase: "working", pct: 50 } } });
      assert.equal(res.status, 200, res.text);
      await eventually(() => changes.some((c) => c.metadata?.pct === 50), "its change while executing");

      await transition(run, "completed", { output: JSON.stringify("ok"), outputType: "application/json" });
      await eventually(() => rows.size === 0, "the run leaves when it completes");
      assert.deepEqual(errors, []);
      const ops = changes.map((c) => c.op);
      assert.equal(ops[0], "insert", `enters as an insert: ${ops}`);
      assert.equal(ops.at(-1), "delete", `leaves as a delete: ${ops}`);
      assert.equal(ops.indexOf("delete"), ops.length - 1, `nothing after it left: ${ops}`);
      assert.equal(changes[0].status, "EXECUTING");
      assert.deepEqual(changes[0].metadata, { phase: "queued" }, "it enters with its current content");
      for (const c of changes.slice(1, -1)) {
        assert.equal(c.status, "EXECUTING", "every update while in the feed is in its statuses");
      }

      const bad = await http("GET", `/realtime/v1/runs?tags=${encodeURIComponent(tag)}&statuses=RUNNING&offset=-1`);
      assert.equal(bad.status, 400);
      assert.match(bad.json.error, /unknown status 'RUNNING'; allowed: .*EXECUTING/);
    } finally {
      controller.abort();
      stream.unsubscribeAll();
    }
  });
});
