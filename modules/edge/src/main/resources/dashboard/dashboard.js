// Freshet's operator dashboard. Two sources, both public API of the node:
//  - GET /api/v1/dashboard/stats: every node's figures (from the meters behind /metrics), polled;
//  - the realtime runs feed (Electric shape protocol, live long-poll), followed like any client.
// The key lives in sessionStorage only, and goes out in the Authorization header.
"use strict";

const KEY_ITEM = "freshet.dashboard.key";
const TAGS_ITEM = "freshet.dashboard.tags";
const CHART_WINDOW_MS = 5 * 60 * 1000;
const STATS_EVERY_MS = 1000;
const MAX_RUNS_SHOWN = 50;
const COLORS = ["#7cc4ff", "#f0a35e", "#7fe0a9", "#d59cff", "#ff8f8f", "#e8d66f"];

// trigger.dev's raw statuses as the SDK names them (RunStatuses on the server).
const API_STATUS = {
  DELAYED: "DELAYED", WAITING_FOR_DEPLOY: "PENDING_VERSION", PENDING_VERSION: "PENDING_VERSION", PENDING: "QUEUED",
  PAUSED: "WAITING", WAITING_TO_RESUME: "WAITING", DEQUEUED: "DEQUEUED", RETRYING_AFTER_FAILURE: "EXECUTING",
  EXECUTING: "EXECUTING", CANCELED: "CANCELED", COMPLETED_SUCCESSFULLY: "COMPLETED", COMPLETED_WITH_ERRORS: "FAILED",
  INTERRUPTED: "FAILED", SYSTEM_FAILURE: "SYSTEM_FAILURE", CRASHED: "CRASHED", EXPIRED: "EXPIRED", TIMED_OUT: "TIMED_OUT",
};

const $ = (id) => document.getElementById(id);
let session = null; // { key, tags, abort }

function showError(message) {
  const box = $("error");
  box.textContent = message;
  box.hidden = !message;
}

function signin() {
  session?.abort.abort();
  session = null;
  $("board").hidden = true;
  $("identity").hidden = true;
  $("signin").hidden = false;
  $("tags").value = sessionStorage.getItem(TAGS_ITEM) || "";
  $("key").focus();
}

async function api(path, key, signal) {
  const res = await fetch(path, { headers: { Authorization: `Bearer ${key}` }, signal, cache: "no-store" });
  let body = null;
  try {
    body = await res.json();
  } catch (e) {
    body = null;
  }
  return { res, body };
}

/** Opens the board for a key: the stats call checks it first, so a wrong key never shows an empty board. */
async function open(key, tags) {
  showError("");
  let res, body;
  try {
    ({ res, body } = await api("/api/v1/dashboard/stats", key));
  } catch (e) {
    signin();
    showError(`Cannot reach the node (${e.message})`);
    return;
  }
  if (!res.ok) {
    sessionStorage.removeItem(KEY_ITEM);
    signin();
    showError(`The node refused this key (${res.status}): ${body?.error ?? res.statusText}`);
    return;
  }
  sessionStorage.setItem(KEY_ITEM, key);
  sessionStorage.setItem(TAGS_ITEM, tags);
  session = { key, tags, abort: new AbortController(), history: new Map(), runs: new Map(), lastAt: 0 };
  $("signin").hidden = true;
  $("board").hidden = false;
  $("identity").hidden = false;
  $("env").textContent = `environment ${body.environment} (${body.credential})`;
  renderStats(body);
  pollStats(session);
  followRuns(session);
}

// ------------------------------------------------------------------------------------ stats --

async function pollStats(s) {
  while (session === s) {
    await sleep(STATS_EVERY_MS);
    if (session !== s) {
      return;
    }
    try {
      const { res, body } = await api(`/api/v1/dashboard/stats?since=${s.lastAt}`, s.key, s.abort.signal);
      if (res.status === 401 || res.status === 403) {
        signin();
        showError(`The node refused this key (${res.status}): ${body?.error ?? ""}`);
        return;
      }
      if (!res.ok) {
        showError(`Stats unavailable (${res.status}): ${body?.error ?? res.statusText}; retrying`);
        continue;
      }
      renderStats(body);
    } catch (e) {
      if (session !== s) {
        return;
      }
      showError(`Cannot reach the node (${e.message}); retrying`);
    }
  }
}

