// A plain EventSource in headless Chromium (Debian's /usr/bin/chromium, driven by playwright-core),
// on a page served from another origin, following a run through Freshet's SSE endpoint.
import assert from "node:assert/strict";
import { after, before, describe, test } from "node:test";
import { BASE, eventually, http, launchChromium, servePage, transition, unique } from "./helpers.js";


// The page a web app would ship: snapshot with fetch (Authorization header, so a CORS preflight),
// then live changes over EventSource, which cannot send headers, so the token rides in ?token=.
const PAGE = `<!doctype html>
<html><head><meta charset="utf-8"><title>Freshet run</title></head>
<body><pre id="log"></pre>
<script>
window.received = [];
window.errors = [];
window.follow = async (base, runId, token) => {
  const feed = base + "/realtime/v1/runs/" + encodeURIComponent(runId);
  const res = await fetch(feed + "?offset=-1", { headers: { Authorization: "Bearer " + token } });
  const headers = {};
  for (const name of ["electric-handle", "electric-offset", "electric-schema", "electric-up-to-date"]) {
    headers[name] = res.headers.get(name);
  }
  const snapshot = await res.json();
  for (const message of snapshot) {
    if (message.key) window.received.push({ via: "fetch", value: message.value });
  }
  const live = feed + "?handle=" + encodeURIComponent(headers["electric-handle"]) +
    "&offset=" + encodeURIComponent(headers["electric-offset"]) +
    "&live=true&live_sse=true&cursor=&token=" + encodeURIComponent(token);
  const source = new EventSource(live);
  window.source = source;
  source.onmessage = (event) => {
    const message = JSON.parse(event.data);
    if (message.key) {
      window.received.push({ via: "sse", value: message.value });
      document.getElementById("log").textContent += message.value.status + " " + message.value.metadata + "\\n";
    } else if (message.headers && message.headers.control === "up-to-date") {
      window.lastSeen = message.headers.global_last_seen_lsn;
    }
  };
  source.onerror = () => window.errors.push({ readyState: source.readyState, at: Date.now() });
  return { status: res.status, headers };
};
</script></body></html>`;

