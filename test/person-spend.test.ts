/**
 * Spend by the person who asked (migration 045), on a real agent with the real claude binary
 * against the Messages-API stand-in (a call of a million input tokens costs $3): a run asked for
 * with alice's named token is recorded as hers, one asked for with API_TOKEN as no one's, and
 * `ph-tasks spend` and GET /api/spend list them, the costliest first.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startBudgetAgent, type BudgetAgent } from "./support/budget-agent.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { waitFor } from "./support/process.js";

const API_TOKEN = "person-spend-admin-token-0123";
const ALICE_TOKEN = "person-spend-alice-token-0123";
const READ_TOKEN = "person-spend-read-token-01234";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-person-spend-")));
const project = path.join(root, "project");
mkdirSync(project);

describe("spend by the person who asked, on a real agent", () => {
  let running: BudgetAgent;
  beforeAll(async () => {
    running = await startBudgetAgent(root, { admin: API_TOKEN, alice: ALICE_TOKEN, read: READ_TOKEN }, {});
  });
  afterAll(() => running.close());

  const submit = async (token: string, prompt: string) => {
    const submitted = await phTasks(["submit", "claude-code", "--prompt", prompt, "--project", project, "--json"], running.as(token));
    expect(submitted.status).toBe(0);
    const id = (JSON.parse(submitted.stdout) as { id: string }).id;
    await waitFor(async () => (JSON.parse((await phTasks(["show", id, "--json"], running.as(API_TOKEN))).stdout) as { status: string }).status === "completed" || undefined, 60_000, `${prompt} to complete`);
  };

  it("alice's run is hers, the admin's no one's; listed by person, the costliest first", async () => {
    const { standIn } = running;
    // alice's: one dear call ($3), then the answer; the admin's: one cheap answer.
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "done, dearly" });
    await submit(ALICE_TOKEN, "a dear one");
    standIn.enqueue({ kind: "text", text: "done, cheaply" });
    await submit(API_TOKEN, "a cheap one");

    const spend = JSON.parse((await phTasks(["spend", "--json"], running.as(READ_TOKEN))).stdout) as { people: { by: string | null; usd: number; runs: number }[] };
    expect(spend.people.map((p) => [p.by, p.runs])).toEqual([["alice", 1], [null, 1]]);
    expect(spend.people[0]?.usd).toBeGreaterThanOrEqual(3);
    expect(spend.people[1]?.usd).toBeLessThan(0.1);
    const printed = (await phTasks(["spend"], running.as(READ_TOKEN))).stdout;
    expect(printed).toMatch(/\nby the person who asked, in the last 24 hours:\nWHO +SPENT +RUNS\n[- ]+\nalice +\$3\.\d\d +1\n\(no one named: API_TOKEN, loopback, schedules, hooks, unnamed writers\) +\$0\.\d+ +1\n$/);
  }, 120_000);
});
