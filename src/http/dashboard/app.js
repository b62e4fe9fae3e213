// The powerhouse-tasks dashboard: plain browser JavaScript, no framework, nothing loaded from
// outside this server. Every text from the API goes through textContent (never innerHTML), so a
// task title written in a synced document cannot inject markup.

import { charts } from "./charts.js";
import { badge, h, when } from "./dom.js";
import { details } from "./task-details.js";
import { schedulesSection } from "./schedules.js";
import { webhooksSection } from "./webhooks.js";
import { hooksSection } from "./hooks.js";
import { queueSection } from "./queue.js";
import { workersSection } from "./workers.js";
import { attemptsTable } from "./attempts.js";
import { failuresSection } from "./failures.js";
import { runTime } from "./run-figures.js";
import { filtered, recentFilterForm, recentQuery, showTag } from "./recent-filter.js";
import { pipelinesNav, pipelinesPage } from "./pipelines.js";
import { auditNav, auditPage } from "./audit.js";
import { submitForm } from "./submit-form.js";
import { templatesSection } from "./templates.js";
import { approvalsSection, decisionControls } from "./approvals.js";
import { SPEND_DAYS, spendSection } from "./spend.js";
import { budgetsSection, dailyBudgetBlock, driveBudgetList, personBudgetList } from "./budgets.js";
import { followUpCard } from "./follow-up.js";

const app = document.getElementById("app");
const TOKEN_KEY = "ph-tasks-token";
let refreshTimer;
let streamAbort;
// Bumped on every navigation: a refresh that was in flight when the user left the overview must
// not draw the overview over the page they went to.
let generation = 0;

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

function taskTable(id, tasks) {
  const optional = { class: "optional" };
  return h("div", { class: "table-wrap" }, h("table", { id },
    h("thead", {}, h("tr", {}, h("th", {}, "Status"), h("th", {}, "Title"), h("th", optional, "Type"), h("th", optional, "Tries"), h("th", optional, "Created"), h("th", {}, "Duration"))),
    h("tbody", {}, tasks.map((task) => h("tr", { "data-id": task.id },
      h("td", {}, badge(task.status)),
      h("td", { class: "title" }, h("a", { href: `#/tasks/${encodeURIComponent(task.id)}`, title: task.title }, task.title),
        (task.tags || []).map((tag) => h("a", { href: "#/", class: "tag", "data-tag": tag, title: "show the tasks with this tag", onclick: (event) => { event.preventDefault(); showTag(tag); } }, tag))),
      h("td", optional, task.type),
      h("td", optional, `${task.attempts}/${task.maxAttempts}`),
      h("td", optional, when(task.createdAt)),
      h("td", {}, runTime(task)))))));
}

function statCards(stats) {
  const card = (status, label, value, note) => h("div", { class: `card stat ${status}`, id: `stat-${status}` },
    h("div", { class: "label" }, label), h("div", { class: "value" }, String(value)), h("div", { class: "note" }, note));
  return h("div", { class: "grid stats", id: "stats" },
    card("pending", "Queue depth", stats.queueDepth, "waiting to run"),
    card("running", "Running", stats.runningAllWorkers, `${stats.running} on this worker`),
    ...["completed", "failed", "cancelled"].map((status) => card(status, status, stats.counts[status] ?? 0, "last hour")));
}

/** Per task type: waiting and running now, and the last hour's ends and run times (/api/stats `types`). */
function typesSection(types) {
  const seconds = (ms) => (ms === null ? "–" : `${(ms / 1000).toFixed(ms < 10_000 ? 1 : 0)} s`);
  const optional = { class: "optional" };
  return h("section", { class: "card", id: "types-section" },
    h("h2", {}, "Task types"),
    h("div", { class: "table-wrap" }, h("table", { id: "type-stats" },
      h("thead", {}, h("tr", {}, h("th", {}, "Type"), h("th", {}, "Waiting"), h("th", {}, "Running"), h("th", {}, "Done (1 h)"),
        h("th", {}, "Failed (1 h)"), h("th", optional, "Failure rate"), h("th", optional, "Median run"), h("th", optional, "95th pct."))),
      h("tbody", {}, types.map((t) => h("tr", { "data-type": t.type },
        h("td", { class: "title" }, t.type), h("td", {}, String(t.pending)), h("td", {}, String(t.running)),
        h("td", {}, String(t.lastHour.completed)), h("td", { class: t.lastHour.failed ? "error-text" : "" }, String(t.lastHour.failed)),
        h("td", optional, t.lastHour.failureRate === null ? "–" : `${Math.round(t.lastHour.failureRate * 100)} %`),
        h("td", optional, seconds(t.lastHour.p50Ms)), h("td", optional, seconds(t.lastHour.p95Ms))))))));
}