function renderStats(stats) {
  const s = session;
  if (!s) {
    return;
  }
  if (!$("error").textContent.startsWith("Runs feed")) {
    showError("");
  }
  s.lastAt = stats.at;
  const nodes = stats.nodes;
  for (const n of nodes) {
    const points = s.history.get(n.node) ?? [];
    for (const p of n.lagHistory ?? []) {
      if (!points.length || p[0] > points[points.length - 1][0]) {
        points.push(p);
      }
    }
    while (points.length && points[0][0] < stats.at - CHART_WINDOW_MS) {
      points.shift();
    }
    s.history.set(n.node, points);
  }
  const mine = nodes.find((n) => n.node === stats.servedBy) ?? nodes[0];
  $("version").textContent = mine ? `Freshet ${mine.version} · served by ${stats.servedBy}` : "";

  const lags = nodes.map((n) => n.lagMs).filter((v) => typeof v === "number");
  const lagNow = lags.length ? Math.max(...lags) : null;
  $("lag-now").textContent = lagNow == null ? "–" : `${lagNow} ms`;
  $("lag-now").dataset.ms = lagNow == null ? "" : String(lagNow);
  $("lag-hint").textContent = mine ? `gate ${mine.gateMode}: waits this + ${mine.gateMarginMs} ms margin` : "";
  const p50 = Math.max(0, ...nodes.map((n) => n.deliveryLag?.p50 ?? 0));
  const p99 = Math.max(0, ...nodes.map((n) => n.deliveryLag?.p99 ?? 0));
  const delivered = nodes.reduce((a, n) => a + (n.deliveryLag?.count ?? 0), 0);
  $("delivery").textContent = delivered ? `${fmt(p50)} / ${fmt(p99)} ms` : "no deliveries yet";
  $("held-polls").textContent = String(nodes.reduce((a, n) => a + (n.held?.["long-poll"] ?? 0), 0));
  $("held-sse").textContent = String(nodes.reduce((a, n) => a + (n.held?.sse ?? 0), 0));
  $("hydrates").textContent = `${fmt(nodes.reduce((a, n) => a + (n.hydratesPerSec ?? 0), 0))}/s`;
  const outcomes = {};
  for (const n of nodes) {
    for (const [outcome, v] of Object.entries(n.stale ?? {})) {
      outcomes[outcome] ??= { total: 0, perSec: 0 };
      outcomes[outcome].total += v.total;
      outcomes[outcome].perSec += v.perSec;
    }
  }
  const stale = $("stale");
  stale.replaceChildren();
  for (const [outcome, v] of Object.entries(outcomes)) {
    const line = document.createElement("div");
    line.textContent = `${outcome.replaceAll("_", " ")}: ${v.total} (${fmt(v.perSec)}/s)`;
    stale.append(line);
  }
  if (!Object.keys(outcomes).length) {
    stale.textContent = "none";
  }
  renderNodes(nodes, stats.servedBy);
  renderChart(stats.at);
}

function renderNodes(nodes, servedBy) {
  const body = $("nodes");
  const rows = nodes.map((n) => {
    const tr = document.createElement("tr");
    const cells = [
      n.node + (n.node === servedBy ? " (this page)" : ""),
      n.version,
      n.primary,
      n.replica,
      typeof n.lagMs === "number" ? `${n.lagMs} ms` : "–",
      n.deliveryLag?.count ? `${fmt(n.deliveryLag.p50 ?? 0)} / ${fmt(n.deliveryLag.p99 ?? 0)} ms` : "–",
      String(n.held?.["long-poll"] ?? 0),
      String(n.held?.sse ?? 0),
      String(n.feeds ?? 0),
      fmt(n.hydratesPerSec ?? 0),
    ];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      td.textContent = text;
      td.title = text;
      if (i === 2 || i === 3) {
        td.className = text === "ok" ? "state-ok" : text === "paused" || text === "none" ? "state-warn" : "state-bad";
      }
      tr.append(td);
    });
    return tr;
  });
  body.replaceChildren(...rows);
}

