// The fault suite: three Freshet nodes on loopback behind nginx (round robin, no buffering, no
// sticky sessions), the real primary and lagging standby, and real clients (@trigger.dev/sdk's
// subscribeToRun and @electric-sql/client's ShapeStream in SSE mode) following runs through nginx
// while writes flow through nginx too. Each scenario injects one fault, clears it, writes a final
// value, and checks that every subscriber ends with the final content, that nothing a client was
// shown goes backwards, and that no client saw an error it cannot recover from. It prints one line
// per scenario ("faults: PASS|FAIL <name> ...") and a Markdown table of the figures.
//
// Run by scripts/faults.sh (which starts the database pair and builds the jar); --short runs a
// quicker subset with shorter faults (the test command runs that).
import { spawn, execFileSync } from "node:child_process";
import http from "node:http";
import { cpSync, existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import path from "node:path";
import { ShapeStream } from "@electric-sql/client";
import { configure, runs as sdkRuns } from "@trigger.dev/sdk";

const REPO = process.env.FRESHET_REPO;
const JAR = path.join(REPO, "modules/server/target/freshet-server.jar");
const SHORT = process.argv.includes("--short");
const ONLY = process.argv.find((a) => a.startsWith("--only="))?.slice(7).split(",");
const LB_PORT = 3400;
const NODE_PORTS = [3401, 3402, 3403];
const CLUSTER_PORTS = [5911, 5912, 5913];
const CLUSTER = `faults-${Date.now().toString(36)}`;
const RUN_DIR = path.join(REPO, "clients/.run/faults");
rmSync(RUN_DIR, { recursive: true, force: true }); // each run's node logs start empty (a restarted node appends)
mkdirSync(RUN_DIR, { recursive: true });
const BASE = `http://127.0.0.1:${LB_PORT}`;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const now = () => Date.now();
const log = (...a) => console.error(`faults: [${new Date().toISOString().slice(11, 19)}]`, ...a);

/** Polls `check` until it is truthy: a wait for a signal, whose timeout only keeps a broken run from hanging. */
async function until(check, label, timeoutMs = 60_000) {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    try {
      if (await check()) {
        return;
      }
    } catch {}
    await sleep(100);
  }
  throw new Error(`timed out waiting for ${label}`);
}

