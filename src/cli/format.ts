/** Plain-text tables and one-line summaries for people; --json prints the objects instead. */
import type { ApiTask } from "./client.js";
import { hasLimits, limitsLine } from "../tasks/executors/run-limits.js";
import { RunLimitsSchema } from "../tasks/types.js";
import { parseWith } from "../validation.js";

export function table(headers: string[], rows: string[][]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i] ?? 0)).join("  ").trimEnd();
  return [line(headers), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}

export function ago(iso: string | null | undefined, now = Date.now()): string {
  if (!iso) return "-";
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.round(s / 60)}m ago`;
  if (s < 86400) return `${Math.round(s / 3600)}h ago`;
  return `${Math.round(s / 86400)}d ago`;
}

export function durationOf(task: ApiTask): string {
  if (!task.startedAt) return "-";
  const end = task.finishedAt ? Date.parse(task.finishedAt) : Date.now();
  return `${((end - Date.parse(task.startedAt)) / 1000).toFixed(1)}s`;
}

export function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

export function taskRows(tasks: ApiTask[]): string {
  return table(
    ["ID", "TYPE", "STATUS", "TRIES", "CREATED", "DURATION", "TITLE"],
    tasks.map((t) => [t.id, t.type, t.status, `${t.attempts}/${t.maxAttempts}`, ago(t.createdAt), durationOf(t), truncate(t.title, 50)]),
  );
}

export function describeTask(task: ApiTask): string {
  const lines = [
    `id:        ${task.id}`,
    `title:     ${task.title}`,
    `type:      ${task.type}`,
    `status:    ${task.status}`,
    `attempts:  ${task.attempts}/${task.maxAttempts}`,
    `priority:  ${task.priority}`,
    `created:   ${task.createdAt ?? "-"} (${ago(task.createdAt)})${task.source?.by ? ` by ${task.source.by}` : ""}${task.source?.origin ? ` (${task.source.origin})` : ""}`,
    `duration:  ${durationOf(task)}`,
  ];
  if (typeof task.continueFrom === "string") lines.push(`continues: ${task.continueFrom} (its conversation: ph-tasks conversation ${task.id})`);
  if (task.waiting) lines.push(`waiting:   ${task.waiting.message}`);
  if (task.error) lines.push(`error:     ${task.error.code}: ${task.error.message}`);
  const result = task.result;
  if (result && typeof result === "object" && !Array.isArray(result)) {
    const r = result as Record<string, unknown>;
    if ("exitCode" in r) lines.push(`exit code: ${String(r.exitCode)}`);
    const cpu = r.cpu as { userMs?: unknown; systemMs?: unknown } | undefined;
    if (typeof cpu?.userMs === "number" && typeof cpu.systemMs === "number") lines.push(`cpu:       ${(cpu.userMs / 1000).toFixed(2)} s user, ${(cpu.systemMs / 1000).toFixed(2)} s system (all its processes)`);
    if (typeof r.runAs === "string") lines.push(`ran as:    ${r.runAs} (TASK_RUN_AS_USER)`);
    if (typeof r.text === "string") lines.push(`answer:    ${truncate(r.text, 500)}`);
    if (typeof r.totalCostUsd === "number") lines.push(`cost:      $${r.totalCostUsd.toFixed(4)}${typeof r.conversationCostUsd === "number" ? ` (the whole conversation: $${r.conversationCostUsd.toFixed(4)})` : ""}`);
    if (r.conversationKept === true) lines.push(`follow up: ph-tasks follow-up ${task.id} "…" (its conversation is kept)`);
  }
  // What the run had (agent's and task's together), else what the task asks for.
  const limits = parseWith(RunLimitsSchema, (result as { limits?: unknown } | undefined)?.limits ?? task.limits);
  if (limits.ok && hasLimits(limits.value)) lines.push(`limits:    ${limitsLine(limits.value)}`);
  return lines.join("\n");
}
