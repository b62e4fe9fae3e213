/**
 * `ph-tasks budget person` on a real agent (startAgent, the real claude binary against the
 * Messages-API stand-in: a call of a million input tokens costs $3): alice — a named token of
 * API_USERS — is held to TASK_BUDGET_USD_PER_PERSON_PER_DAY: her Claude run stops at her rest and
 * waits saying so, while the admin's (no one named) runs; raised by the admin, her run starts at
 * once; listed in `ph-tasks budget` and `ph-tasks spend` with what she spent; removed, the setting
 * holds again. The read-only token may list, not set; alice may not change her own (another's she
 * may); a bad name is refused naming the field. Carol's task document, signed with her named app
 * key (TASK_AUTHORIZED_WRITERS), is held to her budget and says so in the document.
 */
import { mkdirSync, mkdtempSync, realpathSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Agent } from "../src/agent.js";
import { addTaskDocument, dispatch, getTaskDocumentState } from "../src/reactor/documents.js";
import { actions } from "../src/reactor/task-document/actions.js";
import type { StandIn } from "./support/anthropic-stand-in.js";
import { appKey, type AppKey } from "./support/app-keys.js";
import { startBudgetAgent, type BudgetAgent } from "./support/budget-agent.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { waitFor } from "./support/process.js";

const API_TOKEN = "person-budget-cli-admin-token-01";
const ALICE_TOKEN = "alice-person-budget-token-012345";
const READ_TOKEN = "person-budget-cli-read-token-012";
const root = realpathSync(mkdtempSync(path.join(tmpdir(), "ph-person-budget-cli-")));
const project = path.join(root, "project");
mkdirSync(project);

interface ShownTask { status: string; attempts: number; error?: { code: string; message: string }; waiting?: { code: string; message: string }; result?: { text: string; maxBudgetUsd: number } }