function renderChart(now) {
  const svg = $("chart");
  const W = 900, H = 220, left = 56, bottom = 20, top = 8;
  const all = [...session.history.values()].flat();
  const max = Math.max(100, ...all.map((p) => p[1])) * 1.15;
  const x = (t) => left + ((t - (now - CHART_WINDOW_MS)) / CHART_WINDOW_MS) * (W - left - 4);
  const y = (v) => top + (1 - v / max) * (H - top - bottom);
  const parts = [];
  const step = niceStep(max / 4);
  for (let v = 0; v <= max; v += step) {
    parts.push(`<line class="grid" x1="${left}" x2="${W}" y1="${y(v)}" y2="${y(v)}"/>`);
    parts.push(`<text class="axis" x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${v} ms</text>`);
  }
  for (let m = 5; m >= 0; m--) {
    const t = now - m * 60_000;
    parts.push(`<text class="axis" x="${Math.min(W - 14, x(t))}" y="${H - 4}" text-anchor="middle">${m ? `-${m} min` : "now"}</text>`);
  }
  const legend = [];
  [...session.history.entries()].forEach(([node, points], i) => {
    const color = COLORS[i % COLORS.length];
    if (points.length > 1) {
      const d = points.map((p, j) => `${j ? "L" : "M"}${x(p[0]).toFixed(1)},${y(p[1]).toFixed(1)}`).join("");
      parts.push(`<path class="series" stroke="${color}" d="${d}"/>`);
    }
    // Built as elements, its colour set through the CSSOM: the page's Content-Security-Policy
    // (style-src 'self') refuses style attributes in markup.
    const swatch = document.createElement("span");
    swatch.textContent = "■";
    swatch.style.color = color;
    if (legend.length) {
      legend.push(document.createTextNode("\u00a0\u00a0 "));
    }
    legend.push(swatch, document.createTextNode(` ${node}`));
  });
  svg.innerHTML = parts.join("");
  $("chart-legend").replaceChildren(...legend);
}

// ------------------------------------------------------------------------------------- runs --

/** The environment's runs (or those with the chosen tags), through the live long-poll feed. */
async function followRuns(s) {
  const tags = s.tags.split(",").map((t) => t.trim()).filter(Boolean);
  const base = `/realtime/v1/runs?createdAt=24h${tags.length ? `&tags=${encodeURIComponent(tags.join(","))}` : ""}`;
  $("runs-source").textContent = tags.length ? `carrying ${tags.join(", ")}, live` : "all of the environment, last 24 h, live";
  let handle = null, offset = "-1", cursor = "";
  renderRuns(s, new Set());
  while (session === s) {
    const live = handle ? `&handle=${encodeURIComponent(handle)}&offset=${offset}&live=true&cursor=${encodeURIComponent(cursor)}` : "&offset=-1";
    let res, body;
    try {
      ({ res, body } = await api(base + live, s.key, s.abort.signal));
    } catch (e) {
      if (session !== s) {
        return;
      }
      showError(`Runs feed: cannot reach the node (${e.message}); retrying`);
      await sleep(2000);
      continue;
    }
    if (res.status === 409) { // must-refetch: start over from a snapshot
      handle = null;
      offset = "-1";
      s.runs.clear();
      continue;
    }
    if (!res.ok) {
      showError(`Runs feed refused (${res.status}): ${body?.error ?? res.statusText}${res.status === 403 ? " — enter a tag this token may read" : ""}`);
      if (res.status >= 400 && res.status < 500 && res.status !== 429) {
        return;
      }
      await sleep(2000);
      continue;
    }
    if ($("error").textContent.startsWith("Runs feed")) {
      showError("");
    }
    handle = res.headers.get("electric-handle");
    offset = res.headers.get("electric-offset") ?? offset;
    cursor = res.headers.get("electric-cursor") ?? cursor;
    const changed = new Set();
    for (const m of body ?? []) {
      if (!m.key) {
        continue;
      }
      if (m.headers?.operation === "delete") {
        s.runs.delete(m.key);
      } else {
        s.runs.set(m.key, { ...(s.runs.get(m.key) ?? {}), ...m.value });
        changed.add(m.key);
      }
    }
    renderRuns(s, changed);
  }
}

