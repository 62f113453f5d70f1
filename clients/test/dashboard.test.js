// The operator dashboard (/dashboard) in headless Chromium: a wrong key gets a clear error, the
// right one shows the environment's runs changing live, and the lag chart follows the standby's
// apply delay. Saves a screenshot (clients/.run/dashboard.png; docs/dashboard.png is a copy).
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { after, before, describe, test } from "node:test";
import { BASE, SECRET, eventually, http, launchChromium, transition, unique } from "./helpers.js";

const CLIENTS = join(dirname(fileURLToPath(import.meta.url)), "..");
const BASE_DELAY_MS = Number(process.env.FRESHET_APPLY_DELAY_MS ?? 200);
const DASHBOARD_DELAY_MS = 350;

const setDelay = (ms) => execFileSync("bash", [join(CLIENTS, "set-delay.sh"), String(ms)], { stdio: "inherit" });

describe("the dashboard in a browser", () => {
  let context;
  let browser;
  let page;
  // What the page's Content-Security-Policy refused (Chromium reports each on the console).
  const refusedByPolicy = [];

  before(async () => {
    browser = await launchChromium({ viewport: { width: 1400, height: 1000 } });
    context = browser.context;
    page = context.pages()[0] ?? (await context.newPage());
    page.on("console", (message) => {
      if (/Content Security Policy/i.test(message.text())) {
        refusedByPolicy.push(message.text());
      }
    });
  });

  after(async () => {
    setDelay(BASE_DELAY_MS);
    await browser?.close();
  });

  test("a wrong key shows a clear error and no board", async () => {
    const response = await page.goto(`${BASE}/dashboard`);
    assert.match(response.headers()["content-security-policy"] ?? "", /script-src 'self'/, "the page is served under its policy");
    await page.fill("#key", "tr_dev_notTheRightKey000000000");
    await page.click("button[type=submit]");
    await page.waitForSelector("#error:not([hidden])");
    const error = await page.textContent("#error");
    assert.match(error, /refused this key \(401\): invalid API key/);
    assert.equal(await page.isVisible("#board"), false);
    assert.equal(await page.isVisible("#signin"), true);
    assert.equal(page.url().includes("tr_dev"), false, "the key never goes into the URL");
  });

  test("with the key: a run triggered now appears and its status changes live to COMPLETED, without a reload", async () => {
    await page.fill("#key", SECRET);
    await page.click("button[type=submit]");
    await page.waitForSelector("#board:not([hidden])");
    assert.equal(await page.evaluate(() => sessionStorage.getItem("freshet.dashboard.key")), SECRET, "kept in session storage");
    await page.waitForFunction(() => document.querySelector("#nodes tr"), null, { timeout: 10_000 });
    const nodes = await page.$$eval("#nodes tr td:first-child", (tds) => tds.map((td) => td.textContent));
    assert.ok(nodes.some((n) => n.includes("(this page)")), `the serving node is listed: ${nodes}`);
    assert.match(await page.textContent("#version"), /^Freshet \S+ · served by /);

    const tag = unique("dash");
    const res = await http("POST", "/api/v1/tasks/dashboard-task/trigger", { body: { payload: { n: 1 }, options: { tags: [tag], metadata: { step: 1 } } } });
    assert.equal(res.status, 200, res.text);
    const runId = res.json.id;
    const row = `#runs tr[data-run="${runId}"]`;
    await page.waitForSelector(row, { timeout: 15_000 });
    assert.equal(await page.getAttribute(row, "data-status"), "QUEUED");
    assert.match(await page.textContent(`${row} td:nth-child(4)`), new RegExp(tag));
    const navigations = await page.evaluate(() => performance.getEntriesByType("navigation").length);

    await transition(runId, "executing");
    await page.waitForSelector(`${row}[data-status="EXECUTING"]`, { timeout: 15_000 });
    await http("PUT", `/api/v1/runs/${runId}/metadata`, { body: { metadata: { step: 2 } } });
    await page.waitForFunction((sel) => document.querySelector(sel)?.children[4].textContent.includes('"step":2'), `${row}`, { timeout: 15_000 });
    await transition(runId, "completed", { output: JSON.stringify({ ok: true }), outputType: "application/json" });
    await page.waitForSelector(`${row}[data-status="COMPLETED"]`, { timeout: 15_000 });
    assert.equal(await page.evaluate(() => performance.getEntriesByType("navigation").length), navigations, "no reload");
  });

  test("the lag chart shows the apply delay set on the standby, within 50 ms", async () => {
    setDelay(DASHBOARD_DELAY_MS);
    // The estimate is the largest heartbeat sample of the last seconds: it rises to the new delay
    // within a few samples (feeds are active: the page itself follows one).
    await eventually(async () => {
      const ms = Number(await page.getAttribute("#lag-now", "data-ms"));
      return Math.abs(ms - DASHBOARD_DELAY_MS) <= 50;
    }, `the page's lag estimate within 50 ms of ${DASHBOARD_DELAY_MS} ms`, 30_000);
    const ms = Number(await page.getAttribute("#lag-now", "data-ms"));
    console.log(`dashboard: standby apply delay ${DASHBOARD_DELAY_MS} ms, the page shows a lag estimate of ${ms} ms`);
    const paths = await page.$$eval("#chart path.series", (ps) => ps.map((p) => p.getAttribute("d").length));
    assert.ok(paths.length >= 1 && paths[0] > 20, "the chart draws the node's lag line");
    // One more stats poll, so the screenshot's line reaches the new level (the screenshot asserts nothing).
    await page.waitForResponse((r) => r.url().includes("/api/v1/dashboard/stats"), { timeout: 30_000 });
    await page.evaluate(() => new Promise((drawn) => requestAnimationFrame(() => drawn())));
    await page.screenshot({ path: join(CLIENTS, ".run", "dashboard.png"), fullPage: true });
    assert.deepEqual(refusedByPolicy, [], "the page needs nothing its Content-Security-Policy refuses");
  });
});
