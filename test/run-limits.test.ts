/**
 * Resource limits of a run (TASK_LIMIT_* and a task's own `limits`): real processes under real
 * rlimits — what /proc says each process has, a CPU-bound program stopped, a file cut at its limit,
 * an allocation refused — the lower of the agent's and the task's applied, a task asking for more
 * refused at the door (API and document), with a cgroup per run as well, and `ph-tasks show`.
 */
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, getTaskDocumentState } from "../src/reactor/documents.js";
import { CliExecutor, type CliExecutorOptions } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import type { RunLimits } from "../src/tasks/executors/run-limits.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import { removeTestCgroupRoot, runCgroupsLeft, testCgroupRoot } from "./support/cgroup.js";
import { waitFor } from "./support/process.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-limits-")));
const node = process.execPath;
const AGENT_LIMITS: RunLimits = { cpuSeconds: 30, memoryMb: 512, fileSizeMb: 100, openFiles: 256 };

function executor(overrides: Partial<CliExecutorOptions> = {}) {
  return new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024, limits: AGENT_LIMITS, ...overrides });
}

async function run(fields: Record<string, unknown>, exec = executor()) {
  const registry = new ExecutorRegistry().register(exec);
  const request = parseTaskRequest({ type: "cli", title: "t", workingDirectory: root, ...fields }, registry);
  if (!request.ok) throw new Error(JSON.stringify(request.errors));
  const task = newTask(request.value, exec, { maxAttempts: 1, timeoutMs: 30_000 });
  const outcome = await executeAttempt(exec, task, { timeoutMs: task.timeoutMs, attempt: 1, logger: silentLogger() });
  return { outcome, result: (outcome.result ?? {}) as Record<string, unknown>, error: outcome.status === "completed" ? undefined : outcome.error };
}

/** "Max cpu time  10  12  seconds" → { "cpu time": ["10", "12"] } from /proc/<pid>/limits text. */
function parseLimits(text: string): Record<string, [string, string]> {
  const limits: Record<string, [string, string]> = {};
  for (const line of text.split("\n")) {
    const match = /^Max (.+?)\s{2,}(\S+)\s+(\S+)/.exec(line);
    if (match?.[1] && match[2] && match[3]) limits[match[1]] = [match[2], match[3]];
  }
  return limits;
}