function renderRuns(s, changed) {
  const runs = [...s.runs.entries()].sort((a, b) => String(b[1].createdAt).localeCompare(String(a[1].createdAt))).slice(0, MAX_RUNS_SHOWN);
  $("runs-empty").hidden = runs.length > 0;
  const body = $("runs");
  const existing = new Map([...body.children].map((tr) => [tr.dataset.key, tr]));
  const rows = runs.map(([key, run]) => {
    const tr = existing.get(key) ?? document.createElement("tr");
    tr.dataset.key = key;
    tr.dataset.run = run.friendlyId;
    const status = API_STATUS[run.status] ?? run.status;
    tr.dataset.status = status;
    tr.dataset.updated = String(run.updatedAt);
    const tagList = parseArray(run.runTags);
    tr.replaceChildren(
      cell(run.friendlyId, "meta"),
      cell(run.taskIdentifier),
      badge(status),
      tagsCell(tagList),
      cell(run.metadata ?? "", "meta"),
      cell(ago(run.updatedAt)),
    );
    if (changed.has(key)) {
      tr.classList.remove("changed");
      void tr.offsetWidth; // restart the flash
      tr.classList.add("changed");
    }
    return tr;
  });
  body.replaceChildren(...rows);
}

function cell(text, cls) {
  const td = document.createElement("td");
  td.textContent = text ?? "";
  td.title = text ?? "";
  if (cls) {
    td.className = cls;
  }
  return td;
}

function badge(status) {
  const td = document.createElement("td");
  const span = document.createElement("span");
  span.className = `badge s-${status}`;
  span.textContent = status;
  td.append(span);
  return td;
}

function tagsCell(tags) {
  const td = document.createElement("td");
  for (const t of tags) {
    const span = document.createElement("span");
    span.className = "tag";
    span.textContent = t;
    td.append(span);
  }
  td.title = tags.join(", ");
  return td;
}

/** A PostgreSQL text[] as Electric sends it: {a,"b c"}. */
function parseArray(text) {
  if (!text || text === "{}") {
    return [];
  }
  const out = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^,{}]+)/g;
  let m;
  while ((m = re.exec(text.slice(1, -1)))) {
    out.push(m[1] !== undefined ? m[1].replace(/\\(.)/g, "$1") : m[2]);
  }
  return out;
}

/** Timestamps arrive zone-less, in UTC. */
function ago(ts) {
  if (!ts) {
    return "";
  }
  const ms = Date.now() - Date.parse(`${ts}Z`);
  if (Number.isNaN(ms)) {
    return String(ts);
  }
  if (ms < 60_000) {
    return `${Math.max(0, Math.round(ms / 1000))} s ago`;
  }
  if (ms < 3_600_000) {
    return `${Math.round(ms / 60_000)} min ago`;
  }
  return `${Math.round(ms / 3_600_000)} h ago`;
}

// ---------------------------------------------------------------------------------- helpers --

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const fmt = (v) => (Math.round(v * 10) / 10).toString();

function niceStep(raw) {
  const pow = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) {
    if (m * pow >= raw) {
      return m * pow;
    }
  }
  return 10 * pow;
}

// Keep "updated N s ago" current without re-rendering rows.
setInterval(() => {
  for (const tr of $("runs").children) {
    const td = tr.lastElementChild;
    if (td) {
      td.textContent = ago(tr.dataset.updated);
    }
  }
}, 1000);

$("keyform").addEventListener("submit", (e) => {
  e.preventDefault();
  open($("key").value.trim(), $("tags").value.trim());
});
$("signout").addEventListener("click", () => {
  sessionStorage.removeItem(KEY_ITEM);
  showError("");
  signin();
});

const stored = sessionStorage.getItem(KEY_ITEM);
if (stored) {
  open(stored, sessionStorage.getItem(TAGS_ITEM) || "");
} else {
  signin();
}