/** "42", or "10000+" when the agent stopped counting (the API's totalCapped). */
function countText(list) {
  return `${list.total}${list.totalCapped ? "+" : ""}`;
}

function runningSection(running) {
  return h("section", { class: "card", id: "running-section" },
    h("h2", {}, `Running now (${countText(running)})`),
    running.tasks.length ? taskTable("running-tasks", running.tasks) : h("p", { class: "muted" }, "Nothing is running."));
}

function recentSection(list) {
  return h("section", { class: "card", id: "recent-section" },
    h("h2", {}, `${filtered() ? "Matching tasks" : "Recent tasks"} (${countText(list)})`),
    list.tasks.length ? taskTable("recent", list.tasks) : h("p", { class: "muted" }, filtered() ? "No task matches." : "No tasks yet."));
}

// An agent without schedules or webhooks (404) shows no card for them; a refused token still signs out.
const optionalList = (path, key) => api(path).catch((error) => { if (error instanceof AuthError) throw error; return { [key]: null }; });
// GET /api/spend answers the report itself, not a list under a key: null where the agent has none (or it failed).
const optionalSpend = () => optionalList(`/api/spend?days=${SPEND_DAYS}`, "spend").then((body) => ("last24h" in body ? body : null));
// The people's budgets and, for a named token, its own whatever gives it (the list has only those with their own): `mine`.
const optionalPeople = () => optionalList("/api/budgets/people", "people").then(async (people) => {
  const name = document.body.dataset.user;
  if (!people.people || !name) return people;
  const own = await optionalList(`/api/budgets/people/${encodeURIComponent(name)}`, "person");
  return { ...people, mine: own.person ?? null };
});
const loadOverview = () => Promise.all([api("/api/stats"), api(recentQuery()), api("/api/tasks?status=running&limit=10"),
  optionalList("/api/schedules", "schedules"), optionalList("/api/hooks", "hooks"), optionalList("/api/webhooks", "webhooks"), optionalList("/api/queue/pauses", "pauses"),
  optionalList("/api/workers", "workers"), optionalList("/api/approvals", "approvals"), optionalSpend(), optionalList("/api/budgets/drives", "drives"), optionalList("/api/budgets/daily", "daily"),
  optionalPeople(),
  Promise.all([optionalList("/api/queue/rate-limits", "rateLimits"), optionalList("/api/queue/concurrency", "concurrency")])
    .then(([rates, caps]) => ({ rateLimits: rates.rateLimits ?? [], concurrency: caps.concurrency ?? [] }))]);

const schedulesCard = (schedules, mine) => (schedules.schedules ? schedulesSection(schedules.schedules, api, () => refreshOverview(mine)) : h("div", { id: "schedules-section" }));
const hooksCard = (hooks, mine) => (hooks.hooks ? hooksSection(hooks.hooks, api, () => refreshOverview(mine)) : h("div", { id: "hooks-section" }));
const queueCard = (pauses, limits, mine) => (pauses.pauses ? queueSection(pauses.pauses, limits, api, () => refreshOverview(mine)) : h("div", { id: "queue-section" }));
const workersCard = (workers, mine) => workersSection(workers.workers, api, () => refreshOverview(mine));
// An agent without the budget routes shows no card, or only the part it has.
const budgetsCard = (drives, daily, people, mine) => (drives.drives || daily.daily || people.people
  ? budgetsSection(drives.drives ? drives : null, daily.daily ? daily : null, people.people ? people : null, api, () => refreshOverview(mine), signedOut)
  : h("div", { id: "drive-budgets-section" }));
const webhooksCard = (webhooks, mine) => (webhooks.webhooks ? webhooksSection(webhooks.webhooks, api, () => refreshOverview(mine)) : h("div", { id: "webhooks-section" }));

/** A refused token asks for another (true: nothing more to show); any other error is the caller's. */
const signedOut = (error) => (error instanceof AuthError ? (showToken("The token was refused."), true) : false);
// Templates change rarely: drawn at each load of the overview, not swapped by its refreshes (its form keeps what is typed).
const templatesCard = (templates) => (templates.templates ? templatesSection(templates.templates, api, signedOut) : h("div", { id: "templates-section" }));

async function renderOverview(mine) {
  const [[stats, list, running, schedules, hooks, webhooks, pauses, workers, approvals, spend, driveBudgets, dailyBudget, personBudgets, limits], templates] = await Promise.all([loadOverview(), optionalList("/api/templates", "templates")]);
  if (mine !== generation) return;
  app.replaceChildren(
    queueCard(pauses, limits, mine),
    approvalsSection(approvals.approvals),
    statCards(stats),
    h("div", { class: "grid two" },
      h("section", { class: "card" }, h("h2", {}, "Last hour"), charts(stats.perMinute)),
      submitForm(api, signedOut)),
    templatesCard(templates),
    runningSection(running),
    typesSection(stats.types ?? []),
    failuresSection(stats.failures ?? []),
    spendSection(spend),
    budgetsCard(driveBudgets, dailyBudget, personBudgets, mine),
    workersCard(workers, mine),
    schedulesCard(schedules, mine),
    hooksCard(hooks, mine),
    webhooksCard(webhooks, mine),
    recentFilterForm(() => refreshOverview(mine), api),
    recentSection(list));
}

