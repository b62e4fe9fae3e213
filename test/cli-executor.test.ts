import { execFileSync } from "node:child_process";
import { existsSync, mkdtempSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { silentLogger } from "../src/logger.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { TaskAbortReason } from "../src/tasks/executors/executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import type { OutputChunk } from "../src/tasks/types.js";
import { processAlive, readPid, waitFor } from "./support/process.js";

const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-cli-")));
const executor = new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024, agentEnv: { ...process.env, ANTHROPIC_API_KEY: "sk-agent-secret-value", API_TOKEN: "agent-token-1234567890" } });
const registry = new ExecutorRegistry().register(executor);

async function run(fields: Record<string, unknown>, options: { timeoutMs?: number; signal?: AbortSignal } = {}) {
  const request = parseTaskRequest({ type: "cli", title: "t", ...fields }, registry);
  if (!request.ok) throw new Error(JSON.stringify(request.errors));
  const task = newTask(request.value, executor, { maxAttempts: 1, timeoutMs: options.timeoutMs ?? 20_000 });
  const chunks: OutputChunk[] = [];
  const outcome = await executeAttempt(executor, task, {
    timeoutMs: task.timeoutMs,
    attempt: 1,
    logger: silentLogger(),
    onOutput: (c) => chunks.push(c),
    ...(options.signal ? { signal: options.signal } : {}),
  });
  return { outcome, chunks, result: (outcome.result ?? {}) as Record<string, unknown> };
}

const node = process.execPath;

