// The real @trigger.dev/sdk 4.8.3, configured with nothing but Freshet's base URL and the
// environment's secret key: triggers, batches, and every realtime subscription it offers.
import assert from "node:assert/strict";
import { before, describe, test } from "node:test";
import { auth, batch, configure, runs, tasks } from "@trigger.dev/sdk";
import { apiClientManager } from "@trigger.dev/core/v3";
import { BASE, SECRET, assertCommittedSequence, collect, transition, unique } from "./helpers.js";

/** The fields a test compares: what the SDK turned the delivered row into. */
const view = (run) => ({
  status: run.status,
  metadata: run.metadata,
  tags: [...run.tags].sort(),
  output: run.output,
});

describe("@trigger.dev/sdk 4.8.3 against Freshet", () => {
  let client;

  before(() => {
    configure({ baseURL: BASE, secretKey: SECRET });
    client = apiClientManager.clientOrThrow();
  });

  test("tasks.trigger creates a run and subscribeToRun follows every metadata and tag change until completion", async () => {
    const tag = unique("sdk-run");
    const handle = await tasks.trigger("sdk-task", { greeting: "hello", n: 1 }, { tags: [tag], metadata: { step: 0 } });
    assert.match(handle.id, /^run_/);
    assert.ok(handle.publicAccessToken, "trigger returns a public access token (x-trigger-jwt)");

    const committed = [{ status: "QUEUED", metadata: { step: 0 }, tags: [tag], output: undefined }];
    const sub = collect(runs.subscribeToRun(handle.id));
    const first = await sub.waitFor((rows) => rows.find((r) => r.metadata?.step === 0), "the triggered run");
    assert.equal(first.id, handle.id);
    assert.equal(first.taskIdentifier, "sdk-task");
    assert.deepEqual(first.payload, { greeting: "hello", n: 1 });
    assert.ok(first.createdAt instanceof Date && !Number.isNaN(first.createdAt.getTime()), "createdAt is a valid date");
    assert.equal(first.isQueued, true);

    // Metadata replaced wholesale, then changed through operations: each delivered with current content.
    for (let step = 1; step <= 3; step++) {
      const reply = await client.updateRunMetadata(handle.id, { metadata: { step, history: Array.from({ length: step }, (_, i) => i + 1) } });
      committed.push({ ...committed.at(-1), metadata: reply.metadata });
      await sub.waitFor((rows) => rows.find((r) => r.metadata?.step === step), `metadata step ${step}`);
    }
    const ops = await client.updateRunMetadata(handle.id, {
      operations: [
        { type: "increment", key: "count", value: 2 },
        { type: "append", key: "log", value: "started" },
        { type: "set", key: "$.step", value: 4 },
      ],
    });
    assert.deepEqual(ops.metadata, { step: 4, history: [1, 2, 3], count: 2, log: ["started"] });
    committed.push({ ...committed.at(-1), metadata: ops.metadata });
    await sub.waitFor((rows) => rows.find((r) => r.metadata?.count === 2), "metadata operations");

    const extraTag = unique("sdk-extra");
    const tagReply = await client.addTags(handle.id, { tags: [extraTag] });
    assert.equal(typeof tagReply.message, "string");
    committed.push({ ...committed.at(-1), tags: [tag, extraTag].sort() });
    await sub.waitFor((rows) => rows.find((r) => r.tags.includes(extraTag)), "the added tag");

    await transition(handle.id, "executing");
    committed.push({ ...committed.at(-1), status: "EXECUTING" });
    await sub.waitFor((rows) => rows.find((r) => r.status === "EXECUTING"), "EXECUTING");

    await transition(handle.id, "completed", { output: JSON.stringify({ ok: true }), outputType: "application/json" });
    committed.push({ ...committed.at(-1), status: "COMPLETED", output: { ok: true } });
    // closeOnComplete (the default) ends the for-await once completedAt is set.
    await sub.waitForEnd("closeOnComplete");
    const last = sub.items.at(-1);
    assert.equal(last.status, "COMPLETED");
    assert.equal(last.isCompleted, true);
    assert.ok(last.finishedAt instanceof Date, "finishedAt (completedAt) is set");

    assertCommittedSequence(sub.items, committed, view, "subscribeToRun");
  });

  test("a failed run ends the subscription too, with its error", async () => {
    const handle = await tasks.trigger("sdk-task", { fail: true });
    const sub = collect(runs.subscribeToRun(handle.id));
    await sub.waitFor((rows) => rows.length > 0, "the run");
    await transition(handle.id, "failed", { error: { type: "STRING_ERROR", raw: "boom" } });
    await sub.waitForEnd("closeOnComplete on failure");
    const last = sub.items.at(-1);
    assert.equal(last.status, "FAILED");
    assert.equal(last.isFailed, true);
    assert.ok(last.error, "the error is delivered");
  });

  test("skipColumns leaves payload and output out; reserved columns cannot be skipped", async () => {
    const handle = await tasks.trigger("sdk-task", { secret: "payload" });
    const sub = collect(runs.subscribeToRun(handle.id, { skipColumns: ["payload", "output", "status", "id"] }));
    await sub.waitFor((rows) => rows.length > 0, "the run");
    await transition(handle.id, "completed", { output: JSON.stringify({ big: "output" }), outputType: "application/json" });
    await sub.waitForEnd("closeOnComplete with skipColumns");
    for (const run of sub.items) {
      assert.equal(run.payload, undefined, "payload skipped");
      assert.equal(run.output, undefined, "output skipped");
      assert.equal(run.id, handle.id, "id cannot be skipped");
      assert.ok(run.status, "status cannot be skipped");
    }
    assert.equal(sub.items.at(-1).status, "COMPLETED");
  });

  test("subscribeToRunsWithTag with one tag, and with several tags plus createdAt", async () => {
    const shared = unique("sdk-tag");
    const other = unique("sdk-tag2");
    const a = await tasks.trigger("sdk-task", { which: "a" }, { tags: [shared] });
    const b = await tasks.trigger("sdk-task", { which: "b" }, { tags: [shared, other] });

    const one = collect(runs.subscribeToRunsWithTag(shared));
    const both = collect(runs.subscribeToRunsWithTag([shared, other], { createdAt: "1h" }));
    try {
      await one.waitFor((rows) => [a.id, b.id].every((id) => rows.some((r) => r.id === id)), "both runs on the one-tag feed");
      await both.waitFor((rows) => rows.some((r) => r.id === b.id), "run b on the two-tag feed");

      const reply = await client.updateRunMetadata(b.id, { metadata: { progress: 50 } });
      await both.waitFor((rows) => rows.some((r) => r.id === b.id && r.metadata?.progress === 50), "b's metadata on the two-tag feed");
      await one.waitFor((rows) => rows.some((r) => r.id === b.id && r.metadata?.progress === 50), "b's metadata on the one-tag feed");
      assert.deepEqual(reply.metadata, { progress: 50 });

      await transition(a.id, "completed", { output: JSON.stringify("done-a"), outputType: "application/json" });
      await one.waitFor((rows) => rows.some((r) => r.id === a.id && r.status === "COMPLETED" && r.output === "done-a"), "a completed");
      // Tag feeds stay open after a run completes (closeOnComplete is false for them).
      await transition(b.id, "completed", { output: JSON.stringify("done-b"), outputType: "application/json" });
      await both.waitFor((rows) => rows.some((r) => r.id === b.id && r.status === "COMPLETED"), "b completed on the two-tag feed");
      await one.waitFor((rows) => rows.some((r) => r.id === b.id && r.status === "COMPLETED"), "b completed on the one-tag feed");

      assert.ok(both.items.every((r) => r.id === b.id), "a run lacking one of the tags never shows on the two-tag feed");
      assert.equal(one.state.done, false, "tag subscriptions do not close on completion");
      for (const [feed, id, committed] of [
        [one, a.id, [{ status: "QUEUED", metadata: undefined, tags: [shared], output: undefined },
          { status: "COMPLETED", metadata: undefined, tags: [shared], output: "done-a" }]],
        [both, b.id, [{ status: "QUEUED", metadata: undefined, tags: [shared, other].sort(), output: undefined },
          { status: "QUEUED", metadata: { progress: 50 }, tags: [shared, other].sort(), output: undefined },
          { status: "COMPLETED", metadata: { progress: 50 }, tags: [shared, other].sort(), output: "done-b" }]],
      ]) {
        assertCommittedSequence(feed.items.filter((r) => r.id === id), committed, view, `tag feed ${id}`);
      }
    } finally {
      one.stop();
      both.stop();
    }
  });

  test("batch.trigger creates runs and subscribeToBatch follows all of them", async () => {
    const tag = unique("sdk-batch");
    const handle = await batch.trigger([
      { id: "sdk-task", payload: { i: 1 }, options: { tags: [tag] } },
      { id: "sdk-task", payload: { i: 2 }, options: { tags: [tag] } },
      { id: "other-task", payload: { i: 3 }, options: { tags: [tag] } },
    ]);
    assert.match(handle.batchId, /^batch_/);
    assert.equal(handle.runCount, 3);
    assert.ok(handle.publicAccessToken);

    const sub = collect(runs.subscribeToBatch(handle.batchId));
    const rows = await sub.waitFor((items) => {
      const ids = new Set(items.map((r) => r.id));
      return ids.size === 3 ? items : undefined;
    }, "three runs in the batch");
    assert.deepEqual([...new Set(rows.map((r) => r.payload.i))].sort(), [1, 2, 3]);
    assert.deepEqual([...new Set(rows.map((r) => r.taskIdentifier))].sort(), ["other-task", "sdk-task"]);

    const ids = [...new Set(rows.map((r) => r.id))];
    for (const [i, id] of ids.entries()) {
      await transition(id, "completed", { output: JSON.stringify({ i }), outputType: "application/json" });
    }
    await sub.waitFor((items) => ids.every((id) => items.some((r) => r.id === id && r.status === "COMPLETED")), "every batch run completed");
    for (const [i, id] of ids.entries()) {
      const final = sub.items.filter((r) => r.id === id).at(-1);
      assert.deepEqual(final.output, { i });
      assert.deepEqual(final.tags, [tag]);
    }
    sub.stop();
  });

  test("the token from trigger's x-trigger-jwt follows the run with runs.subscribeToRun", async () => {
    const handle = await tasks.trigger("sdk-task", { via: "publicAccessToken" });
    await auth.withAuth({ baseURL: BASE, accessToken: handle.publicAccessToken }, async () => {
      const sub = collect(runs.subscribeToRun(handle.id));
      await sub.waitFor((rows) => rows.length > 0, "the run, read with the public token");
      await transition(handle.id, "completed", { output: JSON.stringify(1), outputType: "application/json" });
      await sub.waitForEnd("closeOnComplete with a public token");
      assert.equal(sub.items.at(-1).status, "COMPLETED");
    });
  });
});
