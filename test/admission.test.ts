/**
 * Admission: a task this agent's policy would never run — a working directory outside the allowed
 * roots (also through a symlink), a command the allow-list refuses — is refused when it is asked
 * for, over the API (400 naming the field, the value and what is allowed, nothing stored) and from
 * a document (its request rejected, saying why); a directory an earlier task makes is accepted.
 * A real agent (reactor, PGlite store, HTTP) and real processes.
 */
import { mkdirSync, mkdtempSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, getTaskDocumentState, listTaskDocuments } from "../src/reactor/documents.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { ValidationError } from "../src/validation.js";
import { testManager } from "./support/manager.js";
import { waitFor } from "./support/process.js";
import { BACKENDS } from "./support/stores.js";

interface Answer {
  task?: { id: string; status: string; result?: { stdout?: string } };
  errors?: { field: string; message: string; value?: string }[];
}

describe("admission: the policy at the door", () => {
  let agent: Agent;
  let root: string;
  const post = async (body: unknown) => {
    const response = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(body) });
    return { status: response.status, body: (await response.json()) as Answer };
  };
  const driveOperations = async () => (await agent.reactor.getDrive(agent.localDriveId)).operations.global?.length ?? 0;
  const stored = async () => ((await (await fetch(`${agent.url}/api/tasks`)).json()) as { total: number }).total;

  beforeAll(async () => {
    root = mkdtempSync(path.join(tmpdir(), "ph-admit-root-"));
    mkdirSync(path.join(root, "inside"));
    symlinkSync("/etc", path.join(root, "escape"));
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-admit-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: root, TASK_COMMAND_ALLOWLIST: "pwd,mkdir,/bin/ls" };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("refuses a working directory outside the roots, also through a symlink or '..', and a command not allowed — naming each; nothing is stored", async () => {
    const driveOperationsBefore = await driveOperations();
    const outside = await post({ type: "cli", title: "x", command: "pwd", workingDirectory: "../../../../etc" });
    expect(outside.status).toBe(400);
    expect(outside.body.errors).toEqual([{ field: "workingDirectory", value: '"../../../../etc"', message: `is outside the allowed roots (${root})` }]);
    for (const workingDirectory of ["escape", "escape/ssl", "/etc", "inside/../../"]) {
      const refused = await post({ type: "cli", title: "x", command: "pwd", workingDirectory });
      expect(refused.status).toBe(400);
      expect(refused.body.errors?.map((e) => e.field)).toEqual(["workingDirectory"]);
    }
    const both = await post({ type: "cli", title: "x", command: "rm", args: ["-rf", "."], workingDirectory: "/" });
    expect(both.status).toBe(400);
    expect(both.body.errors).toEqual([
      { field: "command", value: '"rm"', message: "is not allowed; allowed: pwd, mkdir, /bin/ls" },
      { field: "workingDirectory", value: '"/"', message: `is outside the allowed roots (${root})` },
    ]);
    expect((await post({ type: "cli", title: "x", command: "./pwd" })).body.errors).toEqual([{ field: "command", value: '"./pwd"', message: "is not allowed; allowed: pwd, mkdir, /bin/ls" }]);
    // A Claude Code task: a permission mode only the agent's owner may choose, a flag that would
    // reconfigure claude, a project outside the roots.
    const claude = await post({ type: "claude-code", title: "x", prompt: "hi", permissionMode: "bypassPermissions", additionalFlags: ["--mcp-config", "evil.json", "--add-dir", "/etc"], projectPath: "escape" });
    expect(claude.status).toBe(400);
    expect(claude.body.errors?.map((e) => [e.field, e.message])).toEqual([
      ["permissionMode", "is not allowed for tasks; allowed: default, acceptEdits, plan, dontAsk"],
      ["additionalFlags", expect.stringContaining("'--mcp-config' is not allowed; allowed flags:")],
      ["projectPath", `is outside the allowed roots (${root})`],
    ]);
    const addDir = await post({ type: "claude-code", title: "x", prompt: "hi", additionalFlags: ["--add-dir", "/etc"] });
    expect(addDir.body.errors).toEqual([{ field: "additionalFlags", value: '"/etc"', message: `--add-dir is outside the allowed roots (${root})` }]);
    // Several at once: all or nothing, the refused one named by its place.
    const batch = await post([{ type: "cli", title: "fine", command: "pwd" }, { type: "cli", title: "not", command: "cat" }]);
    expect(batch.status).toBe(400);
    expect(await stored()).toBe(0);
    // Refused before a task document was made: the drive (which syncs) never had one added and removed.
    expect(await listTaskDocuments(agent.reactor)).toEqual([]);
    expect(await driveOperations()).toBe(driveOperationsBefore);

    const inside = await post({ type: "cli", title: "inside", command: "pwd", workingDirectory: "inside" });
    expect(inside.status).toBe(201);
  });

  it("with a command allow-list, refuses environment variables (a variable can make an allowed program run another) and arguments an entry does not allow — naming each; nothing is stored", async () => {
    const before = await stored();
    const env = await post({ type: "cli", title: "x", command: "pwd", environment: { GIT_CONFIG_COUNT: "1", BASH_ENV: "/tmp/x" } });
    expect(env.status).toBe(400);
    const message = "may not be set by a task: TASK_COMMAND_ALLOWLIST is set, so tasks set only the variables TASK_ENV_ALLOWLIST lists, and it lists none (a variable can make an allowed program run another: GIT_CONFIG_*, BASH_ENV, PYTHONPATH, GCONV_PATH)";
    expect(env.body.errors).toEqual([
      { field: "environment", value: '"GIT_CONFIG_COUNT"', message },
      { field: "environment", value: '"BASH_ENV"', message },
    ]);
    // Claude with Bash pre-approved would run any command: only the file tools under a command allow-list.
    const bash = await post({ type: "claude-code", title: "x", prompt: "hi", allowedTools: ["Read", "Bash"] });
    expect(bash.status).toBe(400);
    expect(bash.body.errors).toEqual([{ field: "allowedTools", value: '["Read","Bash"]', message: expect.stringContaining("'Bash' may not be pre-approved; allowed: Read, Edit,") }]);
    // "mkdir" is listed bare, "/bin/ls" too: any arguments; only the entries' own programs.
    expect((await post({ type: "cli", title: "x", command: "/bin/ls", args: ["-la"] })).status).toBe(201);
    expect(await stored()).toBe(before + 1);
  });

  it("accepts a directory that does not exist yet: an earlier task makes it, then the task runs in it", async () => {
    const make = await post({ type: "cli", title: "make it", command: "mkdir", args: ["made-later"] });
    expect(make.status).toBe(201);
    const use = await post({ type: "cli", title: "use it", command: "pwd", workingDirectory: "made-later", dependsOn: [make.body.task?.id] });
    expect(use.status).toBe(201);
    const done = await waitFor(async () => {
      const task = ((await (await fetch(`${agent.url}/api/tasks/${use.body.task?.id ?? ""}`)).json()) as Answer).task;
      return task?.status === "completed" || task?.status === "failed" ? task : undefined;
    }, 20_000, "the task in the new directory to end");
    expect(done.status).toBe("completed");
    expect(done.result?.stdout?.trim()).toBe(path.join(root, "made-later"));
  });

  it("a document asking for a run outside the roots has its request rejected, saying which field and why", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Doc escape", taskType: "cli", params: { command: "pwd", workingDirectory: "escape" } }, requestRun: true });
    const state = await waitFor(async () => {
      const s = await getTaskDocumentState(agent.reactor, id);
      return s.status === "failed" ? s : undefined;
    }, 20_000, "the request to be refused");
    expect(state.error?.code).toBe("invalid_task");
    expect(state.error?.message).toBe(`workingDirectory: is outside the allowed roots (${root}) (got "escape")`);
  });
});