describe("a browser on another origin follows a run over SSE", () => {
  let pageServer;
  let pageOrigin;
  let context;
  let browser;

  before(async () => {
    // localhost vs 127.0.0.1 and another port: a different origin from the Freshet node either way.
    pageServer = await servePage(PAGE);
    pageOrigin = pageServer.origin;
    browser = await launchChromium();
    context = browser.context;
  });

  after(async () => {
    await browser?.close();
    pageServer?.close();
  });

  test("CORS preflight allows the SDK's headers and responses expose the protocol headers", async () => {
    const origin = "http://localhost:1";
    const preflight = await fetch(`${BASE}/realtime/v1/runs/run_x?offset=-1`, {
      method: "OPTIONS",
      headers: {
        Origin: origin,
        "Access-Control-Request-Method": "GET",
        "Access-Control-Request-Headers": "authorization,trigger-version,x-trigger-electric-version,x-trigger-api-version,x-trigger-branch",
      },
    });
    assert.ok(preflight.status === 200 || preflight.status === 204, `preflight ${preflight.status}`);
    const allowOrigin = preflight.headers.get("access-control-allow-origin");
    assert.ok(allowOrigin === "*" || allowOrigin === origin, `allow-origin ${allowOrigin}`);
    const allowed = preflight.headers.get("access-control-allow-headers").toLowerCase().split(/\s*,\s*/);
    for (const header of ["authorization", "trigger-version", "x-trigger-electric-version", "x-trigger-api-version", "x-trigger-branch"]) {
      assert.ok(allowed.includes(header), `preflight allows ${header}: ${allowed}`);
    }
    assert.match(preflight.headers.get("access-control-allow-methods"), /GET/);

    const run = await http("POST", "/api/v1/tasks/browser-task/trigger", { body: { payload: "{}", options: { payloadType: "application/json" } } });
    const res = await fetch(`${BASE}/realtime/v1/runs/${run.json.id}?offset=-1`, {
      headers: { Origin: origin, Authorization: `Bearer ${process.env.FRESHET_SECRET_KEY}` },
    });
    await res.text();
    const expose = (res.headers.get("access-control-expose-headers") ?? "").toLowerCase();
    assert.ok(expose === "*" || ["electric-handle", "electric-offset", "electric-schema", "electric-cursor", "electric-up-to-date"]
      .every((h) => expose.includes(h)), `exposed: ${expose}`);
    assert.ok(["*", origin].includes(res.headers.get("access-control-allow-origin")));
  });

  test("EventSource with a public token in ?token= receives every change with current content", async () => {
    const created = await http("POST", "/api/v1/tasks/browser-task/trigger", {
      body: { payload: JSON.stringify({ page: true }), options: { payloadType: "application/json", tags: [unique("browser")], metadata: { v: 0 } } },
    });
    assert.equal(created.status, 200, created.text);
    const runId = created.json.id;
    const token = created.headers.get("x-trigger-jwt"); // scoped to this run, as the SDK's handle.publicAccessToken

    const page = await context.newPage();
    try {
      await page.goto(`${pageOrigin}/run.html`);
      const opened = await page.evaluate(([base, id, jwt]) => window.follow(base, id, jwt), [BASE, runId, token]);
      assert.equal(opened.status, 200);
      assert.ok(opened.headers["electric-handle"], "the page can read electric-handle (CORS exposes it)");
      assert.match(opened.headers["electric-offset"], /^\d+_\d+$/, "the page can read electric-offset");
      assert.ok(opened.headers["electric-schema"], "the page can read electric-schema");

      const received = () => page.evaluate(() => window.received);
      await eventually(async () => (await received()).some((m) => m.via === "fetch" && m.value.friendlyId === runId), "the snapshot");
      await eventually(() => page.evaluate(() => window.source.readyState === 1), "the EventSource to open");

      const committed = [{ v: 0 }];
      for (let v = 1; v <= 3; v++) {
        const res = await http("PUT", `/api/v1/runs/${runId}/metadata`, { body: { metadata: { v, from: "browser-test" } } });
        assert.equal(res.status, 200, res.text);
        committed.push(res.json.metadata);
        await eventually(async () => (await received()).some((m) => m.via === "sse" && JSON.parse(m.value.metadata ?? "null")?.v === v),
          `change ${v} in the page`);
      }
      await transition(runId, "completed", { output: JSON.stringify({ shown: true }), outputType: "application/json" });
      await eventually(async () => (await received()).some((m) => m.value.status === "COMPLETED_SUCCESSFULLY"), "completion in the page");
      // A later change as a sentinel: the feed is in order, so a wrongly repeated delivery of an
      // earlier one would arrive before it.
      const sentinel = await http("PUT", `/api/v1/runs/${runId}/metadata`, { body: { metadata: { v: 4, from: "browser-test" } } });
      assert.equal(sentinel.status, 200, sentinel.text);
      committed.push(sentinel.json.metadata);
      await eventually(async () => (await received()).some((m) => m.via === "sse" && JSON.parse(m.value.metadata ?? "null")?.v === 4),
        "the sentinel change in the page");

      const all = await received();
      const viaSse = all.filter((m) => m.via === "sse");
      // Each SSE event is a full row equal to a committed state, in order, each change once.
      assert.deepEqual(viaSse.map((m) => JSON.parse(m.value.metadata)), [committed[1], committed[2], committed[3], committed[3], committed[4]]);
      const completion = viaSse.at(-2).value;
      assert.equal(completion.friendlyId, runId);
      assert.equal(completion.status, "COMPLETED_SUCCESSFULLY");
      assert.ok(completion.completedAt && !completion.completedAt.endsWith("Z"));
      assert.equal(completion.output, JSON.stringify({ shown: true }));
      assert.ok(Number(await page.evaluate(() => window.lastSeen)) > 0, "up-to-date events carry global_last_seen_lsn");
      assert.match(await page.textContent("#log"), /COMPLETED_SUCCESSFULLY/);
    } finally {
      await page.evaluate(() => window.source?.close()).catch(() => {});
      await page.close();
    }
  });
});