/** Swaps everything but the form, so a refresh never loses what the user is typing. */
async function refreshOverview(mine) {
  const [stats, list, running, schedules, hooks, webhooks, pauses, workers, approvals, spend, driveBudgets, dailyBudget, personBudgets, limits] = await loadOverview();
  if (mine !== generation) return;
  document.getElementById("queue-section")?.replaceWith(queueCard(pauses, limits, mine));
  document.getElementById("approvals-section")?.replaceWith(approvalsSection(approvals.approvals));
  document.getElementById("schedules-section")?.replaceWith(schedulesCard(schedules, mine));
  document.getElementById("hooks-section")?.replaceWith(hooksCard(hooks, mine));
  document.getElementById("webhooks-section")?.replaceWith(webhooksCard(webhooks, mine));
  document.getElementById("stats")?.replaceWith(statCards(stats));
  document.getElementById("types-section")?.replaceWith(typesSection(stats.types ?? []));
  document.getElementById("failures-section")?.replaceWith(failuresSection(stats.failures ?? []));
  document.getElementById("spend-section")?.replaceWith(spendSection(spend));
  if (dailyBudget.daily) document.getElementById("daily-budget")?.replaceWith(dailyBudgetBlock(dailyBudget, api, () => refreshOverview(mine)));
  if (driveBudgets.drives) document.getElementById("drive-budgets-list")?.replaceWith(driveBudgetList(driveBudgets, api, () => refreshOverview(mine)));
  if (personBudgets.people) document.getElementById("person-budgets-list")?.replaceWith(personBudgetList(personBudgets, api, () => refreshOverview(mine)));
  document.getElementById("workers-section")?.replaceWith(workersCard(workers, mine));
  document.querySelector(".charts")?.replaceWith(charts(stats.perMinute));
  document.getElementById("running-section")?.replaceWith(runningSection(running));
  document.getElementById("recent-section")?.replaceWith(recentSection(list));
}

// ---------- task page ----------

/** Splits complete text/event-stream blocks off the buffer; returns [events, rest]. */
function parseSse(buffer) {
  const events = [];
  let split;
  while ((split = buffer.indexOf("\n\n")) >= 0) {
    const block = buffer.slice(0, split);
    buffer = buffer.slice(split + 2);
    const fields = {};
    for (const line of block.split("\n")) {
      const colon = line.indexOf(":");
      // A line starting with ":" is a comment (the server's keep-alive).
      if (colon <= 0) continue;
      const name = line.slice(0, colon);
      const value = line.slice(colon + 1).replace(/^ /, "");
      // Several data lines make one value, joined by newlines (the SSE rule).
      fields[name] = name === "data" && fields.data !== undefined ? `${fields.data}\n${value}` : value;
    }
    events.push(fields);
  }
  return [events, buffer];
}

/**
 * Follows the task's event stream with fetch (EventSource cannot send the Authorization header)
 * until the server says `end`. A dropped connection is resumed from the last event id seen, so
 * nothing is shown twice or lost.
 */
async function followEvents(id, cursor, output, onStatus, notice) {
  // One stream per page: a retry pressed before the old stream saw `end` replaces it.
  streamAbort?.abort();
  streamAbort = new AbortController();
  const signal = streamAbort.signal;
  let failures = 0;
  while (!signal.aborted) {
    try {
      const token = localStorage.getItem(TOKEN_KEY);
      const res = await fetch(`/api/tasks/${encodeURIComponent(id)}/events`, { signal, headers: { Accept: "text/event-stream", "Last-Event-ID": cursor.lastId, ...(token ? { Authorization: `Bearer ${token}` } : {}) } });
      if (!res.ok || !res.body) throw new Error(`HTTP ${res.status}`);
      notice.textContent = "";
      const reader = res.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        failures = 0;
        let events;
        [events, buffer] = parseSse(buffer + decoder.decode(value, { stream: true }));
        for (const event of events) {
          if (signal.aborted) return;
          if (event.id) cursor.lastId = event.id;
          if (event.event === "output") {
            const chunk = JSON.parse(event.data);
            output.append(chunk.stream === "stderr" ? h("span", { class: "stderr" }, chunk.data) : chunk.data);
            output.scrollTop = output.scrollHeight;
          } else if (event.event === "status" || event.event === "end") {
            await onStatus();
            if (event.event === "end") return;
          }
        }
      }
      throw new Error("the stream closed before the task ended");
    } catch (error) {
      if (signal.aborted) return;
      if (++failures > 30) {
        notice.textContent = `Live output stopped (${error.message}); reload to try again.`;
        return;
      }
      notice.textContent = `Live output interrupted (${error.message}); reconnecting…`;
      await new Promise((resolve) => setTimeout(resolve, 1000));
    }
  }
}