describe("CLI executor", () => {
  it("streams stdout and stderr in the order they were written", async () => {
    const script = `const w=(s,t)=>new Promise(r=>{s.write(t,()=>setTimeout(r,40))});(async()=>{await w(process.stdout,"one\\n");await w(process.stderr,"two\\n");await w(process.stdout,"three\\n");await w(process.stderr,"four\\n")})()`;
    const { outcome, chunks, result } = await run({ command: node, args: ["-e", script] });
    expect(outcome.status).toBe("completed");
    expect(chunks.map((c) => `${c.stream}:${c.data.trim()}`)).toEqual(["stdout:one", "stderr:two", "stdout:three", "stderr:four"]);
    expect(result.stdout).toBe("one\nthree\n");
    expect(result.stderr).toBe("two\nfour\n");
    expect(result.exitCode).toBe(0);
  });

  it("keeps a capped copy of a huge output: head, tail, a marker and the byte count", async () => {
    // 5 MiB of numbered lines; the cap is 64 KiB.
    const script = `let s="";for(let i=0;i<200000;i++)s+=String(i).padStart(25,"0")+"\\n";process.stdout.write("FIRST\\n"+s+"LAST\\n")`;
    const { outcome, result } = await run({ command: node, args: ["-e", script] });
    expect(outcome.status).toBe("completed");
    expect(result.stdoutBytes).toBe(6 + 200000 * 26 + 5);
    expect(result.stdoutTruncated).toBe(true);
    const text = result.stdout as string;
    expect(text.startsWith("FIRST\n")).toBe(true);
    expect(text.endsWith("LAST\n")).toBe(true);
    expect(text).toMatch(/\[… \d+ bytes of output omitted …\]/);
    expect(Buffer.byteLength(text)).toBeLessThan(64 * 1024 + 200);
  });

  it("writes the stdin input and then closes stdin", async () => {
    const { outcome, result } = await run({ command: "cat", input: "line 1\nline 2 ünïcödé\n" });
    expect(outcome.status).toBe("completed");
    expect(result.stdout).toBe("line 1\nline 2 ünïcödé\n");
  });

  it("does not crash on binary, non-UTF-8 output", async () => {
    const { outcome, result } = await run({ command: "head", args: ["-c", "20000", "/dev/urandom"] });
    expect(outcome.status).toBe("completed");
    expect(result.stdoutBytes).toBe(20000);
    expect(typeof result.stdout).toBe("string");
  });

  it("on timeout kills the whole process group, including a grandchild that ignores SIGTERM", async () => {
    // The shell and its background sleep both ignore SIGTERM (an ignored signal survives exec).
    const pidFile = path.join(root, "grandchild.pid");
    const promise = run({ command: "sh", args: ["-c", `trap '' TERM; sleep 300 & echo $! > ${pidFile}; wait`] }, { timeoutMs: 2000 });
    const grandchild = await waitFor(() => readPid(pidFile), 5000, "grandchild pid");
    expect(processAlive(grandchild)).toBe(true);
    const { outcome, result } = await promise;
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error.code).toBe("timeout");
    expect(outcome.error.kind).toBe("retryable");
    expect(result.timedOut).toBe(true);
    expect(result.signal).toBe("SIGKILL");
    expect(processAlive(grandchild)).toBe(false);
  });

  it("on cancel kills the process group and reports cancelled", async () => {
    const pidFile = path.join(root, "cancel.pid");
    const controller = new AbortController();
    const promise = run({ command: "sh", args: ["-c", `trap '' TERM; sleep 300 & echo $! > ${pidFile}; wait`] }, { signal: controller.signal });
    const grandchild = await waitFor(() => readPid(pidFile), 5000, "grandchild pid");
    controller.abort(new TaskAbortReason("cancel"));
    const { outcome, result } = await promise;
    expect(outcome.status).toBe("cancelled");
    expect(result.cancelled).toBe(true);
    expect(processAlive(grandchild)).toBe(false);
  });

  it("leaves no background process behind when the command exits normally", async () => {
    const { outcome, result } = await run({ command: "sh", args: ["-c", "sleep 300 >/dev/null 2>&1 & echo $!"] });
    expect(outcome.status).toBe("completed");
    const pid = Number((result.stdout as string).trim());
    expect(pid).toBeGreaterThan(0);
    expect(processAlive(pid)).toBe(false);
  });

  it("leaves no process behind that moved to a session of its own (setsid) when the command exits", async () => {
    // setsid: the sleep leaves the task's process group; once sh exits it belongs to init. The
    // second one also keeps the task's stdout open (and has left the group before sh exits), so
    // the output would never end without it going.
    for (const script of ["setsid sleep 300 >/dev/null 2>&1 </dev/null & echo $!", "setsid sleep 300 & sleep 0.5; echo $!"]) {
      const { outcome, result } = await run({ command: "sh", args: ["-c", script] });
      expect(outcome.status).toBe("completed");
      const pid = Number((result.stdout as string).trim());
      expect(pid).toBeGreaterThan(0);
      expect(processAlive(pid)).toBe(false);
    }
  });

  it("on cancel ends a process in a session of its own that holds the output open and ignores SIGTERM", async () => {
    const pidFile = path.join(root, "stray.pid");
    const controller = new AbortController();
    // The stray keeps stdout open: without it the run would wait for it to exit.
    const promise = run({ command: "sh", args: ["-c", `setsid sh -c 'trap "" TERM; echo $$ > ${pidFile}; while :; do sleep 1; done' & wait`] }, { signal: controller.signal });
    const stray = await waitFor(() => readPid(pidFile), 5000, "stray pid");
    expect(processAlive(stray)).toBe(true);
    controller.abort(new TaskAbortReason("cancel"));
    const { outcome } = await promise;
    expect(outcome.status).toBe("cancelled");
    expect(processAlive(stray)).toBe(false);
  });

  it("on timeout ends a descendant that cleared its environment and left the group, while its parent lives", async () => {
    const pidFile = path.join(root, "bare.pid");
    // The time limit leaves room for the descendant to start on a loaded machine: ended before it
    // exists, the shell would leave it orphaned with no tag — the one case this cannot catch.
    const promise = run({ command: "sh", args: ["-c", `env -i /usr/bin/setsid /bin/sh -c 'echo $$ > ${pidFile}; exec sleep 300' >/dev/null 2>&1 </dev/null & wait`] }, { timeoutMs: 6000 });
    const bare = await waitFor(() => readPid(pidFile), 5000, "pid of the bare process");
    expect(processAlive(bare)).toBe(true);
    const { outcome } = await promise;
    expect(outcome.status).toBe("failed");
    expect(processAlive(bare)).toBe(false);
  });

  it("a missing command is a fatal error that names it", async () => {
    const { outcome } = await run({ command: "definitely-not-a-command-xyz" });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ kind: "fatal", code: "command_not_found" });
    expect(outcome.error.message).toContain("definitely-not-a-command-xyz");
  });

  it("a file that cannot be executed is a fatal permission error", async () => {
    const file = path.join(root, "not-executable.sh");
    writeFileSync(file, "echo hi\n", { mode: 0o644 });
    const { outcome } = await run({ command: file });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ kind: "fatal", code: "permission_denied" });
  });

  it("keeps a non-zero exit as the result of a failed run, retryable only for listed codes", async () => {
    const { outcome, result } = await run({ command: "sh", args: ["-c", "echo partial; echo oops >&2; exit 3"] });
    expect(outcome.status).toBe("failed");
    if (outcome.status !== "failed") return;
    expect(outcome.error).toMatchObject({ kind: "fatal", code: "exit_code" });
    expect(result).toMatchObject({ exitCode: 3, stdout: "partial\n", stderr: "oops\n", timedOut: false, cancelled: false });
    expect(typeof result.durationMs).toBe("number");
    expect(typeof result.pid).toBe("number");
    const again = await run({ command: "sh", args: ["-c", "exit 75"], retryExitCodes: [75] });
    expect(again.outcome.status === "failed" && again.outcome.error.kind).toBe("retryable");
  });

  it("gives the task a safe environment: the agent's secrets stay out, the task's variables go in", async () => {
    const { result } = await run({ command: "env", environment: { GREETING: "hi" } });
    const env = result.stdout as string;
    expect(env).toContain("GREETING=hi");
    expect(env).toContain("PATH=");
    expect(env).not.toContain("ANTHROPIC_API_KEY");
    expect(env).not.toContain("sk-agent-secret-value");
    expect(env).not.toContain("API_TOKEN");
  });

  it("runs in the working directory and refuses one outside the allowed roots, even through a symlink", async () => {
    const inside = await run({ command: "pwd", workingDirectory: root });
    expect((inside.result.stdout as string).trim()).toBe(root);
    const outside = await run({ command: "pwd", workingDirectory: "/etc" });
    expect(outside.outcome.status === "failed" && outside.outcome.error.code).toBe("working_directory_not_allowed");
    symlinkSync("/etc", path.join(root, "escape"));
    const link = await run({ command: "pwd", workingDirectory: "escape" });
    expect(link.outcome.status === "failed" && link.outcome.error.code).toBe("working_directory_not_allowed");
    const missing = await run({ command: "pwd", workingDirectory: "nope" });
    expect(missing.outcome.status === "failed" && missing.outcome.error.message).toContain("nope");
  });

  it("refuses a command missing from the allow-list before running it", async () => {
    const strict = new CliExecutor({ allowedRoots: [root], killGraceMs: 100, captureBytes: 1024, commandAllowlist: ["echo"] });
    const ok = await executeAttempt(strict, newTask({ type: "cli", title: "x", instructions: "", command: "echo", args: ["a"], environment: {}, retryExitCodes: [] }, strict, { maxAttempts: 1, timeoutMs: 5000 }), { timeoutMs: 5000, attempt: 1, logger: silentLogger() });
    expect(ok.status).toBe("completed");
    const refused = await executeAttempt(strict, newTask({ type: "cli", title: "x", instructions: "", command: "rm", args: ["-rf", "x"], environment: {}, retryExitCodes: [] }, strict, { maxAttempts: 1, timeoutMs: 5000 }), { timeoutMs: 5000, attempt: 1, logger: silentLogger() });
    expect(refused.status === "failed" && refused.error.code).toBe("command_not_allowed");
  });

  it("runs an allowed name from the agent's PATH, not from a PATH the task sets", async () => {
    // PATH listed in TASK_ENV_ALLOWLIST (with a command allow-list a task sets no variable otherwise).
    const strict = new CliExecutor({ allowedRoots: [root], killGraceMs: 100, captureBytes: 1024, commandAllowlist: ["echo", "./echo"], environmentAllowlist: ["PATH"] });
    // The task brings its own `echo` and points PATH at it.
    const trap = mkdtempSync(path.join(root, "path-trap-"));
    writeFileSync(path.join(trap, "echo"), "#!/bin/sh\necho hijacked\n", { mode: 0o755 });
    const attempt = (command: string) =>
      executeAttempt(strict, newTask({ type: "cli", title: "x", instructions: "", command, args: ["genuine"], environment: { PATH: trap }, workingDirectory: trap, retryExitCodes: [] }, strict, { maxAttempts: 1, timeoutMs: 5000 }), { timeoutMs: 5000, attempt: 1, logger: silentLogger() });
    const outcome = await attempt("echo");
    expect(outcome.status === "completed" ? outcome.result.stdout : outcome).toBe("genuine\n");
    // A relative entry would run whatever the task's working directory holds: refused.
    const relative = await attempt("./echo");
    expect(relative.status === "failed" && relative.error.code).toBe("command_not_allowed");
  });

  describe("an allowed program told by its environment or arguments to run another", () => {
    const attempt = (executor: CliExecutor, command: string, args: string[], environment: Record<string, string> = {}) =>
      executeAttempt(executor, newTask({ type: "cli", title: "x", instructions: "", command, args, environment, workingDirectory: repo, retryExitCodes: [] }, executor, { maxAttempts: 1, timeoutMs: 10_000 }), { timeoutMs: 10_000, attempt: 1, logger: silentLogger() });
    let repo: string;
    let marker: string;
    beforeAll(() => {
      repo = mkdtempSync(path.join(root, "repo-"));
      execFileSync("git", ["init", "-q", repo]);
      marker = path.join(repo, "..", `${path.basename(repo)}-ran`);
    });
    // git runs core.fsmonitor as a shell command on `git status`: set through GIT_CONFIG_* or `-c`.
    const injected = () => ({ GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "core.fsmonitor", GIT_CONFIG_VALUE_0: `touch ${marker}; echo` });

    it("refuses every variable under a command allow-list unless TASK_ENV_ALLOWLIST lists it; the program never runs the other", async () => {
      const strict = new CliExecutor({ allowedRoots: [root], killGraceMs: 100, captureBytes: 4096, commandAllowlist: ["git"] });
      const refused = await attempt(strict, "git", ["status", "--short"], injected());
      expect(refused.status === "failed" && refused.error).toMatchObject({ code: "environment_not_allowed", message: expect.stringContaining('environment variable "GIT_CONFIG_COUNT" may not be set by a task') });
      expect(existsSync(marker)).toBe(false);
      const admitted = await strict.admit({ ...newTask({ type: "cli", title: "x", instructions: "", command: "git", args: ["status"], environment: injected(), retryExitCodes: [] }, strict, { maxAttempts: 1, timeoutMs: 1000 }), type: "cli", command: "git", args: ["status"], environment: injected(), retryExitCodes: [] });
      expect(admitted.map((e) => e.value)).toEqual(['"GIT_CONFIG_COUNT"', '"GIT_CONFIG_KEY_0"', '"GIT_CONFIG_VALUE_0"']);

      const prefixed = new CliExecutor({ allowedRoots: [root], killGraceMs: 100, captureBytes: 4096, commandAllowlist: ["git"], environmentAllowlist: ["MYAPP_*", "TZ"] });
      const fine = await attempt(prefixed, "git", ["status", "--short"], { MYAPP_MODE: "x", TZ: "UTC" });
      expect(fine.status).toBe("completed");
      const other = await attempt(prefixed, "git", ["status"], { GIT_CONFIG_COUNT: "1" });
      expect(other.status === "failed" && other.error.message).toBe('environment variable "GIT_CONFIG_COUNT" may not be set by a task; allowed: MYAPP_*, TZ (TASK_ENV_ALLOWLIST)');

      // Without any allow-list every program may run anyway, and so may any variable: the same task runs the other program.
      const open = new CliExecutor({ allowedRoots: [root], killGraceMs: 100, captureBytes: 4096 });
      expect((await attempt(open, "git", ["status", "--short"], injected())).status).toBe("completed");
      expect(existsSync(marker)).toBe(true);
      rmSync(marker);
    });

    it("an entry with leading arguments ('git status') refuses `git -c … status`; a bare entry lets it run another program", async () => {
      const pinned = new CliExecutor({ allowedRoots: [root], killGraceMs: 100, captureBytes: 4096, commandAllowlist: ["git status", "git log"] });
      expect((await attempt(pinned, "git", ["status", "--short"])).status).toBe("completed");
      const sneaky = await attempt(pinned, "git", ["-c", `core.fsmonitor=touch ${marker}; echo`, "status"]);
      expect(sneaky.status === "failed" && sneaky.error).toMatchObject({ code: "command_not_allowed", message: `command 'git' with arguments ${JSON.stringify(["-c", `core.fsmonitor=touch ${marker}; echo`, "status"])} is not allowed: its arguments must start as in 'git status' or 'git log'` });
      expect(existsSync(marker)).toBe(false);
      expect((await attempt(pinned, "git", [])).status).toBe("failed");

      const bare = new CliExecutor({ allowedRoots: [root], killGraceMs: 100, captureBytes: 4096, commandAllowlist: ["git"] });
      expect((await attempt(bare, "git", ["-c", `core.fsmonitor=touch ${marker}; echo`, "status"])).status).toBe("completed");
      expect(existsSync(marker)).toBe(true); // why the README says to pin a general tool's arguments
      rmSync(marker);
    });
  });
});