describe("resource limits of a run (CLI executor, real processes)", () => {
  afterAll(() => removeTestCgroupRoot());

  it("every process of the run has them — the task's where lower, the agent's otherwise — and the result says which", async () => {
    // The limits of a grandchild (cat under sh), as the kernel keeps them.
    const { outcome, result } = await run({ command: "/bin/sh", args: ["-c", "cat /proc/self/limits"], limits: { cpuSeconds: 10, openFiles: 64 } });
    expect(outcome.status).toBe("completed");
    const limits = parseLimits(result.stdout as string);
    expect(limits["cpu time"]).toEqual(["10", "12"]); // SIGXCPU at 10 s, SIGKILL at 12
    expect(limits["data size"]).toEqual([String(512 * 1024 * 1024), String(512 * 1024 * 1024)]);
    expect(limits["file size"]).toEqual([String(100 * 1024 * 1024), String(100 * 1024 * 1024)]);
    expect(limits["open files"]).toEqual(["64", "64"]);
    expect(result.limits).toEqual({ cpuSeconds: 10, memoryMb: 512, fileSizeMb: 100, openFiles: 64 });

    // Without any limit the run is as before: no limits in its result, the agent's own in /proc.
    const free = await run({ command: "/bin/sh", args: ["-c", "cat /proc/self/limits"] }, executor({ limits: {} }));
    expect(free.result.limits).toBeUndefined();
    expect(parseLimits(free.result.stdout as string)["cpu time"]).toEqual(parseLimits(await readOwnLimits())["cpu time"]);
  });

  it("a CPU-bound program is stopped at its CPU time limit: cpu_limit, fatal, also when a shell reports it as exit 152", async () => {
    const spin = await run({ command: node, args: ["-e", "for(;;){}"], limits: { cpuSeconds: 1 } });
    expect(spin.error).toEqual({ kind: "fatal", code: "cpu_limit", message: `'${node}' reached its CPU time limit of 1 s (limits.cpuSeconds, TASK_LIMIT_CPU_SECONDS) and was stopped by SIGXCPU` });
    expect(spin.result).toMatchObject({ signal: "SIGXCPU", exitCode: null, limits: { cpuSeconds: 1 } });
    expect(spin.result.durationMs).toBeLessThan(10_000);

    const underShell = await run({ command: "/bin/sh", args: ["-c", `"${node}" -e "for(;;){}"; exit $?`], limits: { cpuSeconds: 1 } });
    expect(underShell.error).toMatchObject({ kind: "fatal", code: "cpu_limit" });
    expect(underShell.error?.message).toContain("exited with 152 (128 + SIGXCPU: a process of the run was stopped by it)");
  });

  it("a program that ignores SIGXCPU is killed two seconds of CPU later", async () => {
    const stubborn = await run({ command: node, args: ["-e", "process.on('SIGXCPU',()=>{});for(;;){}"], limits: { cpuSeconds: 1 } });
    expect(stubborn.result.signal).toBe("SIGKILL");
    expect(stubborn.error?.message).toContain("was killed by SIGKILL (under limits: CPU time 1 s");
  });

  it("a file is cut at the file size limit and the writer stopped: file_size_limit", async () => {
    const target = path.join(root, "big.bin");
    const { error, result } = await run({ command: "dd", args: ["if=/dev/zero", `of=${target}`, "bs=1M", "count=5"], limits: { fileSizeMb: 1 } });
    expect(error).toEqual({ kind: "fatal", code: "file_size_limit", message: "'dd' wrote past its file size limit of 1 MB (limits.fileSizeMb, TASK_LIMIT_FILE_SIZE_MB) and was stopped by SIGXFSZ" });
    expect(result.signal).toBe("SIGXFSZ");
    expect(statSync(target).size).toBe(1024 * 1024);
  });

  it("memory beyond the limit is refused to the program (it fails as it sees fit; the error says the limit was in force); open files likewise", async () => {
    const allocate = ["-e", "const a=[];for(let i=0;i<40;i++)a.push(Buffer.alloc(1e7,1));console.log('allocated',a.length*10,'MB')"];
    const limited = await run({ command: node, args: allocate, limits: { memoryMb: 128 } });
    expect(limited.error?.code).toBe("exit_code");
    expect(limited.error?.message).toContain("(under limits: CPU time 30 s, memory 128 MB, file size 100 MB, open files 256)");
    expect(limited.result.stdout).toBe("");
    // The same program within the agent's 512 MB.
    const within = await run({ command: node, args: allocate });
    expect(within.result.stdout).toBe("allocated 400 MB\n");

    const open = ["-e", "const fs=require('fs');for(let i=0;i<100;i++)fs.openSync('/dev/null');console.log('opened 100')"];
    expect((await run({ command: node, args: open, limits: { openFiles: 64 } })).error?.message).toContain("open files 64)");
    expect((await run({ command: node, args: open })).result.stdout).toBe("opened 100\n");
  });

  it("the task's program and arguments reach it unchanged through prlimit; a missing program is still command_not_found", async () => {
    const args = ["--cpu=1", "--", "$(touch pwned)", "a b", "-v"];
    const { result } = await run({ command: "printf", args: ["%s\\n", ...args], limits: { cpuSeconds: 5 } });
    expect(result.stdout).toBe(args.map((a) => `${a}\n`).join(""));
    expect(existsSync(path.join(root, "pwned"))).toBe(false);
    const missing = await run({ command: "no-such-program-xyz", limits: { cpuSeconds: 5 } });
    expect(missing.error).toMatchObject({ kind: "fatal", code: "command_not_found" });
  });

  it("a task asking for more than the agent allows is refused at admission, naming the field and the variable; bad values are request errors", async () => {
    const exec = executor();
    const registry = new ExecutorRegistry().register(exec);
    const request = parseTaskRequest({ type: "cli", title: "t", command: "true", limits: { cpuSeconds: 60, memoryMb: 256, openFiles: 4096 } }, registry);
    if (!request.ok) throw new Error("the request should parse");
    const task = newTask(request.value, exec, { maxAttempts: 1, timeoutMs: 1000 });
    expect(await exec.admit(task as never)).toEqual([
      { field: "limits.cpuSeconds", value: "60", message: "must be at most 30, this agent's TASK_LIMIT_CPU_SECONDS" },
      { field: "limits.openFiles", value: "4096", message: "must be at most 256, this agent's TASK_LIMIT_OPEN_FILES" },
    ]);
    const bad = parseTaskRequest({ type: "cli", title: "t", command: "true", limits: { memoryMb: 8, cpuSeconds: 1.5, pids: 10 } }, registry);
    expect(bad.ok ? [] : bad.errors).toEqual([
      { field: "limits.cpuSeconds", value: "1.5", message: "Invalid input: expected int, received number" },
      { field: "limits.memoryMb", value: "8", message: "must be at least 64 (below it a program may not even start)" },
      { field: "limits", value: '{"memoryMb":8,"cpuSeconds":1.5,"pids":10}', message: 'has no limit "pids"; limits: cpuSeconds, memoryMb, fileSizeMb, openFiles, processes, totalMemoryMb' },
    ]);
  });

  it("where prlimit is not on the agent's PATH, a task's limits are refused at admission and a run is not started unlimited", async () => {
    const exec = executor();
    const saved = process.env.PATH;
    process.env.PATH = "/nonexistent";
    try {
      const registry = new ExecutorRegistry().register(exec);
      const request = parseTaskRequest({ type: "cli", title: "t", command: "/bin/true", limits: { cpuSeconds: 5 } }, registry);
      if (!request.ok) throw new Error("the request should parse");
      const task = newTask(request.value, exec, { maxAttempts: 1, timeoutMs: 1000 });
      expect(await exec.admit(task as never)).toEqual([{ field: "limits", value: "CPU time 5 s", message: "cannot be applied: prlimit (util-linux), which sets a run's limits, is not on the agent's PATH" }]);
      const { error } = await run({ command: "/bin/true" });
      expect(error).toMatchObject({ kind: "fatal", code: "limits_unavailable" });
      expect(error?.message).toBe("'/bin/true' was not started: resource limits cannot be applied: prlimit (util-linux), which sets a run's limits, is not on the agent's PATH");
    } finally {
      process.env.PATH = saved;
    }
  });

  it.skipIf(!testCgroupRoot)("with a cgroup per run as well: the program in its cgroup and under its limits; the cgroup removed", async () => {
    const exec = executor({ cgroupRoot: testCgroupRoot ?? "" });
    const { outcome, result } = await run({ command: "/bin/sh", args: ["-c", "cat /proc/self/cgroup; cat /proc/self/limits"], limits: { cpuSeconds: 7 } }, exec);
    expect(outcome.status).toBe("completed");
    expect(result.stdout).toMatch(new RegExp(`^0::.*/${path.basename(testCgroupRoot ?? "")}/ph-run-[0-9a-f]+$`, "m"));
    expect(parseLimits(result.stdout as string)["cpu time"]).toEqual(["7", "9"]);
    expect(runCgroupsLeft()).toEqual([]);
    const spin = await run({ command: node, args: ["-e", "for(;;){}"], limits: { cpuSeconds: 1 } }, exec);
    expect(spin.error?.code).toBe("cpu_limit");
    // RLIMIT_CPU counts user and system time together (node's start-up spends some of the second in
    // the kernel: 893 ms user was seen once), so their sum is what reached the limit — give or take
    // how the two clocks count: the kernel checks the limit on its own process times, the cgroup's
    // cpu.stat splits its precise total into user and system by ticks (896 ms seen once, session 26).
    const cpu = spin.result.cpu as { userMs: number; systemMs: number };
    expect(cpu.userMs + cpu.systemMs).toBeGreaterThanOrEqual(850);
  });
});