describe("ph-tasks budget person on a real agent", () => {
  let standIn: StandIn;
  let agent: Agent;
  let carol: AppKey;
  let running: BudgetAgent;
  const as = (token: string) => running.as(token);
  const shown = async (id: string) => JSON.parse((await phTasks(["show", id, "--json"], as(API_TOKEN))).stdout) as ShownTask;
  const submit = async (token: string) => {
    const submitted = await phTasks(["submit", "claude-code", "--prompt", "spend", "--project", project, "--json"], as(token));
    expect(submitted.status).toBe(0);
    return (JSON.parse(submitted.stdout) as { id: string }).id;
  };

  beforeAll(async () => {
    carol = await appKey("carol-app");
    // Carol writes task documents with her named app key; the API's people use their tokens.
    running = await startBudgetAgent(root, { admin: API_TOKEN, alice: ALICE_TOKEN, read: READ_TOKEN }, { TASK_BUDGET_USD_PER_PERSON_PER_DAY: "1", TASK_AUTHORIZED_WRITERS: `carol=${carol.did}` });
    ({ standIn, agent } = running);
  });
  afterAll(() => running.close());

  it("alice's run stops at her budget and waits saying so while the admin's runs; raised, it runs at once; listed, removed", async () => {
    expect((await phTasks(["budget", "person"], as(API_TOKEN))).stdout).toBe("no one has a budget of their own; other people: $1.00 each (TASK_BUDGET_USD_PER_PERSON_PER_DAY)\n");
    // One person's, whatever gives it: alice asks for her own; the admin's token has no name to default to.
    expect((await phTasks(["budget", "person", "show"], as(ALICE_TOKEN))).stdout).toBe("alice: a daily budget of $1.00 (TASK_BUDGET_USD_PER_PERSON_PER_DAY); $0.00 spent in the last 24 hours ($1.00 left)\n");
    expect((await phTasks(["budget", "person", "show", "alice"], as(READ_TOKEN))).stdout).toBe("alice: a daily budget of $1.00 (TASK_BUDGET_USD_PER_PERSON_PER_DAY); $0.00 spent in the last 24 hours ($1.00 left)\n");
    const nameless = await phTasks(["budget", "person", "show"], as(API_TOKEN));
    expect(nameless.status).not.toBe(0);
    expect(nameless.stderr).toContain("name a person: this token is not a named one (API_USERS, API_READERS)");

    // Alice's one call of $3: past her dollar, claude stops; the retry waits for her budget.
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
    const hers = await submit(ALICE_TOKEN);
    const waiting = await waitFor(async () => {
      const task = await shown(hers);
      return task.waiting?.code === "person_over_budget" ? task : undefined;
    }, 90_000, "alice's run to wait for her budget");
    expect(waiting).toMatchObject({ status: "pending", attempts: 1, error: { code: "over_budget", message: "claude stopped at what was left of the daily budget of the person who asked ($1.00, TASK_BUDGET_USD_PER_PERSON_PER_DAY) before finishing" } });
    expect(waiting.waiting?.message).toMatch(/^the daily budget of alice, who asked for it, is spent \(\$3\.00 of \$1\.00 in the last 24 hours on what alice asked for; TASK_BUDGET_USD_PER_PERSON_PER_DAY\); it starts at 20\d\d-/);

    // The admin's run (no one named) is not held by it.
    standIn.reset();
    standIn.enqueue({ kind: "text", text: "the admin's" });
    const admins = await submit(API_TOKEN);
    const adminDone = await waitFor(async () => {
      const task = await shown(admins);
      return task.status === "completed" ? task : undefined;
    }, 60_000, "the admin's run to complete");
    expect(adminDone.result?.text).toBe("the admin's");

    // Raised to $10 by the admin: her run starts now, capped at the $7 left.
    standIn.enqueue({ kind: "text", text: "done under her new budget" });
    const raised = await phTasks(["budget", "person", "set", "alice", "10", "--reason", "launch week"], as(API_TOKEN));
    expect(raised).toMatchObject({ status: 0, stderr: "" });
    expect(raised.stdout).toBe("alice: a daily budget of $10.00, set by API_TOKEN: launch week; $3.00 spent in the last 24 hours ($7.00 left)\n");
    const done = await waitFor(async () => {
      const task = await shown(hers);
      return task.status === "completed" ? task : undefined;
    }, 60_000, "alice's run to complete under her raised budget");
    expect(done.result?.text).toBe("done under her new budget");
    expect(done.result?.maxBudgetUsd).toBeCloseTo(7, 2);
    expect(JSON.parse((await phTasks(["budget", "person", "show", "--json"], as(ALICE_TOKEN))).stdout)).toMatchObject({ person: "alice", usdPerDay: 10, setBy: "API_TOKEN", runs: 2 });

    // Listed (the read-only token may) in `budget` after the drives, and in `spend` against her budget.
    const listed = await phTasks(["budget"], as(READ_TOKEN));
    expect(listed.stdout).toMatch(/\nPERSON +PER DAY +SPENT \(24H\) +NOW +SET BY +REASON\n[- ]+\nalice +\$10\.00 +\$3\.\d\d +\$[67]\.\d\d left +API_TOKEN 20\S+ +launch week\nother people: \$1\.00 each \(TASK_BUDGET_USD_PER_PERSON_PER_DAY\)\n$/);
    const spend = await phTasks(["spend"], as(READ_TOKEN));
    expect(spend.stdout).toMatch(/by the person who asked, in the last 24 hours:\nWHO +SPENT +RUNS +BUDGET\n[- ]+\nalice +\$3\.\d\d +2 +\$[67]\.\d\d left of \$10\.00 — set by API_TOKEN \(ph-tasks budget\)\n/);
    // What alice alone spent: her budget, her days, her costliest tasks (hers, not the admin's).
    const hersOnly = await phTasks(["spend", "--by", "alice"], as(READ_TOKEN));
    expect(hersOnly.stdout).toMatch(/^alice: a daily budget of \$10\.00, set by API_TOKEN: launch week; \$3\.\d\d spent in the last 24 hours \(\$[67]\.\d\d left\)\n\nDAY \(UTC\) +SPENT +RUNS +BY TYPE\n[- ]+\n20\d\d-\d\d-\d\d +\$3\.\d\d +2 +claude-code \$3\.\d\d\n\ncostliest in the last 24 hours:\n/);
    expect(hersOnly.stdout).toContain(hers);
    expect(hersOnly.stdout).not.toContain(admins);
    expect(JSON.parse((await phTasks(["spend", "--by", "alice", "--json"], as(READ_TOKEN))).stdout)).toMatchObject({ budget: { person: "alice", usdPerDay: 10 }, costliest: [{ taskId: hers, runs: 2 }] });
    const both = await phTasks(["spend", "--by", "alice", "--drive", "team"], as(READ_TOKEN));
    expect(both.status).not.toBe(0);
    expect(both.stderr).toContain("--by and --drive: one at a time");
    const json = JSON.parse((await phTasks(["budget", "person", "--json"], as(READ_TOKEN))).stdout) as unknown;
    expect(json).toMatchObject({ defaultUsdPerDay: 1, people: [{ person: "alice", usdPerDay: 10, setBy: "API_TOKEN", reason: "launch week", settingsUsd: 1, runs: 2 }] });

    // The read-only token may not set one; alice may not lift her own (she may do all else API_TOKEN may), nor remove it.
    const refused = await phTasks(["budget", "person", "set", "alice", "100"], as(READ_TOKEN));
    expect(refused.status).not.toBe(0);
    expect(refused.stderr).toMatch(/may only read/);
    for (const args of [["set", "alice", "100"], ["remove", "alice"]]) {
      const own = await phTasks(["budget", "person", ...args], as(ALICE_TOKEN));
      expect(own.status).not.toBe(0);
      expect(own.stderr).toContain("alice may not change their own daily budget: someone else may (API_TOKEN, or another name of API_USERS)");
    }
    // She may set another's.
    // (No one is known as intern here: set, and said so on stderr.)
    const intern = await phTasks(["budget", "person", "set", "intern", "0.50"], as(ALICE_TOKEN));
    expect(intern.stdout).toBe("intern: a daily budget of $0.50, set by alice; $0.00 spent in the last 24 hours ($0.50 left)\n");
    expect(intern.stderr).toBe("warning: no one is known as intern to this agent (API_USERS, TASK_AUTHORIZED_WRITERS): the budget holds no task until someone is\n");

    // Removed: the setting's dollar holds her again (spent: until when); removed again: nothing to remove.
    expect(JSON.parse((await phTasks(["budget", "person", "--json"], as(READ_TOKEN))).stdout)).toMatchObject({ people: [{ person: "alice", usdPerDay: 10 }, { person: "intern", usdPerDay: 0.5, setBy: "alice" }] });
    const removed = await phTasks(["budget", "person", "remove", "alice"], as(API_TOKEN));
    expect(removed.stdout).toMatch(/^removed; alice: a daily budget of \$1\.00 \(TASK_BUDGET_USD_PER_PERSON_PER_DAY\); \$3\.\d\d spent in the last 24 hours \(spent — waits until 20\S+\)\n$/);
    const again = await phTasks(["budget", "person", "remove", "alice"], as(API_TOKEN));
    expect(again.status).not.toBe(0);
    expect(again.stderr).toContain("person 'alice' has no budget set with ph-tasks budget person");
  }, 180_000);

  it("carol's signed task document is held to her budget: its run stops at her dollar and the document says it waits for her, until the admin raises it", async () => {
    standIn.reset();
    standIn.enqueue({ kind: "tool_use", name: "Bash", input: { command: "true" }, inputTokens: 1_000_000 }, { kind: "text", text: "never asked for" });
    const doc = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Carol's", taskType: "claude-code", params: { prompt: "spend", projectPath: project } } });
    await dispatch(agent.reactor, doc, await carol.sign(doc, actions.requestRun({ requestId: "carol-1" })));
    const told = await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, doc);
      return state.notices.find((n) => n.message.startsWith("waits: the daily budget of carol")) ? state : undefined;
    }, 90_000, "the document to say it waits for carol's budget");
    expect(told.notices.find((n) => n.message.startsWith("waits:"))?.message).toMatch(/^waits: the daily budget of carol, who asked for it, is spent \(\$3\.00 of \$1\.00 in the last 24 hours on what carol asked for; TASK_BUDGET_USD_PER_PERSON_PER_DAY\); it starts at 20\d\d-/);
    const task = await shown(told.currentTaskId ?? "");
    expect(task.error?.message).toBe("claude stopped at what was left of the daily budget of the person who asked ($1.00, TASK_BUDGET_USD_PER_PERSON_PER_DAY) before finishing");

    standIn.reset();
    standIn.enqueue({ kind: "text", text: "carol's, done" });
    expect((await phTasks(["budget", "person", "set", "carol", "5"], as(API_TOKEN))).status).toBe(0);
    const done = await waitFor(async () => {
      const state = await getTaskDocumentState(agent.reactor, doc);
      return state.status === "completed" ? state : undefined;
    }, 60_000, "carol's document's run to complete under her raised budget");
    expect(done.status).toBe("completed");
    expect((await shown(told.currentTaskId ?? "")).result?.maxBudgetUsd).toBeCloseTo(2, 2);
  }, 180_000);

  it("a bad name or amount names the field and the value, and changes nothing", async () => {
    const spaced = await phTasks(["budget", "person", "set", "a b", "1"], as(API_TOKEN));
    expect(spaced.status).not.toBe(0);
    expect(spaced.stderr).toMatch(/person: must be 1 to 64 letters, digits, '\.', '_', '@' or '-', starting with a letter or digit/);
    const lots = await phTasks(["budget", "person", "set", "bob", "lots"], as(API_TOKEN));
    expect(lots.stderr).toContain("usd: expected an amount in US dollars per 24 hours like 2.50 (more than 0), or 'none' for no budget at all; got 'lots'");
    const listed = JSON.parse((await phTasks(["budget", "person", "--json"], as(API_TOKEN))).stdout) as { people: { person: string }[] };
    expect(listed.people.map((p) => p.person)).not.toContain("bob");
  });
});
