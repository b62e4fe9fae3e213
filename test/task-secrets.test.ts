/**
 * Secrets by name (TASK_SECRETS): a CLI task names one, the program it is for gets it in its
 * variable, nothing else does — not another command, not a program a task's own PATH would find —
 * and its value is in no stored task, document or output. Real processes and a real agent.
 */
import { execFile } from "node:child_process";
import { chmodSync, mkdirSync, mkdtempSync, realpathSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { getTaskDocumentState, listTaskDocuments } from "../src/reactor/documents.js";
import { CliExecutor } from "../src/tasks/executors/cli-executor.js";
import { ExecutorRegistry } from "../src/tasks/executors/registry.js";
import { executeAttempt } from "../src/tasks/execute-attempt.js";
import { newTask } from "../src/tasks/new-task.js";
import { parseTaskRequest } from "../src/tasks/task-request.js";
import type { CLITask } from "../src/tasks/types.js";
import { waitFor } from "./support/process.js";

const SECRET = "deploy-secret-value-7f3a91c2";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-secrets-")));
// The agent's own bin: "deploy" prints what it got (a test stands in for a real deploy script).
const agentBin = path.join(root, "agent-bin");
const taskBin = path.join(root, "task-bin");
for (const [dir, who] of [[agentBin, "agent's"], [taskBin, "task's own"]] as const) {
  mkdirSync(dir);
  writeFileSync(path.join(dir, "deploy"), `#!/bin/sh\necho "${who} deploy got: \${DEPLOY_TOKEN:-nothing}"\n`);
  chmodSync(path.join(dir, "deploy"), 0o755);
}
const secrets = { deploy: { value: SECRET, variable: "DEPLOY_TOKEN", commands: ["deploy"] } };
const agentEnv = { PATH: `${agentBin}:/usr/bin:/bin` };

function configError(env: Record<string, string>): { field: string; message: string; value?: string }[] {
  try {
    loadConfig(env, root);
  } catch (error) {
    if (error instanceof ConfigError) return error.errors;
    throw error;
  }
  return [];
}

describe("TASK_SECRETS", () => {
  const executor = new CliExecutor({ allowedRoots: [root], killGraceMs: 300, captureBytes: 64 * 1024, secrets, agentEnv });
  const registry = new ExecutorRegistry().register(executor);
  const taskOf = (fields: Record<string, unknown>) => {
    const request = parseTaskRequest({ type: "cli", title: "t", workingDirectory: root, ...fields }, registry);
    if (!request.ok) throw new Error(JSON.stringify(request.errors));
    return newTask(request.value, executor, { maxAttempts: 1, timeoutMs: 20_000 }) as CLITask;
  };
  const run = async (fields: Record<string, unknown>) => {
    const outcome = await executeAttempt(executor, taskOf(fields), { timeoutMs: 20_000, attempt: 1, logger: silentLogger() });
    return { outcome, stdout: (outcome.result as { stdout?: string } | undefined)?.stdout };
  };

  it("a bad TASK_SECRETS stops start-up naming the problem, never echoing the value", () => {
    expect(configError({ TASK_SECRETS: `{"deploy":{"value":"${SECRET}","variable":"DEPLOY_TOKEN","commands":[]}}` })).toEqual([
      { field: "TASK_SECRETS", value: "(hidden)", message: "must name at least one command: a secret given to any command is given to printenv" },
    ]);
    expect(configError({ TASK_SECRETS: `{"deploy":{"value":"${SECRET}","variable":"LD_PRELOAD","commands":["deploy"]}}` })[0]?.message).toContain("must not be a variable that changes how programs start");
    expect(JSON.stringify(configError({ TASK_SECRETS: `{"deploy": "${SECRET}"` }))).not.toContain(SECRET);
  });

  it("the command it is for gets it in its variable, found on the agent's PATH — not on one the task sets; a task without it gets nothing", async () => {
    expect((await run({ command: "deploy", secrets: ["deploy"] })).stdout).toBe(`agent's deploy got: ${SECRET}\n`);
    // The task's PATH names its own "deploy": the secret still goes to the agent's.
    expect((await run({ command: "deploy", secrets: ["deploy"], environment: { PATH: `${taskBin}:/usr/bin:/bin` } })).stdout).toBe(`agent's deploy got: ${SECRET}\n`);
    expect((await run({ command: path.join(agentBin, "deploy") })).stdout).toBe("agent's deploy got: nothing\n");
  });

  it("refuses, naming the field: a secret it does not have, one for another command, a task setting the secret's variable itself", async () => {
    expect(await executor.admit(taskOf({ command: "printenv", secrets: ["deploy"] }))).toEqual([{ field: "secrets", value: '"deploy"', message: "is not for command 'printenv': it is for: deploy" }]);
    expect(await executor.admit(taskOf({ command: "deploy", secrets: ["registry"] }))).toEqual([{ field: "secrets", value: '"registry"', message: "is not a secret of this agent (TASK_SECRETS has: deploy)" }]);
    expect(await executor.admit(taskOf({ command: "deploy", secrets: ["deploy"], environment: { DEPLOY_TOKEN: "mine" } }))).toEqual([
      { field: "environment", value: '"DEPLOY_TOKEN"', message: 'is the variable secret "deploy" is given in; a task may not set it itself' },
    ]);
    // Queued before the configuration changed: the run checks again, and nothing starts.
    const { outcome } = await run({ command: "printenv", args: ["DEPLOY_TOKEN"], secrets: ["deploy"] });
    expect(outcome).toMatchObject({ status: "failed", error: { code: "secret_not_allowed" } });
    expect(JSON.stringify(outcome)).not.toContain(SECRET);
  });
});

describe("TASK_SECRETS on a real agent", () => {
  let agent: Agent;
  const dataDir = mkdtempSync(path.join(tmpdir(), "ph-secrets-agent-"));
  beforeAll(async () => {
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_ALLOWED_ROOTS: root, TASK_SECRETS: JSON.stringify({ deploy: { ...secrets.deploy, commands: [path.join(agentBin, "deploy")] } }) };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });

  it("the program gets the value; the output, the stored task and its document show none of it", async () => {
    const response = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title: "deploy", command: path.join(agentBin, "deploy"), secrets: ["deploy"] }) });
    expect(response.status).toBe(201);
    const { task } = (await response.json()) as { task: { id: string } };
    const done = await waitFor(async () => {
      const body = (await (await fetch(`${agent.url}/api/tasks/${task.id}`)).json()) as { task: { status: string; result?: { stdout?: string } } };
      return body.task.status === "completed" ? body : undefined;
    }, 20_000, "the task to complete");
    expect(done.task.result?.stdout).toBe("agent's deploy got: [REDACTED]\n");
    expect(JSON.stringify(done)).not.toContain(SECRET);
    const output = await (await fetch(`${agent.url}/api/tasks/${task.id}/log`)).text();
    expect(output).toContain("[REDACTED]");
    expect(output).not.toContain(SECRET);
    const [document] = await listTaskDocuments(agent.reactor);
    expect(JSON.stringify(await getTaskDocumentState(agent.reactor, document?.documentId ?? ""))).not.toContain(SECRET);

    // From the CLI: --secret.
    const submitted = await new Promise<string>((resolve) =>
      execFile(process.execPath, [path.resolve("bin/ph-tasks.js"), "submit", "cli", "--secret", "deploy", "--", path.join(agentBin, "deploy")], { env: { ...process.env, PH_TASKS_URL: agent.url } }, (_error, stdout) => resolve(stdout.trim())),
    );
    const viaCli = await waitFor(async () => {
      const body = (await (await fetch(`${agent.url}/api/tasks/${submitted}`)).json()) as { task?: { status: string; result?: { stdout?: string } } };
      return body.task?.status === "completed" ? body.task : undefined;
    }, 20_000, "the CLI's task to complete");
    expect(viaCli.result?.stdout).toBe("agent's deploy got: [REDACTED]\n");

    const refused = await fetch(`${agent.url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title: "steal", command: "printenv", secrets: ["deploy"] }) });
    expect(refused.status).toBe(400);
    expect(((await refused.json()) as { errors: unknown[] }).errors).toEqual([{ field: "secrets", value: '"deploy"', message: `is not for command 'printenv': it is for: ${path.join(agentBin, "deploy")}` }]);
  });
});
