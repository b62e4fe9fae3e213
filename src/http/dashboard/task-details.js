// The task page's details: what the task is, how it ran, why it waits, where it came from and
// what it is linked to (dependencies, its pipeline, the conversation it continues).

import { badge, h, when } from "./dom.js";
import { cpuText, limitsText, runTime } from "./run-figures.js";
import { filterByTag } from "./recent-filter.js";
import { pipelineRows } from "./pipelines.js";
import { decisionRows } from "./approvals.js";
import { followUpRows } from "./follow-up.js";

export function details(task) {
  const result = task.result && typeof task.result === "object" ? task.result : {};
  const rows = [
    ["Status", badge(task.status)], ["Type", task.type], ["Title", task.title], ["Id", task.id],
    ["Attempts", `${task.attempts}/${task.maxAttempts}`], ["Priority", String(task.priority)],
    ["Created", when(task.createdAt)], ["Started", when(task.startedAt)], ["Finished", when(task.finishedAt)],
    ["Duration", runTime(task)], ["Worker", task.workerId || "–"],
  ];
  if (task.type === "cli") rows.push(["Command", [task.command, ...(task.args || [])].join(" "), "long"]);
  if ("exitCode" in result) rows.push(["Exit code", result.exitCode === null ? `none (killed by ${result.signal || "a signal"})` : String(result.exitCode)]);
  // What all its processes used (TASK_CGROUP_ROOT: a cgroup per run counts it).
  const cpu = cpuText(result.cpu);
  if (cpu) rows.push(["CPU", h("span", { class: "cpu" }, cpu)]);
  // The run's resource limits (TASK_LIMIT_* and the task's own), else those the task asks for.
  const limits = limitsText(result.limits || task.limits);
  if (limits) rows.push(["Limits", h("span", { class: "limits" }, limits)]);
  if (task.error) rows.push(["Error", h("span", { class: "error" }, `${task.error.code}: ${task.error.message}`)]);
  if (task.waiting) rows.push(["Waiting", h("span", { class: "waiting", "data-code": task.waiting.code }, task.waiting.message), "long"]);
  rows.push(...decisionRows(task));
  if (task.source && task.source.documentId) rows.push(["Document", task.source.documentId]);
  // Who asked, as a named token or key proves it (API_USERS, TASK_AUTHORIZED_WRITERS); where from.
  if (task.source && (task.source.by || task.source.origin)) rows.push(["Asked by", h("span", { class: "asked-by" }, [task.source.by, task.source.origin && `(${task.source.origin})`].filter(Boolean).join(" "))]);
  if (Array.isArray(task.tags) && task.tags.length > 0) {
    // Each tag opens the overview filtered to its tasks.
    const links = task.tags.flatMap((tag, i) => [i > 0 ? ", " : "", h("a", { href: "#/", class: "tag", onclick: () => filterByTag(tag) }, tag)]);
    rows.push(["Tags", h("span", {}, ...links)]);
  }
  rows.push(...pipelineRows(task), ...followUpRows(task));
  if (Array.isArray(task.dependsOn) && task.dependsOn.length > 0) {
    const links = task.dependsOn.flatMap((id, i) => [i > 0 ? ", " : "", h("a", { href: `#/tasks/${encodeURIComponent(id)}`, class: "dependency" }, id)]);
    const onFailure = task.onDependencyFailure === "cancel" ? " (cancelled if one fails)" : "";
    rows.push([task.status === "pending" ? "Waits for" : "Ran after", h("span", {}, ...links, onFailure), "long"]);
  }
  // (Every task has a runAt, its creation at least: shown only when it was put later.)
  if (task.runAt && Date.parse(task.runAt) > Date.parse(task.createdAt) + 1000) rows.push(["Not before", h("span", { class: "run-at" }, new Date(task.runAt).toLocaleString())]);
  if (task.startBy) rows.push(["Start by", h("span", { class: "start-by" }, `${new Date(task.startBy).toLocaleString()} (else cancelled)`)]);
  return h("dl", { id: "task-details" }, rows.flatMap(([k, v, kind]) => [h("dt", {}, k), h("dd", { class: kind }, v)]));
}
