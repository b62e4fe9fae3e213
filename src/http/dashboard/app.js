// The powerhouse-tasks dashboard: plain browser JavaScript, no framework, nothing loaded from
// outside this server. Every text from the API goes through textContent (never innerHTML), so a
// task title written in a synced document cannot inject markup.

const app = document.getElementById("app");
const TOKEN_KEY = "ph-tasks-token";
const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];
let refreshTimer;
let streamAbort;

/** Builds an element; children are nodes or strings (as text). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) el.append(child instanceof Node ? child : String(child));
  return el;
}

function svg(tag, attrs = {}) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  return el;
}

class AuthError extends Error {}

async function api(path, init = {}) {
  const token = localStorage.getItem(TOKEN_KEY);
  const headers = { ...(init.body ? { "Content-Type": "application/json" } : {}), ...(token ? { Authorization: `Bearer ${token}` } : {}), ...(init.headers || {}) };
  const res = await fetch(path, { ...init, headers });
  if (res.status === 401) throw new AuthError("unauthorized");
  const body = await res.json().catch(() => ({}));
  if (!res.ok) {
    const error = new Error(body.message || `HTTP ${res.status}`);
    error.body = body;
    throw error;
  }
  return body;
}

const badge = (status) => h("span", { class: `badge ${status}`, "data-status": status }, status);
const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "–");
function duration(task) {
  if (!task.startedAt) return "–";
  const end = task.finishedAt ? Date.parse(task.finishedAt) : Date.now();
  return `${((end - Date.parse(task.startedAt)) / 1000).toFixed(1)} s`;
}

function showToken(message) {
  stopTimers();
  app.replaceChildren(document.getElementById("token-template").content.cloneNode(true));
  document.getElementById("token-error").textContent = message || "";
  document.getElementById("token-form").addEventListener("submit", (event) => {
    event.preventDefault();
    localStorage.setItem(TOKEN_KEY, document.getElementById("token-input").value.trim());
    route();
  });
}

function stopTimers() {
  clearInterval(refreshTimer);
  refreshTimer = undefined;
  if (streamAbort) streamAbort.abort();
  streamAbort = undefined;
}

// ---------- overview ----------

function chart(perMinute) {
  const now = Math.floor(Date.now() / 60000);
  const buckets = Array.from({ length: 60 }, (_, i) => ({ minute: now - 59 + i, completed: 0, failed: 0 }));
  for (const row of perMinute) {
    const bucket = buckets.find((b) => b.minute === Math.floor(Date.parse(row.minute) / 60000));
    if (bucket && (row.status === "completed" || row.status === "failed")) bucket[row.status] += row.count;
  }
  const max = Math.max(1, ...buckets.map((b) => b.completed + b.failed));
  const root = svg("svg", { viewBox: "0 0 600 140", preserveAspectRatio: "none", role: "img", "aria-label": "tasks finished per minute" });
  buckets.forEach((b, i) => {
    const x = i * 10 + 1;
    const hc = (b.completed / max) * 110;
    const hf = (b.failed / max) * 110;
    root.append(svg("rect", { x, y: 120 - hc, width: 8, height: hc, fill: "#1d8a4a" }));
    root.append(svg("rect", { x, y: 120 - hc - hf, width: 8, height: hf, fill: "#c23a2b" }));
  });
  // Failure rate (0–100 %) as a line over the bars.
  const points = buckets.map((b, i) => {
    const total = b.completed + b.failed;
    return `${i * 10 + 5},${120 - (total ? (b.failed / total) * 110 : 0)}`;
  });
  root.append(svg("polyline", { points: points.join(" "), fill: "none", stroke: "#e0a100", "stroke-width": 1.5 }));
  root.append(svg("line", { x1: 0, y1: 120.5, x2: 600, y2: 120.5, stroke: "#e3e6ec" }));
  const totals = buckets.reduce((acc, b) => ({ completed: acc.completed + b.completed, failed: acc.failed + b.failed }), { completed: 0, failed: 0 });
  const rate = totals.completed + totals.failed ? Math.round((totals.failed / (totals.completed + totals.failed)) * 100) : 0;
  return h("div", { class: "chart" }, root,
    h("div", { class: "legend" },
      h("span", {}, h("i", { style: "background:#1d8a4a" }), `completed ${totals.completed}`),
      h("span", {}, h("i", { style: "background:#c23a2b" }), `failed ${totals.failed}`),
      h("span", {}, h("i", { style: "background:#e0a100" }), `failure rate ${rate} % (last hour)`)));
}

function submitForm() {
  const errors = h("div", { class: "error", id: "submit-error" });
  const form = h("form", { id: "submit-form" },
    h("label", {}, "Command", h("input", { name: "command", placeholder: "echo", required: true })),
    h("label", {}, "Arguments (one per line)", h("textarea", { name: "args", placeholder: "hello" })),
    h("label", {}, "Title (optional)", h("input", { name: "title" })),
    h("label", {}, "Working directory (optional)", h("input", { name: "workingDirectory" })),
    h("button", { type: "submit" }, "Run"),
    errors);
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const command = String(data.get("command") || "").trim();
    const args = String(data.get("args") || "").split("\n").map((a) => a.trim()).filter((a) => a.length > 0);
    const body = { type: "cli", title: String(data.get("title") || "").trim() || [command, ...args].join(" ").slice(0, 200) || "task", command, args };
    const cwd = String(data.get("workingDirectory") || "").trim();
    if (cwd) body.workingDirectory = cwd;
    errors.textContent = "";
    try {
      const { task } = await api("/api/tasks", { method: "POST", body: JSON.stringify(body) });
      location.hash = `#/tasks/${task.id}`;
    } catch (error) {
      if (error instanceof AuthError) return showToken("The token was refused.");
      const fieldErrors = error.body && error.body.errors ? error.body.errors.map((e) => `${e.field}: ${e.message}`).join("\n") : "";
      errors.textContent = fieldErrors || error.message;
    }
  });
  return h("section", { class: "card" }, h("h2", {}, "Run a command"), form);
}

function taskTable(tasks) {
  return h("table", { id: "recent" },
    h("thead", {}, h("tr", {}, ["Status", "Title", "Type", "Tries", "Created", "Duration"].map((t) => h("th", {}, t)))),
    h("tbody", {}, tasks.map((task) => h("tr", { "data-id": task.id },
      h("td", {}, badge(task.status)),
      h("td", {}, h("a", { href: `#/tasks/${task.id}` }, task.title)),
      h("td", {}, task.type),
      h("td", {}, `${task.attempts}/${task.maxAttempts}`),
      h("td", {}, when(task.createdAt)),
      h("td", {}, duration(task))))));
}

async function renderOverview() {
  const [stats, list] = await Promise.all([api("/api/stats"), api("/api/tasks?limit=25")]);
  const cards = STATUSES.map((status) => h("div", { class: "card stat", id: `stat-${status}` },
    h("div", { class: "label" }, status === "pending" ? "queued" : status),
    h("div", { class: "value" }, String(stats.counts[status] ?? 0))));
  app.replaceChildren(
    h("div", { class: "grid stats" }, cards),
    h("div", { class: "grid two", style: "margin-top:16px" },
      h("section", { class: "card" }, h("h2", {}, "Finished per minute, last hour"), chart(stats.perMinute)),
      submitForm()),
    h("section", { class: "card", style: "margin-top:16px" }, h("h2", {}, `Recent tasks (${list.total})`), list.tasks.length ? taskTable(list.tasks) : h("p", { class: "muted" }, "No tasks yet.")));
}

async function refreshOverview() {
  const [stats, list] = await Promise.all([api("/api/stats"), api("/api/tasks?limit=25")]);
  for (const status of STATUSES) {
    const value = document.querySelector(`#stat-${status} .value`);
    if (value) value.textContent = String(stats.counts[status] ?? 0);
  }
  const chartEl = document.querySelector(".chart");
  if (chartEl) chartEl.replaceWith(chart(stats.perMinute));
  const table = document.getElementById("recent");
  if (table) table.replaceWith(taskTable(list.tasks));
  else if (list.tasks.length) await renderOverview();
}

// ---------- task page ----------

function details(task) {
  const result = task.result && typeof task.result === "object" ? task.result : {};
  const rows = [
    ["Status", badge(task.status)], ["Type", task.type], ["Title", task.title], ["Id", task.id],
    ["Attempts", `${task.attempts}/${task.maxAttempts}`], ["Priority", String(task.priority)],
    ["Created", when(task.createdAt)], ["Started", when(task.startedAt)], ["Finished", when(task.finishedAt)],
    ["Duration", duration(task)], ["Worker", task.workerId || "–"],
  ];
  if (task.type === "cli") rows.push(["Command", [task.command, ...(task.args || [])].join(" ")]);
  if ("exitCode" in result) rows.push(["Exit code", String(result.exitCode)]);
  if (task.error) rows.push(["Error", h("span", { class: "error" }, `${task.error.code}: ${task.error.message}`)]);
  if (task.source && task.source.documentId) rows.push(["Document", task.source.documentId]);
  return h("dl", { id: "task-details" }, rows.flatMap(([k, v]) => [h("dt", {}, k), h("dd", {}, v)]));
}

async function followEvents(id, output, onStatus) {
  let lastId = "0";
  streamAbort = new AbortController();
  const signal = streamAbort.signal;
  for (let attempt = 0; attempt < 50 && !signal.aborted; attempt++) {
    try {
      const token = localStorage.getItem(TOKEN_KEY);
      const res = await fetch(`/api/tasks/${encodeURIComponent(id)}/events`, { signal, headers: { Accept: "text/event-stream", "Last-Event-ID": lastId, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true });
        let split;
        while ((split = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, split);
          buffer = buffer.slice(split + 2);
          const fields = {};
          for (const line of block.split("\n")) {
            const colon = line.indexOf(":");
            if (colon > 0) fields[line.slice(0, colon)] = line.slice(colon + 1).replace(/^ /, "");
          }
          if (fields.id) lastId = fields.id;
          if (fields.event === "output") {
            const chunk = JSON.parse(fields.data);
            output.append(chunk.stream === "stderr" ? h("span", { class: "stderr" }, chunk.data) : chunk.data);
            output.scrollTop = output.scrollHeight;
          } else if (fields.event === "status" || fields.event === "end") {
            await onStatus();
            if (fields.event === "end") return;
          }
        }
      }
    } catch {
      if (signal.aborted) return;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function renderTask(id) {
  const { task } = await api(`/api/tasks/${encodeURIComponent(id)}`);
  const output = h("pre", { class: "output", id: "output" });
  const detailBox = h("div", {}, details(task));
  const message = h("div", { class: "error", id: "action-error" });
  const cancel = h("button", { id: "cancel", class: "secondary" }, "Cancel");
  const retry = h("button", { id: "retry", class: "secondary" }, "Retry");
  const update = async () => {
    const { task: latest } = await api(`/api/tasks/${encodeURIComponent(id)}`);
    detailBox.replaceChildren(details(latest));
    cancel.disabled = !(latest.status === "pending" || latest.status === "running");
    retry.disabled = !(latest.status === "failed" || latest.status === "cancelled");
  };
  const act = (verb) => async () => {
    message.textContent = "";
    try {
      await api(`/api/tasks/${encodeURIComponent(id)}/${verb}`, { method: "POST" });
      await update();
      if (verb === "retry") {
        output.replaceChildren();
        void followEvents(id, output, update);
      }
    } catch (error) {
      message.textContent = error.message;
    }
  };
  cancel.addEventListener("click", act("cancel"));
  retry.addEventListener("click", act("retry"));
  app.replaceChildren(
    h("p", {}, h("a", { href: "#/" }, "← all tasks")),
    h("section", { class: "card" }, h("h2", {}, task.title), detailBox, h("div", { class: "actions" }, cancel, retry), message),
    h("section", { class: "card", style: "margin-top:16px" }, h("h2", {}, "Output"), output));
  await update();
  void followEvents(id, output, update);
}

// ---------- routing ----------

async function route() {
  stopTimers();
  const match = /^#\/tasks\/(.+)$/.exec(location.hash);
  try {
    if (match) {
      await renderTask(decodeURIComponent(match[1]));
    } else {
      await renderOverview();
      refreshTimer = setInterval(() => void refreshOverview().catch(() => undefined), 2000);
    }
  } catch (error) {
    if (error instanceof AuthError) return showToken(localStorage.getItem(TOKEN_KEY) ? "The token was refused." : "");
    app.replaceChildren(h("section", { class: "card" }, h("p", { class: "error" }, error.message), h("a", { href: "#/" }, "back")));
  }
}

async function health() {
  try {
    const res = await fetch("/healthz");
    const body = await res.json();
    document.getElementById("health").textContent = `${body.store} · worker ${body.workerId} · up ${body.uptimeSeconds} s`;
  } catch {
    document.getElementById("health").textContent = "agent unreachable";
  }
}

window.addEventListener("hashchange", () => void route());
void route();
void health();
setInterval(() => void health(), 10000);