// ------------------------------------------------------------------------- processes --
function sh(args) {
  return execFileSync("bash", args, { cwd: REPO, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
}
const db = (...args) => sh([path.join(REPO, "scripts/db.sh"), ...args]);

const nodes = [];
function startNode(i) {
  const out = openSync(path.join(RUN_DIR, `node-${i + 1}.log`), "a");
  const env = {
    ...process.env,
    FRESHET_HTTP_HOST: "127.0.0.1",
    FRESHET_HTTP_PORT: String(NODE_PORTS[i]),
    FRESHET_CLUSTER_ENABLED: "true",
    FRESHET_CLUSTER_NAME: CLUSTER,
    FRESHET_CLUSTER_PORT: String(CLUSTER_PORTS[i]),
    FRESHET_CLUSTER_MEMBERS: CLUSTER_PORTS.map((p) => `127.0.0.1:${p}`).join(","),
    FRESHET_TEST_HOOKS: "true",
    // A shorter hold: the backstop (the last net for a lost record) comes every 10 s, not 20.
    FRESHET_ROUTER_LIVE_POLL_TIMEOUT_MS: "10000",
    // SSE responses are not ended by the node on a timer inside a scenario, so that every SSE
    // reconnect a scenario counts is one the fault caused.
    FRESHET_REALTIME_SSE_MAX_DURATION_MS: "600000",
  };
  const child = spawn("java", ["-Xmx768m", "-jar", JAR, "run"], { cwd: RUN_DIR, env, stdio: ["ignore", out, out] });
  nodes[i] = { child, port: NODE_PORTS[i], index: i };
  return waitHealthy(i);
}

async function waitHealthy(i, timeoutMs = 120_000) {
  const deadline = now() + timeoutMs;
  while (now() < deadline) {
    try {
      const r = await fetch(`http://127.0.0.1:${NODE_PORTS[i]}/health`);
      if (r.status === 200) {
        return (await r.json()).node;
      }
    } catch {}
    await sleep(250);
  }
  throw new Error(`node ${i + 1} did not become healthy; see ${RUN_DIR}/node-${i + 1}.log`);
}

async function stopNode(i, signal = "SIGTERM") {
  const n = nodes[i];
  if (!n || n.child.exitCode !== null) {
    return;
  }
  const exited = new Promise((r) => n.child.once("exit", r));
  n.child.kill(signal);
  await Promise.race([exited, sleep(40_000)]);
}

async function nodeIds() {
  const ids = {};
  for (let i = 0; i < NODE_PORTS.length; i++) {
    try {
      ids[(await (await fetch(`http://127.0.0.1:${NODE_PORTS[i]}/health`)).json()).node] = i;
    } catch {}
  }
  return ids;
}

async function metric(port, prefix) {
  const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
  let sum = 0;
  for (const line of text.split("\n")) {
    if (line.startsWith(prefix)) {
      sum += Number(line.slice(line.lastIndexOf(" ") + 1));
    }
  }
  return sum;
}

// ------------------------------------------------------------------- HTTP, counted --
const counts = { fiveXX: 0, requestErrors: 0 };
const realFetch = globalThis.fetch;
// The SDK's feed requests by run (the Electric subscribers keep their own history): printed for a
// subscriber that never saw its final value, saw it late, or went backwards.
const sdkRequests = {};
function logSdkRequests(runId, since) {
  log(`  its requests, in ms from the scenario's start: ${(sdkRequests[runId] ?? []).map((h) => `${h.at - since} ${h.handle ?? "-"} offset ${h.offset}`
    + ` ${h.status ?? h.error ?? "pending"}${h.answeredAfter !== undefined ? ` +${h.answeredAfter}` : ""} on ${h.node ?? "?"}`).join(" | ")}`);
}
globalThis.fetch = async (input, init) => {
  const url = String(input?.url ?? input);
  const feed = /\/realtime\/v1\/runs\/(run_[a-z0-9]+)/.exec(url);
  const entry = feed && !url.includes("fault-client=electric")
    ? { at: now(), offset: /offset=([^&]+)/.exec(url)?.[1], handle: /handle=([^&]+)/.exec(url)?.[1] } : null;
  if (entry) {
    (sdkRequests[feed[1]] ??= []).push(entry);
  }
  try {
    const r = await realFetch(input, init);
    if (entry) {
      entry.status = r.status;
      entry.answeredAfter = now() - entry.at;
      entry.node = r.headers.get("freshet-node") ?? undefined;
    }
    if (r.status >= 500) {
      counts.fiveXX++;
    }
    return r;
  } catch (e) {
    if (entry) {
      entry.error = String(e?.name === "AbortError" ? "aborted" : e?.cause?.code ?? e);
    }
    if (e?.name !== "AbortError") {
      counts.requestErrors++;
    }
    throw e;
  }
};

let KEY;
async function api(method, p, body, { timeoutMs = 5000, base = BASE } = {}) {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const started = now();
  try {
    const r = await realFetch(`${base}${p}`, {
      method, signal: controller.signal,
      headers: { authorization: `Bearer ${KEY}`, ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    return { status: r.status, ms: now() - started, json: text ? JSON.parse(text) : undefined, text };
  } catch (e) {
    return { status: 0, ms: now() - started, error: String(e) };
  } finally {
    clearTimeout(timer);
  }
}

async function trigger(tag, metadata = { step: 0 }) {
  for (let attempt = 0; attempt < 30; attempt++) {
    const r = await api("POST", "/api/v1/tasks/fault-task/trigger", { payload: "{}", options: { tags: [tag], metadata } });
    if (r.status === 200) {
      return r.json.id;
    }
    await sleep(200);
  }
  throw new Error("trigger kept failing");
}

// --------------------------------------------------------------------- subscribers --
/** A subscriber: the steps it saw, in order, with arrival times, and the errors it surfaced. */
function subscriber(kind) {
  return { kind, seen: [], errors: [], stop: () => {} };
}

function sdkSubscriber(runId) {
  const s = subscriber("sdk");
  let stopped = false;
  const sub = sdkRuns.subscribeToRun(runId);
  (async () => {
    try {
      for await (const run of sub) {
        if (stopped) {
          break;
        }
        const step = run.metadata?.step;
        if (typeof step === "number") {
          s.seen.push({ step, at: now() });
        }
      }
    } catch (e) {
      if (!stopped) {
        s.errors.push(String(e));
      }
    }
  })();
  s.stop = () => {
    stopped = true;
    try { sub.unsubscribe(); } catch {}
  };
  return s;
}

/**
 * An Electric client following the run, over SSE (liveSse) or long-polls. It counts its own
 * requests: `connects` the live SSE requests (the first, then one per reconnect), `refetches` the
 * snapshots after the first (a feed it had to start over).
 */
function electricSubscriber(runId, { liveSse = true } = {}) {
  const s = subscriber(liveSse ? "electric-sse" : "electric-long-poll");
  s.connects = 0;
  s.refetches = -1;
  // Every request it made: when, what, the answer's status and handle, and for an SSE response
  // when its body ended (clean end or error): what to print when a subscriber reconnects too often.
  s.history = [];
  const controller = new AbortController();
  const counting = async (input, init) => {
    const url = String(input?.url ?? input);
    const entry = { at: now(), what: url.includes("live_sse=true") ? "sse" : url.includes("offset=-1") ? "snapshot" : "poll" };
    s.history.push(entry);
    if (entry.what === "sse") {
      s.connects++;
    } else if (entry.what === "snapshot") {
      s.refetches++;
    }
    let r;
    try {
      r = await globalThis.fetch(input, init);
    } catch (e) {
      entry.error = String(e?.name === "AbortError" ? "aborted" : e?.cause?.code ?? e);
      throw e;
    }
    entry.status = r.status;
    entry.handle = r.headers.get("electric-handle") ?? undefined;
    entry.reason = r.headers.get("freshet-refetch-reason") ?? undefined;
    entry.node = r.headers.get("freshet-node") ?? undefined;
    if (entry.what === "sse" && r.body) {
      const watched = r.body.pipeThrough(new TransformStream({ flush() { entry.ended = now(); } }));
      return new Response(watched, { status: r.status, statusText: r.statusText, headers: r.headers });
    }
    return r;
  };
  const stream = new ShapeStream({
    url: `${BASE}/realtime/v1/runs/${runId}?fault-client=electric`,
    headers: { Authorization: `Bearer ${KEY}` },
    liveSse,
    fetchClient: counting,
    signal: controller.signal,
    onError: (e) => {
      s.errors.push(String(e?.message ?? e));
      return {}; // keep going, as an application would after logging
    },
  });
  stream.subscribe((messages) => {
    for (const m of messages) {
      if (m.key && m.value?.metadata) {
        const step = JSON.parse(m.value.metadata).step;
        if (typeof step === "number") {
          s.seen.push({ step, at: now() });
        }
      }
    }
  });
  s.stop = () => controller.abort();
  s.stream = stream;
  return s;
}

// ------------------------------------------------------------------------ scenarios --
const results = [];

/**
 * The common shape: runs with one SDK and one Electric subscriber each, steps written every
 * writeEveryMs through nginx; fault() injects (returns when it is cleared, with the clearing time);
 * then a final step, and every subscriber must reach it.
 */
async function scenario(name, { runCount = 3, writeEveryMs = 200, writesPerSecond, warmMs = 1500, fault, finalTimeoutMs = 45_000, afterFinal, check,
  subscribersOf = (id) => [sdkSubscriber(id), electricSubscriber(id)], settle = false }) {
  if (ONLY && !ONLY.includes(name)) {
    return;
  }
  log(`--- ${name}`);
  const scenarioStart = now();
  const before = { ...counts };
  const tag = `fault-${name}-${now().toString(36)}`;
  const runIds = [];
  for (let i = 0; i < runCount; i++) {
    runIds.push(await trigger(tag));
  }
  const subs = [];
  for (const id of runIds) {
    for (const s of subscribersOf(id)) {
      subs.push({ runId: id, s });
    }
  }
  if (settle) {
    // The writes start once every subscriber has its snapshot: the fault is the subject, not the
    // storm of opens on nodes that started seconds before.
    const opening = now();
    await until(() => subs.every(({ s }) => s.seen.length > 0), "every subscriber's snapshot", 120_000);
    log(`${subs.length} subscribers have their snapshot after ${now() - opening} ms`);
  }
  const step = Object.fromEntries(runIds.map((id) => [id, 0]));
  // Steps whose write timed out at the client: their outcome is unknown. A request that reached a
  // frozen node sits in its socket and commits when the node resumes, after newer writes; the
  // feed then rightly shows the stored value going back to that step.
  const unknownOutcome = Object.fromEntries(runIds.map((id) => [id, new Set()]));
  const writeStatus = [];
  // The 5xx writes got, by answer: what a burst of them was.
  const refusals = new Map();
  let writing = true;
  const writeOne = async (id) => {
    const next = step[id] + 1;
    const r = await api("PUT", `/api/v1/runs/${id}/metadata`, { metadata: { step: next } }, { timeoutMs: 3000 });
    writeStatus.push({ status: r.status, ms: r.ms, at: now(), runId: id, step: next });
    if (r.status >= 500 && r.ms >= 1000) {
      log(`a write got ${r.status} after ${r.ms} ms: ${(r.text ?? "").slice(0, 200)}`);
    }
    if (r.status >= 500) {
      const why = `${r.status} ${r.ms < 1000 ? "fast" : "slow"}: ${(r.json?.error ?? r.text ?? "").slice(0, 90)}`;
      refusals.set(why, (refusals.get(why) ?? 0) + 1);
    }
    if (r.status === 200) {
      step[id] = next;
    } else if (r.status === 0) {
      unknownOutcome[id].add(next);
    }
  };
  const writer = writesPerSecond ? (async () => {
    // Paced on the clock, round robin over the runs: writesPerSecond in all, one run at a time.
    const started = now();
    for (let k = 0; writing; k++) {
      await writeOne(runIds[k % runIds.length]);
      await sleep(Math.max(0, started + (k + 1) * 1000 / writesPerSecond - now()));
    }
  })() : (async () => {
    while (writing) {
      for (const id of runIds) {
        await writeOne(id);
      }
      await sleep(writeEveryMs);
    }
  })();
  await sleep(warmMs);
  const context = { runIds, subs, step, writeStatus, tag };
  const cleared = await fault(context);
  writing = false;
  await writer;
  if (context.landed) {
    await context.landed();
  }
  // The final value: one more write per run, retried until it succeeds.
  const finals = {};
  for (const id of runIds) {
    for (let attempt = 0; attempt < 100; attempt++) {
      const r = await api("PUT", `/api/v1/runs/${id}/metadata`, { metadata: { step: step[id] + 1 } }, { timeoutMs: 3000 });
      writeStatus.push({ status: r.status, ms: r.ms, at: now() });
      if (r.status === 200) {
        step[id]++;
        break;
      }
      await sleep(200);
    }
    finals[id] = step[id];
  }
  const finalAt = now();
  if (afterFinal) {
    await afterFinal(context);
  }
  const deadline = now() + finalTimeoutMs;
  const reached = () => subs.every(({ runId, s }) => s.seen.some((x) => x.step >= finals[runId]));
  while (!reached() && now() < deadline) {
    await sleep(50);
  }
  const figures = { subscribers: subs.length, missing: 0, backwards: 0, clientErrors: 0, clearToFinalMs: 0, lateLandedWrites: 0, storedNotFinal: 0 };
  for (const id of runIds) {
    const r = await api("GET", `/api/v3/runs/${id}`);
    if (r.status !== 200 || r.json?.metadata?.step !== finals[id]) {
      figures.storedNotFinal++;
      log(`run ${id}: stored ${JSON.stringify(r.json?.metadata)} (status ${r.status}), final written ${finals[id]}`);
    }
  }
  for (const { runId, s } of subs) {
    const got = s.seen.find((x) => x.step >= finals[runId]);
    if (!got) {
      figures.missing++;
      log(`${s.kind} subscriber of ${runId} never saw step ${finals[runId]} (last: ${s.seen.at(-1)?.step})`);
      if (s.kind === "sdk") {
        logSdkRequests(runId, scenarioStart);
      }
    } else {
      if (got.at - finalAt > 1000) {
        log(`${s.kind} subscriber of ${runId} saw step ${finals[runId]} ${got.at - finalAt} ms after the final writes`);
        if (s.kind === "sdk") {
          logSdkRequests(runId, scenarioStart);
        }
      }
      figures.clearToFinalMs = Math.max(figures.clearToFinalMs, got.at - Math.max(cleared, 0));
    }
    for (let i = 1; i < s.seen.length; i++) {
      if (s.seen[i].step < s.seen[i - 1].step) {
        if (unknownOutcome[runId].has(s.seen[i].step)) {
          figures.lateLandedWrites++;
        } else {
          figures.backwards++;
          const refused = writeStatus.filter((w) => w.runId === runId && w.status >= 500).map((w) => `step ${w.step} ${w.status} at ${w.at}`);
          log(`${s.kind} subscriber of ${runId} went back from step ${s.seen[i - 1].step} (at ${s.seen[i - 1].at}) to ${s.seen[i].step}`
            + ` (at ${s.seen[i].at}); writes of the run answered 5xx: ${refused.join(", ") || "none"}`);
          if (s.kind === "sdk") {
            logSdkRequests(runId, scenarioStart);
          }
        }
      }
    }
    figures.clientErrors += s.errors.length;
    s.stop();
  }
  figures.finalWrittenAfterClearMs = finalAt - cleared;
  figures.finalWriteToEverySubscriberMs = Math.max(0, figures.clearToFinalMs - figures.finalWrittenAfterClearMs);
  figures.writes5xx = writeStatus.filter((w) => w.status >= 500).length;
  figures.writesFailedFast = writeStatus.filter((w) => w.status >= 500 && w.ms < 1000).length;
  figures.writesTimedOut = writeStatus.filter((w) => w.status === 0).length;
  figures.writesOther5xx = writeStatus.filter((w) => w.status >= 500 && w.status !== 503).length;
  figures.writeMaxMs = Math.max(0, ...writeStatus.filter((w) => w.status === 200).map((w) => w.ms));
  for (const [why, n] of refusals) {
    log(`${name}: ${n} write(s) answered ${why}`);
  }
  figures.fiveXX = counts.fiveXX - before.fiveXX;
  Object.assign(figures, context.extra ?? {});
  const ok = figures.missing === 0 && figures.backwards === 0 && figures.clientErrors === 0 && figures.storedNotFinal === 0
    && (context.check ? context.check(figures) : true) && (check ? check(figures) : true);
  results.push({ name, ok, figures });
  console.log(`faults: ${ok ? "PASS" : "FAIL"} ${name} ${JSON.stringify(figures)}`);
  await sleep(500);
}

/** The node index owning most of the Electric subscribers' feed logs (the handle names its node). */
/** The cluster is whole: every node's dashboard gathers a report from all three over the bus. */
async function clusterWhole() {
  for (const port of NODE_PORTS) {
    const r = await realFetch(`http://127.0.0.1:${port}/api/v1/dashboard/stats`, { headers: { authorization: `Bearer ${KEY}` } });
    if (r.status !== 200 || (await r.json()).nodes?.length !== NODE_PORTS.length) {
      return false;
    }
  }
  return true;
}

async function ownerOfFeeds(subs) {
  const ids = await nodeIds();
  const tally = {};
  for (const { s } of subs) {
    const handle = s.stream?.shapeHandle;
    const node = handle?.split("-")[0];
    if (node in ids) {
      tally[ids[node]] = (tally[ids[node]] ?? 0) + 1;
    }
  }
  const best = Object.entries(tally).sort((a, b) => b[1] - a[1])[0];
  return best ? Number(best[0]) : 0;
}

async function slowReaders({ subscribers, slow, changesPerSecond, durationMs }) {
  const name = "slow-readers";
  if (ONLY && !ONLY.includes(name)) {
    return;
  }
  log(`--- ${name}: ${subscribers} SSE subscribers, ${slow} never read, ${changesPerSecond} changes/s for ${durationMs / 1000} s`);
  // The slow subscribers follow a run of their own whose changes are large, so that their sockets
  // fill (through nginx's buffers too) within the phase; the healthy ones follow five ordinary runs.
  const healthyRuns = [];
  for (let i = 0; i < 5; i++) {
    healthyRuns.push(await trigger(`fault-slow-${now().toString(36)}`));
  }
  const slowRun = await trigger(`fault-slow-big-${now().toString(36)}`);
  const runIds = [...healthyRuns, slowRun];
  const padding = { [slowRun]: "x".repeat(16_000) };
  const streams = [];
  for (let i = 0; i < subscribers; i++) {
    const healthy = i >= slow;
    const runId = healthy ? healthyRuns[i % healthyRuns.length] : slowRun;
    const snap = await realFetch(`${BASE}/realtime/v1/runs/${runId}?offset=-1`, { headers: { authorization: `Bearer ${KEY}` } });
    await snap.text();
    const h = snap.headers.get("electric-handle");
    const o = snap.headers.get("electric-offset");
    const entry = { runId, healthy, last: 0, res: null };
    const req = http.get(`${BASE}/realtime/v1/runs/${runId}?handle=${h}&offset=${o}&live=true&live_sse=true`,
      { headers: { authorization: `Bearer ${KEY}` }, agent: false }, (res) => {
        entry.res = res;
        if (!healthy) {
          res.pause(); // never read: the socket fills, then the node's write queue
          return;
        }
        let buf = "";
        res.setEncoding("utf8");
        res.on("data", (chunk) => {
          buf += chunk;
          let at;
          while ((at = buf.indexOf("\n\n")) >= 0) {
            const event = buf.slice(0, at);
            buf = buf.slice(at + 2);
            const m = /\\"step\\":(\d+)/.exec(event);
            if (m) {
              entry.last = Math.max(entry.last, Number(m[1]));
            }
          }
        });
      });
    req.on("error", () => {});
    entry.req = req;
    streams.push(entry);
  }
  await until(() => streams.every((s) => s.res), `${subscribers} SSE streams open`);
  const heap = async () => {
    let total = 0;
    for (const port of NODE_PORTS) {
      total += await metric(port, 'jvm_memory_used_bytes{area="heap"');
    }
    return total;
  };
  const heapStart = await heap();
  let heapMax = heapStart;
  const closedBefore = (await Promise.all(NODE_PORTS.map((p) => metric(p, 'freshet_sse_closed_total{instance')))).reduce((a, b) => a + b, 0);
  const behindBefore = (await Promise.all(NODE_PORTS.map((p) => metric(p, 'freshet_sse_closed_total{instance="web-0",reason="behind"')
    .then(async (a) => a + await metric(p, 'freshet_sse_closed_total{instance="web-1",reason="behind"'))))).reduce((a, b) => a + b, 0);
  const step = Object.fromEntries(runIds.map((id) => [id, 0]));
  const issued = Object.fromEntries(runIds.map((id) => [id, 0]));
  let failedWrites = 0;
  const started = now();
  const sampler = setInterval(async () => {
    try {
      heapMax = Math.max(heapMax, await heap());
    } catch {}
  }, 1000);
  // One serial writer per run (concurrent writes to one run would commit in any order): 40% of the
  // changes to the slow subscribers' run, the rest spread over the healthy ones.
  const rates = new Map([[slowRun, changesPerSecond * 0.4], ...healthyRuns.map((id) => [id, changesPerSecond * 0.6 / healthyRuns.length])]);
  await Promise.all([...rates].map(async ([id, perSecond]) => {
    const every = 1000 / perSecond;
    for (let k = 0; now() - started < durationMs; k++) {
      const next = ++issued[id];
      const r = await api("PUT", `/api/v1/runs/${id}/metadata`, { metadata: { step: next, ...(padding[id] ? { padding: padding[id] } : {}) } });
      if (r.status === 200) {
        step[id] = next; // only what was written can be expected
      } else {
        failedWrites++;
      }
      await sleep(Math.max(0, started + (k + 1) * every - now()));
    }
  }));
  const finals = { ...step };
  const deadline = now() + 20_000;
  const healthyDone = () => streams.filter((s) => s.healthy).every((s) => s.last >= finals[s.runId]);
  while (!healthyDone() && now() < deadline) {
    await sleep(100);
  }
  clearInterval(sampler);
  for (const n of nodes) {
    try { execFileSync("jcmd", [String(n.child.pid), "GC.run"], { stdio: "ignore" }); } catch {}
  }
  await sleep(500);
  const heapEnd = await heap();
  const behindAfter = (await Promise.all(NODE_PORTS.map((p) => metric(p, 'freshet_sse_closed_total{instance="web-0",reason="behind"')
    .then(async (a) => a + await metric(p, 'freshet_sse_closed_total{instance="web-1",reason="behind"'))))).reduce((a, b) => a + b, 0);
  const healthy = streams.filter((s) => s.healthy);
  for (const id of healthyRuns) {
    const mine = healthy.filter((s) => s.runId === id);
    const short = mine.filter((s) => s.last < finals[id]);
    if (short.length) {
      log(`run ${id}: final ${finals[id]}, ${short.length} of ${mine.length} short, at ${[...new Set(short.map((s) => s.last))].slice(0, 5)}, responses ${short.filter((s) => s.res).length}`);
    }
  }
  const figures = {
    subscribers, slow, healthyWithFinal: healthy.filter((s) => s.last >= finals[s.runId]).length, healthy: healthy.length,
    heapStartMB: Math.round(heapStart / 1e6), heapMaxMB: Math.round(heapMax / 1e6), heapAfterGcMB: Math.round(heapEnd / 1e6),
    slowSessionsClosedBehind: behindAfter - behindBefore, failedWrites, fiveXX: counts.fiveXX,
  };
  for (const s of streams) {
    s.req.destroy();
  }
  const ok = figures.healthyWithFinal === figures.healthy && figures.heapMaxMB - figures.heapStartMB < 600;
  results.push({ name, ok, figures });
  console.log(`faults: ${ok ? "PASS" : "FAIL"} ${name} ${JSON.stringify(figures)}`);
  void closedBefore;
}

// ---------------------------------------------------------------------------- main --
async function main() {
  KEY = (process.env.FRESHET_SECRET_KEY || "").trim();
  log(`starting 3 nodes (cluster ${CLUSTER}) and nginx on :${LB_PORT}${SHORT ? " (short form)" : ""}`);
  await startNode(0);
  await Promise.all([startNode(1), startNode(2)]);
  sh([path.join(REPO, "scripts/nginx.sh"), "start", "faults", String(LB_PORT), NODE_PORTS.map((p) => `127.0.0.1:${p}`).join(","), "2"]);
  if (!KEY) {
    const text = readFileSync(path.join(RUN_DIR, "node-1.log"), "utf8");
    KEY = /secret key (tr_[A-Za-z0-9_]+)/.exec(text)[1];
  }
  configure({ baseURL: BASE, secretKey: KEY });
  await until(clusterWhole, "every node to see the other two");

  const faultMs = (full, short) => (SHORT ? short : full);

  await scenario("kill-9-feed-owner", {
    fault: async ({ subs }) => {
      const victim = await ownerOfFeeds(subs);
      log(`kill -9 node ${victim + 1}, which owns most feed logs`);
      await stopNode(victim, "SIGKILL");
      const at = now();
      await sleep(faultMs(5000, 3000));
      await startNode(victim);
      return at;
    },
  });

  await scenario("sigterm-sse-holder", {
    fault: async ({ subs }) => {
      const victim = await ownerOfFeeds(subs);
      log(`SIGTERM node ${victim + 1}: its SSE streams end cleanly and resume elsewhere`);
      await stopNode(victim, "SIGTERM");
      const at = now();
      await sleep(faultMs(5000, 3000));
      await startNode(victim);
      return at;
    },
  });

  await scenario("standby-stopped", {
    fault: async () => {
      db("replica", "stop");
      await sleep(faultMs(10_000, 5000));
      db("replica", "start");
      return now();
    },
  });

  await scenario("replay-paused", {
    fault: async () => {
      db("replica", "pause");
      await sleep(faultMs(30_000, 10_000));
      db("replica", "resume");
      return now();
    },
  });

  await scenario("primary-stopped", {
    fault: async (context) => {
      db("primary", "stop");
      const outage = now();
      // Triggers during the outage must fail fast and write nothing.
      const attempts = [];
      const tags = [];
      while (now() - outage < faultMs(10_000, 5000)) {
        const tag = `fault-outage-${attempts.length}-${now().toString(36)}`;
        tags.push(tag);
        attempts.push(await api("POST", "/api/v1/tasks/fault-task/trigger", { payload: "{}", options: { tags: [tag] } }));
        await sleep(300);
      }
      db("primary", "start");
      const at = now();
      context.extra = {
        outageTriggers: attempts.length,
        outageTriggers503: attempts.filter((a) => a.status === 503).length,
        outageSlowestMs: Math.max(...attempts.map((a) => a.ms)),
      };
      // What the refused triggers wrote: nothing. (A trigger that got 200 counts too.)
      context.outageTags = tags.filter((_, i) => attempts[i].status !== 200);
      context.check = () => context.halfWritten === 0 && context.extra.outageTriggers503 === context.extra.outageTriggers;
      return at;
    },
    afterFinal: async (context) => {
      let halfWritten = 0;
      for (const tag of context.outageTags ?? []) {
        const r = await api("GET", `/realtime/v1/runs?tags=${tag}&offset=-1`);
        halfWritten += (r.json ?? []).filter((m) => m.key).length;
      }
      context.halfWritten = halfWritten;
      context.extra.refusedTriggersThatWrote = halfWritten;
    },
  });

  await scenario("records-dropped", {
    fault: async (context) => {
      const victim = await ownerOfFeeds(context.subs);
      log(`node ${victim + 1} drops every change record it receives`);
      await realFetch(`http://127.0.0.1:${NODE_PORTS[victim]}/_test/hooks`, { method: "POST", body: JSON.stringify({ dropChangeRecords: true }),
        headers: { "content-type": "application/json" } });
      context.victim = victim;
      return now();
    },
    afterFinal: async (context) => {
      // The final writes' records are dropped too: only the backstop (router.livePollTimeoutMs, 10 s here) can bring them.
      const deadline = now() + 25_000;
      while (now() < deadline && !context.subs.every(({ runId, s }) => s.seen.some((x) => x.step >= context.step[runId]))) {
        await sleep(100);
      }
      await realFetch(`http://127.0.0.1:${NODE_PORTS[context.victim]}/_test/hooks`, { method: "POST", body: JSON.stringify({ dropChangeRecords: false }),
        headers: { "content-type": "application/json" } });
    },
  });

  // The full form only (about 2.5 minutes). A stopping node hands its feed logs to the others, so a
  // subscriber reconnects only when its own connection was on the stopping node: at most once per
  // node. sseClosedBy and the histogram say why sessions ended and how often each reconnected.
  if (!SHORT) await scenario("rolling-restart", {
    // 100 runs, each followed by three SSE clients and one long-polling client (300 + 100), 50 writes a second.
    runCount: 100,
    writesPerSecond: 50,
    warmMs: 3000,
    subscribersOf: (id) => [electricSubscriber(id), electricSubscriber(id), electricSubscriber(id), electricSubscriber(id, { liveSse: false })],
    // On two cores, a write sent while 400 subscribers open on three JVMs started seconds before
    // waited past nginx's 2 s write timeout in 5 of 12 runs: the restart is what is measured here.
    settle: true,
    fault: async (context) => {
      const started = now();
      // Why SSE responses ended, summed over every node's life (a restarted node's counters start again).
      const closedBy = {};
      const lastSeen = NODE_PORTS.map(() => ({}));
      const scrape = async (i) => {
        try {
          const text = await (await realFetch(`http://127.0.0.1:${NODE_PORTS[i]}/metrics`)).text();
          const seen = {};
          for (const line of text.split("\n")) {
            const m = /^freshet_sse_closed_total\{.*reason="([a-z-]+)".*\} (\S+)$/.exec(line);
            if (m) seen[m[1]] = (seen[m[1]] ?? 0) + Number(m[2]);
          }
          lastSeen[i] = seen;
        } catch {}
      };
      const bank = (i) => {
        for (const [k, v] of Object.entries(lastSeen[i])) closedBy[k] = (closedBy[k] ?? 0) + v;
        lastSeen[i] = {};
      };
      const stops = [];
      for (let i = 0; i < NODE_PORTS.length; i++) {
        log(`rolling restart: SIGTERM node ${i + 1}, start it again, wait until the cluster is whole`);
        await Promise.all(NODE_PORTS.map((_, j) => scrape(j)));
        stops.push({ node: i + 1, id: await waitHealthy(i), at: now() - started });
        await stopNode(i, "SIGTERM");
        stops.at(-1).exitedAt = now() - started;
        bank(i);
        await startNode(i);
        await until(clusterWhole, `node ${i + 1} to rejoin`);
        await sleep(faultMs(3000, 2000));
      }
      const at = now();
      await Promise.all(NODE_PORTS.map((_, j) => scrape(j)));
      NODE_PORTS.forEach((_, j) => bank(j));
      // At most one reconnect per node a subscriber was on: each SSE request after the first must
      // follow a stream that a node's stop ended (its freshet-node is a stopped node), and each
      // stopped node accounts for one reconnect of a subscriber at most.
      const stoppedIds = new Set(stops.map((x) => x.id));
      const beyond = (s) => {
        const streams = s.history.filter((h) => h.what === "sse");
        const charged = new Set();
        let extra = 0;
        for (let k = 1; k < streams.length; k++) {
          const before = streams[k - 1];
          if (before.status === 200 && stoppedIds.has(before.node) && !charged.has(before.node)) {
            charged.add(before.node);
          } else {
            extra++;
          }
        }
        return extra;
      };
      context.extra = { ...context.extra,
        sseReconnectsNotFromAStop: context.subs.filter(({ s }) => s.kind === "electric-sse").reduce((a, { s }) => a + beyond(s), 0) };
      // Past the bound, or told to refetch: what each such subscriber asked and got, in ms from the first SIGTERM.
      for (const { runId, s } of context.subs) {
        if ((s.kind === "electric-sse" && (s.connects - 1 > NODE_PORTS.length || beyond(s) > 0)) || s.history?.some((h) => h.status === 409)) {
          const line = s.history.map((h) => `${h.at - started} ${h.what} ${h.status ?? h.error} on ${h.node ?? "?"}${h.handle ? ` ${h.handle.split("-").slice(0, 2).join("-")}` : ""}`
            + `${h.ended ? ` ended +${h.ended - h.at}` : ""}${h.reason ? ` (${h.reason})` : ""}`).join(" | ");
          log(`${s.kind} subscriber of ${runId} reconnected ${s.connects - 1} times, refetched ${s.refetches}: ${line}`);
        }
      }
      context.extra = {
        ...context.extra,
        sseClosedBy: JSON.stringify(closedBy).replaceAll('"', ""),
        // How many SSE subscribers reconnected 0, 1, 2, ... times.
        sseReconnectsHistogram: JSON.stringify(context.subs.filter(({ s }) => s.kind === "electric-sse")
          .reduce((h, { s }) => { h[s.connects - 1] = (h[s.connects - 1] ?? 0) + 1; return h; }, {})).replaceAll('"', ""),
        sseReconnectsMax: Math.max(...context.subs.filter(({ s }) => s.kind === "electric-sse").map(({ s }) => s.connects - 1)),
        stops: JSON.stringify(stops).replaceAll('"', ""),
        sseReconnectsTotal: context.subs.filter(({ s }) => s.kind === "electric-sse").reduce((a, { s }) => a + s.connects - 1, 0),
        longPollRefetchesMax: Math.max(...context.subs.filter(({ s }) => s.kind === "electric-long-poll").map(({ s }) => s.refetches)),
      };
      return at;
    },
    // Every node was restarted once: a subscriber reconnects at most once per node it was on (so three times at most).
    check: (f) => f.fiveXX === 0 && f.writes5xx === 0 && f.sseReconnectsMax <= NODE_PORTS.length && f.sseReconnectsNotFromAStop === 0,
    finalTimeoutMs: 60_000,
  });

  if (!SHORT) {
    await scenario("member-cut-off", {
      fault: async (context) => {
        // FAULTS_CUT_OFF_NODE=1 freezes node 1 (the oldest member: Hazelcast's master) every time.
        const victim = process.env.FAULTS_CUT_OFF_NODE ? Number(process.env.FAULTS_CUT_OFF_NODE) - 1 : (await ownerOfFeeds(context.subs) + 1) % 3;
        log(`SIGSTOP node ${victim + 1} for 20 s (past Hazelcast's 15 s heartbeat timeout), then SIGCONT`);
        nodes[victim].child.kill("SIGSTOP");
        await sleep(20_000);
        nodes[victim].child.kill("SIGCONT");
        const cleared = now();
        // The final writes go once the cluster is whole again (every node's dashboard gathers all
        // three reports): from then on, the final value must reach every subscriber within 1 s.
        // Writes nginx sent to the frozen node got a 503 after its 2 s write timeout, and the node
        // refuses them when it resumes (X-Request-Start past http.writeDeadlineMs): none lands late.
        context.landed = async () => {
          await waitHealthy(victim);
          await until(clusterWhole, "the cut-off member to merge back");
          context.extra = { ...context.extra, resumedToWholeMs: now() - cleared };
        };
        return cleared;
      },
      check: (f) => f.finalWriteToEverySubscriberMs <= 1000 && f.writesTimedOut === 0 && f.lateLandedWrites === 0,
      finalTimeoutMs: 60_000,
    });
  }

  // Last of the scenarios that change the database: the rig is diverged afterwards, and
  // scripts/faults.sh rebuilds it (db.sh reset) when this marker is there.
  await scenario("primary-failover", {
    fault: async (context) => {
      log("stop the primary, promote the standby with pg_promote(); the nodes list both in db.primary.uris");
      db("primary", "stop");
      const stopped = now();
      writeFileSync(path.join(RUN_DIR, "promoted"), "standby 1 was promoted; the rig is diverged\n");
      await sleep(1000);
      db("promote", "1");
      const promoted = now();
      // The first write that succeeds on the new primary, without a node restart.
      await until(() => context.writeStatus.some((w) => w.at > promoted && w.status === 200), "a write to succeed on the promoted standby");
      context.extra = { stoppedToPromotedMs: promoted - stopped, promotedToFirstWriteMs: context.writeStatus.find((w) => w.at > promoted && w.status === 200).at - promoted };
      return promoted;
    },
    // During the switch writes are refused with a fast 503 (never a 500, never a timeout); after it they succeed.
    check: (f) => f.writesOther5xx === 0 && f.writesFailedFast === f.writes5xx && f.writesTimedOut === 0,
  });

  await slowReaders(SHORT ? { subscribers: 200, slow: 20, changesPerSecond: 100, durationMs: 10_000 }
    : { subscribers: 500, slow: 50, changesPerSecond: 100, durationMs: 30_000 });

  console.log("\n| scenario | result | subscribers | missing final | backwards | client errors | fault cleared → final at every subscriber | final write → every subscriber | write 5xx (fast) | other |");
  console.log("|---|---|---:|---:|---:|---:|---:|---:|---:|---|");
  for (const r of results) {
    const f = r.figures;
    const known = ["subscribers", "missing", "backwards", "clientErrors", "clearToFinalMs", "writes5xx", "writesFailedFast", "finalWriteToEverySubscriberMs", "storedNotFinal"];
    const other = Object.entries(f).filter(([k]) => !known.includes(k)).map(([k, v]) => `${k} ${v}`).join(", ");
    console.log(`| ${r.name} | ${r.ok ? "pass" : "FAIL"} | ${f.subscribers ?? "–"} | ${f.missing ?? "–"} | ${f.backwards ?? "–"} | ${f.clientErrors ?? "–"}`
      + ` | ${f.clearToFinalMs !== undefined ? f.clearToFinalMs + " ms" : "–"} | ${f.finalWriteToEverySubscriberMs !== undefined ? f.finalWriteToEverySubscriberMs + " ms" : "–"} | ${f.writes5xx ?? "–"} (${f.writesFailedFast ?? "–"}) | ${other} |`);
  }
}

/** Whether a node logged a blocked event loop (Vert.x's "Thread blocked"): worth keeping the logs of. */
function blockedEventLoop() {
  return NODE_PORTS.some((_, i) => {
    try {
      return readFileSync(path.join(RUN_DIR, `node-${i + 1}.log`), "utf8").includes("Thread blocked");
    } catch {
      return false;
    }
  });
}

/**
 * The next run starts with empty node logs: a run with a failed scenario, or whose nodes logged a
 * blocked event loop, keeps its node logs and nginx's error log in clients/.run/faults-kept/ (the
 * last ten).
 */
function keepLogsOf(worth, blocked) {
  if (worth.length === 0 && !blocked) {
    return;
  }
  const kept = path.join(REPO, "clients/.run/faults-kept");
  const dir = path.join(kept, `${new Date().toISOString().replaceAll(":", "")}-${worth.map((r) => r.name).join("+") || "blocked"}`);
  mkdirSync(dir, { recursive: true });
  cpSync(RUN_DIR, dir, { recursive: true });
  const nginxLog = path.join(REPO, ".data/nginx/faults/logs/error.log");
  if (existsSync(nginxLog)) {
    cpSync(nginxLog, path.join(dir, "nginx-error.log"));
  }
  for (const old of readdirSync(kept).sort().slice(0, -10)) {
    rmSync(path.join(kept, old), { recursive: true, force: true });
  }
  log(`kept the node logs in ${dir}`);
}

let exitCode = 0;
try {
  await main();
  exitCode = results.every((r) => r.ok) ? 0 : 1;
  keepLogsOf(results.filter((r) => !r.ok), blockedEventLoop());
} catch (e) {
  console.log(`faults: FAIL suite ${e?.stack ?? e}`);
  exitCode = 1;
} finally {
  try { sh([path.join(REPO, "scripts/nginx.sh"), "stop", "faults"]); } catch {}
  // One at a time, as the README says to stop a cluster: each leaves while the others are up.
  for (let i = 0; i < nodes.length; i++) {
    await stopNode(i, "SIGTERM");
  }
  for (const n of nodes) {
    if (n?.child.exitCode === null) n.child.kill("SIGKILL");
  }
}
process.exit(exitCode);