async function readOwnLimits(): Promise<string> {
  return await new Promise((resolve) => execFile("/bin/cat", ["/proc/self/limits"], (_error, stdout) => resolve(stdout)));
}

describe("resource limits on a real agent: TASK_LIMIT_*, the API, a document, ph-tasks show", () => {
  let agent: Agent;
  let dataDir: string;
  const post = async (body: unknown) => {
    const response = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as { task?: { id: string }; errors?: { field: string; message: string; value?: string }[] } };
  };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), "ph-limits-agent-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: root, TASK_LIMIT_CPU_SECONDS: "20", TASK_LIMIT_MEMORY_MB: "512" };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("refuses a task asking for more than TASK_LIMIT_*, and a Claude task under a memory limit claude cannot start with — naming the field; nothing stored", async () => {
    const more = await post({ type: "cli", title: "x", command: "true", limits: { cpuSeconds: 3600 } });
    expect(more.status).toBe(400);
    expect(more.body.errors).toEqual([{ field: "limits.cpuSeconds", value: "3600", message: "must be at most 20, this agent's TASK_LIMIT_CPU_SECONDS" }]);
    const claude = await post({ type: "claude-code", title: "x", prompt: "hi" });
    expect(claude.status).toBe(400);
    expect(claude.body.errors).toEqual([{ field: "limits.memoryMb", value: "512", message: "is below the 1024 MB a claude run needs (this agent's TASK_LIMIT_MEMORY_MB): the claude binary alone maps about 560 MB before it starts" }]);
    const agentTask = await post({ type: "claude-agent", title: "x", prompt: "hi", limits: { memoryMb: 256 } });
    expect(agentTask.body.errors).toEqual([{ field: "limits.memoryMb", value: "256", message: "is below the 1024 MB a claude run needs: the claude binary alone maps about 560 MB before it starts" }]);
    expect(((await (await fetch(`${agent.url}/api/tasks`)).json()) as { total: number }).total).toBe(0);
  });

  const phTasks = (args: string[]) =>
    new Promise<{ status: number; stdout: string; stderr: string }>((resolve) =>
      execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), ...args], { env: { ...process.env, PH_TASKS_URL: agent.url } }, (error, stdout, stderr) => resolve({ status: error ? Number(error.code ?? -1) : 0, stdout, stderr })),
    );

  it("a CPU-bound task submitted with ph-tasks submit --cpu-seconds fails with cpu_limit under the agent's limits and its own; ph-tasks show names the limits", async () => {
    const badFlag = await phTasks(["submit", "cli", "--memory-mb", "lots", "--", "true"]);
    expect(badFlag.status).not.toBe(0);
    expect(badFlag.stderr).toContain('--memory-mb: expected a whole number, got "lots"');
    const tooMuch = await phTasks(["submit", "cli", "--cpu-seconds", "999", "--", "true"]);
    expect(tooMuch.status).not.toBe(0);
    expect(tooMuch.stderr).toContain("limits.cpuSeconds: must be at most 20, this agent's TASK_LIMIT_CPU_SECONDS");
    const submitted = await phTasks(["submit", "cli", "--cpu-seconds", "1", "--", node, "-e", "for(;;){}"]);
    expect(submitted.status).toBe(0);
    const id = submitted.stdout.trim();
    const task = await waitFor(async () => {
      const t = ((await (await fetch(`${agent.url}/api/tasks/${id}`)).json()) as { task: { status: string; error?: { code: string }; result?: { limits?: unknown } } }).task;
      return t.status === "failed" ? t : undefined;
    }, 30_000, "the task to fail");
    expect(task.error?.code).toBe("cpu_limit");
    expect(task.result?.limits).toEqual({ cpuSeconds: 1, memoryMb: 512 });
    const show = (await phTasks(["show", id])).stdout;
    expect(show).toContain("limits:    CPU time 1 s, memory 512 MB (each process)");
    expect(show).toContain("error:     cpu_limit: ");
  });

  it("a document asking for more than the agent allows has its request rejected, saying which limit and why", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Doc limits", taskType: "cli", params: { command: "true", limits: { memoryMb: 4096 } } }, requestRun: true });
    const state = await waitFor(async () => {
      const s = await getTaskDocumentState(agent.reactor, id);
      return s.status === "failed" ? s : undefined;
    }, 20_000, "the request to be refused");
    expect(state.error?.code).toBe("invalid_task");
    expect(state.error?.message).toBe("limits.memoryMb: must be at most 512, this agent's TASK_LIMIT_MEMORY_MB (got 4096)");
  });
});
