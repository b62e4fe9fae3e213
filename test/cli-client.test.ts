import { existsSync, mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { AgentProcess, freshFetch } from "./support/agent-process.js";

// The client commands block this process (spawnSync): every request on a connection of its own.
const fetch = freshFetch;
import { waitFor } from "./support/process.js";

/** The task's status, or undefined while the agent cannot answer (a reused socket it closed). */
async function statusOf(url: string, id: string): Promise<string | undefined> {
  try {
    return ((await (await fetch(`${url}/api/tasks/${id}`)).json()) as { task: { status: string } }).task.status;
  } catch {
    return undefined;
  }
}

describe("ph-tasks serve and the client commands", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ph-serve-"));
  // No API key: the agent must still start, and Claude tasks fail at once saying why.
  let agent = new AgentProcess(dir, { TASK_SHUTDOWN_GRACE_MS: "100", ANTHROPIC_API_KEY: "" });
  afterAll(async () => {
    await agent.stop("SIGKILL");
  });

  it("serves the dashboard and the API; submit then logs --follow shows the output and completed", async () => {
    const url = await agent.url;
    const page = await fetch(`${url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("<html");
    const submitted = await agent.cli(["submit", "cli", "--", "echo", "hi"]);
    expect(submitted.status).toBe(0);
    const id = submitted.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const logs = await agent.cli(["logs", id, "--follow"]);
    expect(logs.stdout).toBe("hi\n");
    expect(logs.stderr).toContain("completed");
    expect(logs.status).toBe(0);
    const shown = await agent.cli(["show", id, "--json"]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ id, status: "completed" });
    const listed = await agent.cli(["list"]);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toMatch(/ID\s+TYPE\s+STATUS/);
  });

  it("a title holding terminal escapes (from whoever wrote the request) is shown with them made visible; --json keeps it exact", async () => {
    // OSC 52 would set the person's clipboard; CSI 2J would clear their screen.
    const title = "build \u001b]52;c;ZXZpbA==\u0007done\u001b[2J\u009b31m";
    const url = await agent.url;
    const created = await fetch(`${url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title, command: "true" }) });
    expect(created.status).toBe(201);
    const { task } = (await created.json()) as { task: { id: string } };
    const shown = await agent.cli(["show", task.id]);
    expect(shown.stdout).toContain("title:     build \u241b]52;c;ZXZpbA==\u2407done\u241b[2J\\x9b31m");
    const listed = await agent.cli(["list"]);
    const controls = [...shown.stdout, ...listed.stdout].filter((c) => (c < " " && c !== "\n" && c !== "\t") || (c >= "\u007f" && c <= "\u009f"));
    expect(controls).toEqual([]);
    expect(JSON.parse((await agent.cli(["show", task.id, "--json"])).stdout)).toMatchObject({ title });
  });

  it("exit codes mean something: failed 1, cancelled 130, not found 4, bad input 2, unreachable 3", async () => {
    const failing = (await agent.cli(["submit", "cli", "--", "sh", "-c", "echo boom >&2; exit 7"])).stdout.trim();
    const failed = await agent.cli(["logs", failing, "--follow"]);
    expect(failed.stderr).toContain("boom");
    expect(failed.stderr).toMatch(/failed exit=7/);
    expect(failed.status).toBe(1);

    const sleeping = (await agent.cli(["submit", "cli", "--json", "--", "sleep", "30"]));
    const sleeper = (JSON.parse(sleeping.stdout) as { id: string; status: string });
    expect(sleeper.status).toBe("pending");
    const url = await agent.url;
    await waitFor(async () => (await statusOf(url, sleeper.id)) === "running" || undefined);
    expect((await agent.cli(["cancel", sleeper.id])).status).toBe(0);
    expect((await agent.cli(["logs", sleeper.id, "--follow"])).status).toBe(130);
    const retried = await agent.cli(["retry", sleeper.id]);
    expect(retried.stdout).toContain("pending");
    await agent.cli(["cancel", sleeper.id]);

    expect((await agent.cli(["show", "no-such-task"])).status).toBe(4);
    const bad = await agent.cli(["submit", "cli", "--priority", "500", "--", "true"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("priority");
    const away = await agent.cli(["list"], { PH_TASKS_URL: "http://127.0.0.1:9" });
    expect(away.status).toBe(3);
    expect(away.stderr).toContain("cannot reach the agent");
  });

  it("without an API key the agent runs, and a Claude task fails at once with a clear error", async () => {
    const id = (await agent.cli(["submit", "claude-code", "--prompt", "say hi"])).stdout.trim();
    const logs = await agent.cli(["logs", id, "--follow"]);
    expect(logs.status).toBe(1);
    expect(logs.stderr).toContain("ANTHROPIC_API_KEY");
    const task = JSON.parse((await agent.cli(["show", id, "--json"])).stdout) as { attempts: number; error: { code: string } };
    expect(task.error.code).toBe("auth");
    expect(task.attempts).toBe(1); // fatal: not retried
  });

  it("on SIGTERM returns a running task to the queue and exits 0; after a restart it completes", async () => {
    const id = (await agent.cli(["submit", "cli", "--", "sh", "-c", "sleep 3; echo survived"])).stdout.trim();
    const url = await agent.url;
    await waitFor(async () => (await statusOf(url, id)) === "running" || undefined);
    expect(await agent.stop("SIGTERM")).toBe(0);
    agent = new AgentProcess(dir, { TASK_SHUTDOWN_GRACE_MS: "100" });
    const logs = await agent.cli(["logs", id, "--follow"]);
    expect(logs.stdout).toContain("survived");
    expect(logs.status).toBe(0);
    const task = JSON.parse((await agent.cli(["show", id, "--json"])).stdout) as { attempts: number };
    expect(task.attempts).toBe(1); // the interrupted attempt did not count
    const log = (await (await fetch(`${await agent.url}/api/tasks/${id}/log`)).json()) as { events: { kind: string; data: string }[] };
    const statuses = log.events.filter((e) => e.kind === "status").map((e) => JSON.parse(e.data) as { status: string; reason?: string });
    expect(statuses).toContainEqual({ status: "pending", reason: "shutdown" });
    expect(statuses.at(-1)?.status).toBe("completed");
  });

  it("a SIGTERM that comes while the agent is still starting stops it gracefully once started: exit 0", async () => {
    const dataDir = path.join(dir, "starting");
    const starting = new AgentProcess(dir, { TASK_DATA_DIR: dataDir, LOG_LEVEL: "info" });
    starting.url.catch(() => undefined); // it may exit before it ever prints one
    // The data directory is made first thing in startAgent; the store and the reactor take a while after.
    await waitFor(() => existsSync(dataDir), 30_000, "the agent to begin starting");
    expect(await starting.stop("SIGTERM")).toBe(0);
    expect(starting.stdout).toMatch(/"signal":"SIGTERM".*"msg":"stopping/);
  });

  it("with API_READ_TOKEN the client reads (list, show, logs) but cannot act: exit 2 naming the token it needs, nothing changed", async () => {
    const FULL = "full-token-0123456789";
    const READ = "read-token-0123456789";
    await agent.stop("SIGKILL"); // (how it stops is the test above's)
    agent = new AgentProcess(dir, { TASK_SHUTDOWN_GRACE_MS: "100", API_TOKEN: FULL, API_READ_TOKEN: READ });
    const id = (await agent.cli(["submit", "cli", "--", "echo", "seen"], { API_TOKEN: FULL })).stdout.trim();
    const reader = { API_TOKEN: READ };
    const logs = await agent.cli(["logs", id, "--follow"], reader);
    expect(logs.stdout).toBe("seen\n");
    expect(logs.status).toBe(0);
    expect((await agent.cli(["list"], reader)).stdout).toContain(id);
    const before = (await agent.cli(["list", "--json"], reader)).stdout;
    const refused = await agent.cli(["submit", "cli", "--", "echo", "not run"], reader);
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain("this token may only read (API_READ_TOKEN): POST /api/tasks needs API_TOKEN or a token of API_USERS");
    expect((await agent.cli(["queue", "pause", "cli"], reader)).status).toBe(2);
    expect((await agent.cli(["list", "--json"], reader)).stdout).toBe(before);
    expect(JSON.parse((await agent.cli(["queue", "status", "--json"], reader)).stdout)).toMatchObject({ pauses: [] });
    expect((await agent.cli(["list"], { API_TOKEN: "wrong-token-0123456789" })).status).toBe(2);
  });
});
