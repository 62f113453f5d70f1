// Public access tokens as the SDK mints them (auth.createPublicToken, x-trigger-jwt), accepted for
// what their scopes name and refused for everything else.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { before, describe, test } from "node:test";
import { auth, batch, configure, runs, tasks } from "@trigger.dev/sdk";
import { apiClientManager } from "@trigger.dev/core/v3";
import { BASE, OTHER_KEY, SECRET, collect, http, transition, unique } from "./helpers.js";

/** Signs an HS256 JWT by hand, for tokens the SDK would never mint (forged, wrong key). */
function signJwt(claims, key) {
  const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
  const unsigned = `${b64({ alg: "HS256" })}.${b64(claims)}`;
  return `${unsigned}.${createHmac("sha256", key).update(unsigned).digest("base64url")}`;
}

const asToken = (token) => (fn) => auth.withAuth({ baseURL: BASE, accessToken: token }, fn);

/** A refusal: 401 or 403 with a JSON error message a person can act on. */
function assertRefused(res, label) {
  assert.ok(res.status === 401 || res.status === 403, `${label}: expected 401/403, got ${res.status} ${res.text}`);
  assert.equal(typeof res.json?.error, "string", `${label}: error message`);
  assert.ok(res.json.error.length > 0);
}

const feed = (path, key) => http("GET", `${path}${path.includes("?") ? "&" : "?"}offset=-1`, { key });

