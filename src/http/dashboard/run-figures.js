// What a run used and was allowed, as the task page shows them (the CLI says them the same way:
// src/cli/format.ts, src/tasks/executors/run-limits.ts).

const EACH_PROCESS = [["cpuSeconds", "CPU time", " s"], ["memoryMb", "memory", " MB"], ["fileSizeMb", "file size", " MB"], ["openFiles", "open files", ""]];
const ALL_TOGETHER = [["processes", "processes", ""], ["totalMemoryMb", "memory", " MB"]];

/** "CPU time 10 s, memory 512 MB (each process); processes 50 (all its processes together)", or "" for none. */
export function limitsText(limits) {
  if (!limits || typeof limits !== "object") return "";
  const list = (names) => names.filter(([name]) => typeof limits[name] === "number").map(([name, what, unit]) => `${what} ${limits[name]}${unit}`).join(", ");
  const each = list(EACH_PROCESS);
  const together = list(ALL_TOGETHER);
  return [each ? `${each} (each process)` : "", together ? `${together} (all its processes together)` : ""].filter(Boolean).join("; ");
}

/** "1.20 s user, 0.05 s system", or "" when the run's CPU time is not known (no cgroup per run). */
export function cpuText(cpu) {
  if (!cpu || typeof cpu.userMs !== "number" || typeof cpu.systemMs !== "number") return "";
  return `${(cpu.userMs / 1000).toFixed(2)} s user, ${(cpu.systemMs / 1000).toFixed(2)} s system`;
}

/** How long a task ran ("1.2 s"; still running: so far), "–" before it started or without a task. */
export function runTime(task) {
  if (!task || !task.startedAt) return "–";
  const end = task.finishedAt ? Date.parse(task.finishedAt) : Date.now();
  return `${((end - Date.parse(task.startedAt)) / 1000).toFixed(1)} s`;
}