describe("admission and a repeated request", () => {
  it("a request whose idempotency key made a task already gets that task, though the policy now refuses it", async () => {
    const { store, cleanup } = await BACKENDS[0]!.open(); // PGlite
    const root = mkdtempSync(path.join(tmpdir(), "ph-admit-key-"));
    const request = { type: "cli", title: "made under the old policy", command: "pwd", workingDirectory: root, idempotencyKey: "once" };
    try {
      const before = testManager(store, {}, new ExecutorRegistry().register(new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 1024 })));
      const first = await before.enqueueTask(request);
      expect(first.created).toBe(true);
      // The roots changed: the same request again returns the task it made; a new one is refused.
      const after = testManager(store, {}, new ExecutorRegistry().register(new CliExecutor({ allowedRoots: [mkdtempSync(path.join(tmpdir(), "ph-admit-other-"))], killGraceMs: 300, captureBytes: 1024 })));
      expect(await after.enqueueTask(request)).toMatchObject({ created: false, task: { id: first.task.id } });
      const refused = (await after.enqueueTask({ ...request, idempotencyKey: "twice" }).catch((e: unknown) => e)) as ValidationError;
      expect(refused).toBeInstanceOf(ValidationError);
      expect(refused.errors.map((e) => e.field)).toEqual(["workingDirectory"]);
    } finally {
      await cleanup();
    }
  });
});