async function renderTask(id, mine) {
  const { task } = await api(`/api/tasks/${encodeURIComponent(id)}`);
  if (mine !== generation) return;
  const output = h("pre", { class: "output", id: "output" });
  const detailBox = h("div", {}, details(task));
  const attemptsBox = h("div", {});
  const message = h("div", { class: "error", id: "action-error" });
  const notice = h("div", { class: "muted", id: "stream-notice" });
  const cursor = { lastId: "0" };
  const cancel = h("button", { id: "cancel", class: "secondary" }, "Cancel");
  const retry = h("button", { id: "retry", class: "secondary" }, "Retry");
  const decision = decisionControls(task, (verb, body) => act(verb, body)());
  const followUp = followUpCard(id, api);
  const update = async () => {
    // Both read before anything is drawn: the details and the buttons change together.
    const [{ task: latest }, { attempts }] = await Promise.all([api(`/api/tasks/${encodeURIComponent(id)}`), api(`/api/tasks/${encodeURIComponent(id)}/attempts`)]);
    detailBox.replaceChildren(details(latest));
    attemptsBox.replaceChildren(attemptsTable(attempts));
    cancel.disabled = !(latest.status === "pending" || latest.status === "running");
    retry.disabled = !(latest.status === "failed" || latest.status === "cancelled");
    decision.sync(latest);
    await followUp.sync(latest);
  };
  const act = (verb, body) => async () => {
    message.textContent = "";
    try {
      await api(`/api/tasks/${encodeURIComponent(id)}/${verb}`, { method: "POST", ...(body ? { body: JSON.stringify(body) } : {}) });
      await update();
      if (verb === "retry") {
        // The earlier attempts' output stays; the new attempt's follows a marker.
        output.append(h("span", { class: "marker" }, `\n— retried at ${new Date().toLocaleTimeString()} —\n`));
        void followEvents(id, cursor, output, update, notice);
      }
    } catch (error) {
      message.textContent = error.message;
    }
  };
  cancel.addEventListener("click", act("cancel"));
  retry.addEventListener("click", act("retry"));
  app.replaceChildren(
    h("p", { class: "back" }, h("a", { href: "#/" }, "← all tasks")),
    h("section", { class: "card" }, h("h2", { class: "task-title", title: task.title }, task.title), detailBox, h("div", { class: "actions write-only" }, cancel, retry, ...decision.nodes), message),
    followUp.card,
    h("section", { class: "card", id: "attempts-section" }, h("h2", {}, "Attempts"), attemptsBox),
    h("section", { class: "card" }, h("h2", {}, "Output"), output, notice));
  await update();
  void followEvents(id, cursor, output, update, notice);
}

// ---------- routing ----------

/** A read-only token (API_READ_TOKEN) sees no buttons it could not use (style.css). */
async function showAccess() {
  const { access, name } = await api("/api/access");
  document.body.classList.toggle("read-only", access === "read");
  // A named token (API_USERS): approvals are decided in its name (approvals.js reads it here); one of API_READERS only reads.
  document.body.dataset.user = name || "";
  document.getElementById("user-note").textContent = name ? `signed in as ${name}${access === "read" ? " (read only)" : ""}` : "";
}

async function route() {
  stopTimers();
  const mine = ++generation;
  const match = /^#\/tasks\/(.+)$/.exec(location.hash);
  const pipeline = /^#\/pipelines(?:\?status=(\w+)|\/(.*))?$/.exec(location.hash);
  const audit = /^#\/audit(?:\?actor=(.*))?$/.exec(location.hash);
  try {
    await showAccess();
    if (match) {
      await renderTask(decodeURIComponent(match[1]), mine);
    } else if (pipeline) {
      await pipelinesPage(app, api, pipeline[2] && decodeURIComponent(pipeline[2]), () => mine === generation, pipeline[1]);
    } else if (audit) {
      await auditPage(app, api, audit[1] && decodeURIComponent(audit[1]));
    } else {
      await renderOverview(mine);
      if (mine === generation) refreshTimer = setInterval(() => void refreshOverview(mine).catch(() => undefined), 2000);
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

document.querySelector("header .brand")?.after(pipelinesNav(), auditNav());
window.addEventListener("hashchange", () => void route());
void route();
void health();
setInterval(() => void health(), 10000);