describe("public access tokens", () => {
  let runA;
  let runB;
  let tagA;
  let batchA;
  let envId;

  before(async () => {
    configure({ baseURL: BASE, secretKey: SECRET });
    tagA = unique("tok-a");
    runA = (await tasks.trigger("token-task", { run: "a" }, { tags: [tagA] })).id;
    runB = (await tasks.trigger("token-task", { run: "b" }, { tags: [unique("tok-b")] })).id;
    batchA = await batch.trigger([{ id: "token-task", payload: { i: 1 } }]);
    envId = (await http("POST", "/api/v1/auth/jwt/claims")).json.sub;
    assert.ok(envId);
  });

  test("a token minted by auth.createPublicToken reads its run through runs.subscribeToRun", async () => {
    const token = await auth.createPublicToken({ scopes: { read: { runs: [runA] } } });
    await asToken(token)(async () => {
      const sub = collect(runs.subscribeToRun(runA, { stopOnCompletion: false }));
      try {
        const run = await sub.waitFor((rows) => rows.find((r) => r.id === runA), "run A with its token");
        assert.deepEqual(run.payload, { run: "a" });
      } finally {
        sub.stop();
      }
    });
    assert.equal((await feed(`/realtime/v1/runs/${runA}`, token)).status, 200);
  });

  test("a token scoped to one run cannot read another run, tag, batch or environment", async () => {
    const token = await auth.createPublicToken({ scopes: { read: { runs: [runA] } } });
    assertRefused(await feed(`/realtime/v1/runs/${runB}`, token), "another run");
    assertRefused(await feed(`/realtime/v1/runs?tags=${tagA}`, token), "a tag (even run A's)");
    assertRefused(await feed(`/realtime/v1/batches/${batchA.batchId}`, token), "a batch");

    // The environment is the token's `sub`; pointing it at another environment breaks the signature.
    assert.ok(OTHER_KEY, "FRESHET_OTHER_KEY names a second environment");
    const otherEnv = (await http("POST", "/api/v1/auth/jwt/claims", { key: OTHER_KEY })).json.sub;
    assert.notEqual(otherEnv, envId);
    const now = Math.floor(Date.now() / 1000);
    const claims = { pub: true, scopes: [`read:runs:${runA}`], iss: "https://id.trigger.dev", aud: "https://api.trigger.dev", iat: now, exp: now + 600 };
    assertRefused(await feed(`/realtime/v1/runs/${runA}`, signJwt({ ...claims, sub: otherEnv }, SECRET)), "sub of another environment, signed with this one's key");
    assertRefused(await feed(`/realtime/v1/runs/${runA}`, signJwt({ ...claims, sub: envId }, OTHER_KEY)), "this environment's sub, signed with another's key");

    // A genuine token of the other environment, scoped to run A's id, sees nothing of run A: runs
    // are looked up inside the token's own environment, where run A does not exist (404, as
    // trigger.dev answers).
    const foreign = await asToken(OTHER_KEY)(() => auth.createPublicToken({ scopes: { read: { runs: [runA] } } }));
    const res = await feed(`/realtime/v1/runs/${runA}`, foreign);
    assert.equal(res.status, 404, `${res.status} ${res.text}`);
    assert.match(res.json.error, /not found/);
  });

  test("tag-scoped and batch-scoped tokens work for their feeds only", async () => {
    const tagToken = await auth.createPublicToken({ scopes: { read: { tags: [tagA] } } });
    await asToken(tagToken)(async () => {
      const sub = collect(runs.subscribeToRunsWithTag(tagA));
      try {
        await sub.waitFor((rows) => rows.find((r) => r.id === runA), "run A on its tag feed");
      } finally {
        sub.stop();
      }
    });
    assertRefused(await feed(`/realtime/v1/runs?tags=${unique("not-granted")}`, tagToken), "another tag");
    assertRefused(await feed(`/realtime/v1/batches/${batchA.batchId}`, tagToken), "a batch with a tag token");

    // The token batch.trigger returned, and one minted for the batch.
    const minted = await auth.createPublicToken({ scopes: { read: { batch: batchA.batchId } } });
    for (const token of [batchA.publicAccessToken, minted]) {
      await asToken(token)(async () => {
        const sub = collect(runs.subscribeToBatch(batchA.batchId));
        try {
          const run = await sub.waitFor((rows) => rows[0], "the batch's run");
          assert.deepEqual(run.payload, { i: 1 });
        } finally {
          sub.stop();
        }
      });
      const other = await batch.trigger([{ id: "token-task", payload: { i: 2 } }]);
      assertRefused(await feed(`/realtime/v1/batches/${other.batchId}`, token), "another batch");
      assertRefused(await feed(`/realtime/v1/runs/${runA}`, token), "a run by id with a batch token");
    }
  });

  test("read:runs (all runs) reads every realtime feed of its environment", async () => {
    const token = await auth.createPublicToken({ scopes: { read: { runs: true } } });
    for (const path of [`/realtime/v1/runs/${runA}`, `/realtime/v1/runs/${runB}`, `/realtime/v1/runs?tags=${tagA}`,
      `/realtime/v1/batches/${batchA.batchId}`]) {
      const res = await feed(path, token);
      assert.equal(res.status, 200, `${path}: ${res.status} ${res.text}`);
    }
  });

  test("a public token may ride in ?token= (for EventSource); a secret key may not", async () => {
    const token = await auth.createPublicToken({ scopes: { read: { runs: [runA] } } });
    const ok = await http("GET", `/realtime/v1/runs/${runA}?offset=-1&token=${encodeURIComponent(token)}`, { key: null });
    assert.equal(ok.status, 200, ok.text);
    assert.ok(ok.json.some((m) => m.value?.friendlyId === runA));
    assertRefused(await http("GET", `/realtime/v1/runs/${runB}?offset=-1&token=${encodeURIComponent(token)}`, { key: null }), "?token= for another run");
    const secret = await http("GET", `/realtime/v1/runs/${runA}?offset=-1&token=${SECRET}`, { key: null });
    assert.equal(secret.status, 401);
    assert.match(secret.json.error, /only a public access token/);
    assertRefused(await http("PUT", `/api/v1/runs/${runA}/metadata?token=${encodeURIComponent(token)}`, { key: null, body: { metadata: {} } }), "?token= on a write");
  });

  test("an expired token is refused", async () => {
    const token = await auth.createPublicToken({
      scopes: { read: { runs: [runA] } },
      expirationTime: Math.floor(Date.now() / 1000) - 30,
    });
    const res = await feed(`/realtime/v1/runs/${runA}`, token);
    assert.equal(res.status, 401);
    assert.match(res.json.error, /expired/);
  });

  test("secret keys work on every endpoint; public tokens only on the realtime ones", async () => {
    const token = await auth.createPublicToken({ scopes: { read: { runs: true } } });
    const run = (await tasks.trigger("token-task", { w: 1 })).id;

    // Through the SDK's own API client, holding the public token: every write is a 403.
    await asToken(token)(async () => {
      const client = apiClientManager.clientOrThrow();
      await assert.rejects(client.updateRunMetadata(run, { metadata: { x: 1 } }), (e) => e.status === 403);
      await assert.rejects(client.addTags(run, { tags: ["x"] }), (e) => e.status === 403);
      await assert.rejects(client.cancelRun(run), (e) => e.status === 403);
      await assert.rejects(client.retrieveRun(run), (e) => e.status === 403);
      await assert.rejects(tasks.trigger("token-task", {}), (e) => e.status === 403);
    });
    assertRefused(await http("POST", "/api/v1/auth/jwt/claims", { key: token }), "jwt/claims with a public token");
    assertRefused(await http("POST", `/engine/v1/runs/${run}/transitions`, { key: token, body: { to: "executing" } }), "engine transition with a public token");

    // The same calls with the secret key succeed.
    const client = apiClientManager.clientOrThrow();
    assert.deepEqual((await client.updateRunMetadata(run, { metadata: { x: 1 } })).metadata, { x: 1 });
    assert.equal(typeof (await client.addTags(run, { tags: [unique("sk")] })).message, "string");
    assert.equal((await client.retrieveRun(run)).id, run);
    await transition(run, "executing");
    assert.equal((await client.cancelRun(run)).id, run);
    assert.equal((await feed(`/realtime/v1/runs/${run}`, SECRET)).status, 200);
    assert.equal((await feed(`/realtime/v1/runs?tags=${tagA}`, SECRET)).status, 200);
    assert.equal((await feed(`/realtime/v1/batches/${batchA.batchId}`, SECRET)).status, 200);

    // No credential, or a made-up key: 401.
    assertRefused(await feed(`/realtime/v1/runs/${run}`, null), "no credential");
    assertRefused(await feed(`/realtime/v1/runs/${run}`, "tr_dev_notARealKey000000000000"), "unknown key");
  });
});
