/**
 * Cron schedules, inbound and outbound webhooks, dependencies and templates through `ph-tasks
 * serve`: the HTTP API, the `ph-tasks schedule`, `hook`, `webhook` and `template` commands, and the
 * tasks they make running on the agent like any other (each with its task document).
 */
import { mkdtempSync, writeFileSync } from "node:fs";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { Webhook } from "standardwebhooks";
import { signBody } from "../src/hooks/hook-receiver.js";
import { AgentProcess, freshFetch } from "./support/agent-process.js";

// The client commands block this process (spawnSync): every request on a connection of its own.
const fetch = freshFetch;
import { waitFor } from "./support/process.js";

interface ApiTask { id: string; status: string; title: string; source?: { origin?: string; documentId?: string } }

describe("cron schedules and webhooks through ph-tasks serve", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ph-schedules-"));
  const agent = new AgentProcess(dir, { TASK_SHUTDOWN_GRACE_MS: "100", TASK_SCHEDULE_POLL_MS: "200", TASK_WEBHOOK_POLL_MS: "200" });
  afterAll(async () => {
    await agent.stop("SIGKILL");
  });

  it("schedule add / list / pause / show / rm; its tasks run on the agent with their documents", async () => {
    const url = await agent.url;
    const task = JSON.stringify({ type: "cli", title: "tick {{schedule.occurrence}}", command: "echo", args: ["tick"] });
    const added = await agent.cli(["schedule", "add", "ticker", "* * * * * *", "--task", task, "--overlap", "allow"]);
    expect(added.stderr).toBe("");
    expect(added.status).toBe(0);
    expect(added.stdout).toMatch(/^ticker {2}active {2}"\* \* \* \* \* \*" \(UTC\), overlap allow/);

    const ran = await waitFor(async () => {
      const { tasks } = (await (await fetch(`${url}/api/tasks?status=completed`)).json()) as { tasks: ApiTask[] };
      const mine = tasks.filter((t) => t.source?.origin === "schedule:ticker");
      return mine.length >= 2 ? mine : undefined;
    }, 30_000, "two completed scheduled tasks");
    for (const t of ran) {
      expect(t.title).toMatch(/^tick \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
      expect(t.source?.documentId).toBeTruthy(); // a task document in the local drive, as for API tasks
    }
    const log = (await (await fetch(`${url}/api/tasks/${ran[0]?.id ?? ""}/log`)).json()) as { events: { kind: string; data: string }[] };
    expect(log.events.filter((e) => e.kind === "output").map((e) => e.data).join("")).toBe("tick\n");

    const listed = await agent.cli(["schedule", "list"]);
    expect(listed.stdout).toMatch(/ticker {2}active/);
    expect(listed.stdout).toMatch(/fired [1-9]\d*, skipped 0/);

    const paused = await agent.cli(["schedule", "pause", "ticker"]);
    expect(paused.stdout).toBe("ticker paused\n");
    expect((await agent.cli(["schedule", "resume", "ticker"])).stdout).toMatch(/^ticker active, next \d{4}-/);
    expect((await agent.cli(["schedule", "pause", "ticker"])).stdout).toBe("ticker paused\n");
    const shown = JSON.parse((await agent.cli(["schedule", "show", "ticker", "--json"])).stdout) as { enabled: boolean; nextFireAt: string | null; firedCount: number };
    expect(shown).toMatchObject({ enabled: false, nextFireAt: null });
    // Paused: no more firings.
    await new Promise((resolve) => setTimeout(resolve, 1500));
    const after = JSON.parse((await agent.cli(["schedule", "show", "ticker", "--json"])).stdout) as { firedCount: number };
    expect(after.firedCount).toBe(shown.firedCount);

    expect((await agent.cli(["schedule", "rm", "ticker"])).status).toBe(0);
    const gone = await agent.cli(["schedule", "show", "ticker"]);
    expect(gone.status).toBe(4);
    expect(gone.stderr).toContain("no schedule with id or name 'ticker'");
  });

  it("bad input is refused with every field named, over HTTP and by the CLI; nothing is stored", async () => {
    const url = await agent.url;
    const res = await fetch(`${url}/api/schedules`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ name: "Nope!", cron: "* * *", timezone: "Nowhere/City", task: { type: "cli", title: "x", command: "echo" }, extra: 1 }) });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: string; errors: { field: string; message: string; value?: string }[] };
    expect(body.error).toBe("validation_failed");
    expect(body.errors.map((e) => e.field).sort()).toEqual(["(root)", "cron", "name", "timezone"]);
    expect(body.errors.find((e) => e.field === "timezone")?.value).toBe('"Nowhere/City"');

    const cli = await agent.cli(["schedule", "add", "ok-name", "not a cron", "--task", JSON.stringify({ type: "cli", title: "x", command: "echo" })]);
    expect(cli.status).toBe(2);
    expect(cli.stderr).toMatch(/cron: not a usable cron expression/);
    expect(cli.stderr).toContain('(got "not a cron")');
    const badJson = await agent.cli(["schedule", "add", "ok-name", "@daily", "--task", "{not json"]);
    expect(badJson.status).toBe(2);
    expect(badJson.stderr).toMatch(/--task: not valid JSON/);

    const good = { name: "nightly", cron: "0 3 * * *", timezone: "Europe/Berlin", task: { type: "cli", title: "x", command: "echo" } };
    expect((await fetch(`${url}/api/schedules`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(good) })).status).toBe(201);
    const again = await fetch(`${url}/api/schedules`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify(good) });
    expect(again.status).toBe(409);
    const patch = await fetch(`${url}/api/schedules/nightly`, { method: "PATCH", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ cron: "0 25 * * *" }) });
    expect(patch.status).toBe(400);
    const { schedules } = (await (await fetch(`${url}/api/schedules`)).json()) as { schedules: { name: string; cron: string; nextFireAt: string }[] };
    expect(schedules.map((s) => [s.name, s.cron])).toEqual([["nightly", "0 3 * * *"]]);
    // 03:00 in Berlin is 01:00 or 02:00 UTC.
    expect(new Date(schedules[0]?.nextFireAt ?? "").getUTCHours()).toBeGreaterThanOrEqual(1);
    expect(new Date(schedules[0]?.nextFireAt ?? "").getUTCHours()).toBeLessThanOrEqual(2);
    expect((await fetch(`${url}/api/schedules/nope`, { method: "DELETE" })).status).toBe(404);
  });

  it("hook add prints the URL and the secret once; a signed delivery runs its task; rotate retires the old secret", async () => {
    const url = await agent.url;
    const task = JSON.stringify({ type: "cli", title: "build {{body.ref}}", command: "echo", args: ["building {{body.ref}}"] });
    const added = await agent.cli(["hook", "add", "builds", "--task", task]);
    expect(added.status).toBe(0);
    expect(added.stdout).toContain(`POST ${url}/hooks/builds`);
    const secret = /secret (\S+)/.exec(added.stdout)?.[1] ?? "";
    expect(secret.length).toBeGreaterThanOrEqual(32);
    expect((await agent.cli(["hook", "show", "builds"])).stdout).not.toContain(secret);

    const body = JSON.stringify({ ref: "feature/x" });
    const res = await fetch(`${url}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(secret, body), "Idempotency-Key": "d-1" }, body });
    expect(res.status).toBe(202);
    const { task: made } = (await res.json()) as { task: { id: string } };
    const logs = await agent.cli(["logs", made.id, "--follow"]);
    expect(logs.stdout).toBe("building feature/x\n");
    expect(logs.status).toBe(0);
    const shown = JSON.parse((await agent.cli(["show", made.id, "--json"])).stdout) as ApiTask;
    expect(shown).toMatchObject({ title: "build feature/x", source: { origin: "hook:builds" } });
    expect(shown.source?.documentId).toBeTruthy();

    const rotated = await agent.cli(["hook", "rotate", "builds"]);
    const newSecret = /secret (\S+)/.exec(rotated.stdout)?.[1] ?? "";
    expect(newSecret).not.toBe(secret);
    const old = await fetch(`${url}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(secret, body) }, body });
    expect(old.status).toBe(401);
    const strict = await agent.cli(["hook", "timestamped-only", "builds"]);
    expect(strict.stdout).toMatch(/^builds {2}active {2}POST \S+ {2}\(timestamped signatures only\)$/m);
    const bodyOnly = await fetch(`${url}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(newSecret, body) }, body });
    expect(bodyOnly.status).toBe(401);
    const at = new Date();
    const stamped = { "webhook-id": "msg-1", "webhook-timestamp": String(Math.floor(at.getTime() / 1000)), "webhook-signature": new Webhook(newSecret).sign("msg-1", at, body) };
    expect((await fetch(`${url}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", ...stamped }, body })).status).toBe(202);
    const listed = await agent.cli(["hook", "list"]);
    expect(listed.stdout).toMatch(/builds {2}active/);
    expect(listed.stdout).toMatch(/received 2, rejected 2/);
    // Rotated with a grace period: the secret it replaces still signs deliveries meanwhile.
    const graceful = await agent.cli(["hook", "rotate", "builds", "--grace", "1h"]);
    expect(graceful.stdout).toMatch(/^ {2}the previous secret is also accepted until \S+$/m);
    const third = /secret (\S+)/.exec(graceful.stdout)?.[1] ?? "";
    const at2 = new Date();
    const byOld = { "webhook-id": "msg-2", "webhook-timestamp": String(Math.floor(at2.getTime() / 1000)), "webhook-signature": new Webhook(newSecret).sign("msg-2", at2, body) };
    expect(third).not.toBe(newSecret);
    expect((await fetch(`${url}/hooks/builds`, { method: "POST", headers: { "Content-Type": "application/json", ...byOld }, body })).status).toBe(202);
    // A rate limit on the tasks its deliveries make: shown with the hook and in queue status.
    expect((await agent.cli(["hook", "limit", "builds", "30/min"])).stdout).toMatch(/^ {2}at most 30\/min \(\d in the current window\)$/m);
    expect((await agent.cli(["queue", "status"])).stdout).toMatch(/^hook builds {2}at most 30\/min \(\d in the current window\)$/m);
    expect((await agent.cli(["hook", "limit", "builds", "--off"])).stdout).not.toContain("at most");
    // preview: the task a delivery would make, none made.
    const previewed = await agent.cli(["hook", "preview", "builds", "--body", '{"ref":"x"}', "--header", "X-Sender=me"]);
    expect(previewed.status).toBe(0);
    expect(previewed.stdout).toContain('"title": "build x"');
    expect(previewed.stdout).toMatch(/valid: a delivery like this makes this task\n$/);
    const notJson = await agent.cli(["hook", "preview", "builds", "--body", "{ref"]);
    expect([notJson.status, notJson.stderr]).toEqual([2, expect.stringContaining("--body: not valid JSON") as string]);
    const badGrace = await agent.cli(["hook", "rotate", "builds", "--grace", "soon"]);
    expect([badGrace.status, badGrace.stderr.trim()]).toEqual([2, "ph-tasks: --grace: expected a duration like 30m, 1h or 2d, got 'soon'"]);
    expect((await agent.cli(["hook", "rm", "builds"])).status).toBe(0);
    expect((await agent.cli(["hook", "show", "builds"])).status).toBe(4);
  });

  it("submit --after / --if-after-fails / --in / --at: the task waits for the one it names, or for a time; a name of no task is refused", async () => {
    const first = (await agent.cli(["submit", "cli", "--json", "--", "sh", "-c", "sleep 0.5; echo first"]));
    const a = JSON.parse(first.stdout) as { id: string };
    const second = await agent.cli(["submit", "cli", "--json", "--after", a.id, "--", "echo", "second"]);
    expect(second.status).toBe(0);
    const b = JSON.parse(second.stdout) as { id: string; dependsOn: string[] };
    expect(b.dependsOn).toEqual([a.id]);
    expect((await agent.cli(["logs", b.id, "--follow"])).stdout).toBe("second\n");
    const shownA = JSON.parse((await agent.cli(["show", a.id, "--json"])).stdout) as { status: string; finishedAt: string };
    const shownB = JSON.parse((await agent.cli(["show", b.id, "--json"])).stdout) as { startedAt: string };
    expect(shownA.status).toBe("completed");
    expect(Date.parse(shownB.startedAt)).toBeGreaterThanOrEqual(Date.parse(shownA.finishedAt));
    const orphan = await agent.cli(["submit", "cli", "--after", "no-such-task", "--", "echo", "x"]);
    expect(orphan.status).toBe(2);
    expect(orphan.stderr).toContain("dependsOn: names no task: 'no-such-task'");

    // --if-after-fails cancel: a failed dependency cancels it, and `show` says why.
    const failing = JSON.parse((await agent.cli(["submit", "cli", "--json", "--max-attempts", "1", "--", "sh", "-c", "sleep 0.3; exit 3"])).stdout) as { id: string };
    const doomed = JSON.parse((await agent.cli(["submit", "cli", "--json", "--after", failing.id, "--if-after-fails", "cancel", "--", "echo", "never"])).stdout) as { id: string; onDependencyFailure: string };
    expect(doomed.onDependencyFailure).toBe("cancel");
    const logs = await agent.cli(["logs", doomed.id, "--follow"]);
    expect(logs.status).toBe(130);
    expect((await agent.cli(["show", doomed.id])).stdout).toContain(`task ${failing.id} it depends on failed (onDependencyFailure: cancel)`);
    const bad = await agent.cli(["submit", "cli", "--after", failing.id, "--if-after-fails", "skip", "--", "echo", "x"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("--if-after-fails: expected wait or cancel");

    // --in / --at: not before then; `show` says so while it waits.
    const sentAt = Date.now();
    const later = JSON.parse((await agent.cli(["submit", "cli", "--json", "--in", "20s", "--", "echo", "later"])).stdout) as { id: string; runAt: string };
    expect(Date.parse(later.runAt) - sentAt).toBeGreaterThanOrEqual(19_000);
    expect((await agent.cli(["show", later.id])).stdout).toContain(`not before ${later.runAt} (its runAt)`);
    expect((await agent.cli(["cancel", later.id])).status).toBe(0);
    const deadline = JSON.parse((await agent.cli(["submit", "cli", "--json", "--in", "20s", "--start-within", "30s", "--", "echo", "x"])).stdout) as { id: string; startBy: string; runAt: string };
    expect(Date.parse(deadline.startBy) - Date.parse(deadline.runAt)).toBeGreaterThanOrEqual(9_000);
    expect((await agent.cli(["cancel", deadline.id])).status).toBe(0);
    expect((await agent.cli(["submit", "cli", "--start-within", "soon", "--", "echo", "x"])).stderr).toContain("--start-within: expected a duration like 90s, 10m or 2h, got 'soon'");
    const notATime = await agent.cli(["submit", "cli", "--at", "tomorrow", "--", "echo", "x"]);
    expect(notATime.status).toBe(2);
    expect(notATime.stderr).toContain("runAt: must be an ISO 8601 date and time with a zone");
    expect((await agent.cli(["submit", "cli", "--at", later.runAt, "--in", "1m", "--", "echo", "x"])).stderr).toContain("give --at or --in, not both");
  }, 120_000); // nineteen CLI runs, each a Node process of its own (timed out at 60 s on a busy machine)

  it("template put / list; submit template --param makes and runs the task; a hook names it; a missing parameter is named", async () => {
    const task = JSON.stringify({ type: "cli", title: "greet {{params.who}}", command: "echo", args: ["hello", "{{params.who}}", "{{params.times}}"], maxAttempts: "{{params.attempts}}" });
    const put = await agent.cli(["template", "put", "greet", "--task", task, "--description", "says hello"]);
    expect(put.status).toBe(0);
    expect(put.stdout).toContain("greet  cli  params: attempts, times, who");
    expect((await agent.cli(["template", "list"])).stdout).toContain("says hello");
    expect(JSON.parse((await agent.cli(["template", "show", "greet"])).stdout)).toMatchObject({ name: "greet", description: "says hello" });
    const submitted = await agent.cli(["submit", "template", "greet", "--param", "who=world", "--param", "times=3", "--param-json", "attempts=2"]);
    expect(submitted.status).toBe(0);
    const id = submitted.stdout.trim();
    expect((await agent.cli(["logs", id, "--follow"])).stdout).toBe("hello world 3\n");
    expect(JSON.parse((await agent.cli(["show", id, "--json"])).stdout)).toMatchObject({ maxAttempts: 2, title: "greet world" });
    const missing = await agent.cli(["submit", "template", "greet", "--param", "who=world", "--param-json", "attempts=1"]);
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain("params.times: is used by template 'greet' and missing");

    // A hook naming the template: the delivery's values fill its parameters.
    const url = await agent.url;
    const hook = await agent.cli(["hook", "add", "greeter", "--template", "greet", "--param", "who={{body.who}}", "--param", "times=1", "--param-json", "attempts=1"]);
    expect(hook.stderr).toBe("");
    const secret = /secret (\S+)/.exec(hook.stdout)?.[1] ?? "";
    const body = JSON.stringify({ who: "hook" });
    const res = await fetch(`${url}/hooks/greeter`, { method: "POST", headers: { "Content-Type": "application/json", "X-Signature-256": signBody(secret, body) }, body });
    expect(res.status).toBe(202);
    const { task: made } = (await res.json()) as { task: { id: string } };
    expect((await agent.cli(["logs", made.id, "--follow"])).stdout).toBe("hello hook 1\n");
    const incomplete = await agent.cli(["schedule", "add", "greet-daily", "@daily", "--template", "greet", "--param", "who=cron"]);
    expect(incomplete.status).toBe(2);
    expect(incomplete.stderr).toContain("task.params.times: is used by template 'greet' and missing");
    const both = await agent.cli(["schedule", "add", "greet-daily", "@daily", "--template", "greet", "--task", "{}"]);
    expect(both.stderr).toContain("one of them");
    expect((await agent.cli(["hook", "rm", "greeter"])).status).toBe(0);
    expect((await agent.cli(["template", "rm", "greet"])).status).toBe(0);
  });

  it("queue pause / status / resume / pause --wait: a paused type's task waits, then runs once resumed; a drain waits for what runs", async () => {
    const url = await agent.url;
    const statusOf = async (id: string) => ((await (await fetch(`${url}/api/tasks/${id}`)).json()) as { task: ApiTask }).task.status;
    const gate = path.join(dir, "drain-gate");
    try {
      const paused = await agent.cli(["queue", "pause", "cli", "--reason", "deploying"]);
      expect(paused.stdout).toMatch(/^paused cli {2}since \S+ {2}\(deploying\)\n$/);
      const id = (await agent.cli(["submit", "cli", "--", "echo", "after the pause"])).stdout.trim();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(await statusOf(id)).toBe("pending");
      expect((await agent.cli(["queue", "status"])).stdout).toContain("paused cli");
      const bad = await agent.cli(["queue", "pause", "clli"]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("types.0: must be * (every type) or one of approval, claude-agent, claude-code, cli");
      const resumed = await agent.cli(["queue", "resume"]);
      expect(resumed.stdout).toBe("resumed cli\nrunning: no type is paused\n");
      expect((await agent.cli(["logs", id, "--follow"])).stdout).toContain("after the pause");

      // Drain before an upgrade: pause every type, wait until nothing runs. The task runs until
      // the test opens its gate, so neither wait depends on how fast the machine is.
      const held = (await agent.cli(["submit", "cli", "--", "sh", "-c", `while [ ! -e '${gate}' ]; do sleep 0.05; done`])).stdout.trim();
      await waitFor(async () => ((await statusOf(held)) === "running" ? true : undefined), 10_000, "the gated task to start");
      const tooShort = await agent.cli(["queue", "pause", "--wait", "--timeout", "200ms"]);
      expect(tooShort.status).toBe(124);
      expect(tooShort.stderr).toContain("still 1 running task(s) after 200 ms; the pause stays");
      const draining = agent.cliAsync(["queue", "pause", "--wait", "--timeout", "60s"]);
      await new Promise((resolve) => setTimeout(resolve, 1000));
      expect(await statusOf(held)).toBe("running");
      writeFileSync(gate, "");
      const drained = await draining;
      expect(drained.status).toBe(0);
      expect(drained.stderr).toContain("[ph-tasks] drained");
      expect(await statusOf(held)).toBe("completed");
    } finally {
      writeFileSync(gate, "");
      // A failure above must not leave the agent paused for the tests after this one.
      await agent.cli(["queue", "resume"]);
    }
    expect((await agent.cli(["queue", "status"])).stdout).toBe("running: no type is paused\n");
  });

  it("queue limit / status / limit --off: a rate-limited type starts its window's worth, the rest wait; bad rates are refused", async () => {
    const url = await agent.url;
    const statusOf = async (id: string) => ((await (await fetch(`${url}/api/tasks/${id}`)).json()) as { task: ApiTask }).task.status;
    try {
      const limited = await agent.cli(["queue", "limit", "cli", "2/h", "--reason", "shared runner"]);
      expect(limited.stdout).toBe("limited cli  2/h  (0 in the current window)  shared runner\n");
      const ids: string[] = [];
      for (let i = 0; i < 3; i++) ids.push((await agent.cli(["submit", "cli", "--", "echo", `run ${i}`])).stdout.trim());
      await waitFor(async () => ((await Promise.all(ids.map(statusOf))).filter((s) => s === "completed").length === 2 ? true : undefined), 15_000, "two runs");
      await new Promise((resolve) => setTimeout(resolve, 800));
      expect((await Promise.all(ids.map(statusOf))).filter((s) => s === "pending")).toHaveLength(1);
      expect((await agent.cli(["queue", "status"])).stdout).toMatch(/^running: no type is paused\nlimited cli {2}2\/h {2}\(2 in the current window, full until \S+\) {2}shared runner\n$/);

      const badRate = await agent.cli(["queue", "limit", "cli", "2/fortnight"]);
      expect(badRate.status).toBe(2);
      expect(badRate.stderr).toContain("rate: expected starts per window like 10/min, 100/h or 5/30s, got '2/fortnight'");
      const badType = await agent.cli(["queue", "limit", "clli", "2/30d"]);
      expect(badType.status).toBe(2);
      expect(badType.stderr).toContain("taskType: must be one of approval, claude-agent, claude-code, cli");

      expect((await agent.cli(["queue", "limit", "cli", "--off"])).stdout).toBe("cli: no rate limit\n");
      await waitFor(async () => ((await Promise.all(ids.map(statusOf))).every((s) => s === "completed") ? true : undefined), 15_000, "the third run once lifted");
    } finally {
      // A failure above must not leave the agent limited for the tests after this one.
      await fetch(`${url}/api/queue/rate-limits/cli`, { method: "DELETE" });
    }
  });

  it("queue concurrency / status / --off: one cli task at a time across the cluster, the next waits and says why; bad numbers are refused", async () => {
    const url = await agent.url;
    const get = async (id: string) => ((await (await fetch(`${url}/api/tasks/${id}`)).json()) as { task: ApiTask & { waiting?: { code: string }; startedAt?: string; finishedAt?: string } }).task;
    let first = "";
    try {
      expect((await agent.cli(["queue", "concurrency", "cli", "1", "--reason", "one runner"])).stdout).toBe("capped cli  at most 1 running at once  (0 running now)  one runner\n");
      first = (await agent.cli(["submit", "cli", "--", "sleep", "60"])).stdout.trim();
      const second = (await agent.cli(["submit", "cli", "--", "echo", "after"])).stdout.trim();
      await waitFor(async () => ((await get(first)).status === "running" ? true : undefined), 15_000, "the first to run");
      expect(await get(second)).toMatchObject({ status: "pending", waiting: { code: "type_busy" } });
      expect((await agent.cli(["show", second])).stdout).toContain("1 task(s) of its type running across all workers; at most 1 at once (one runner)");
      expect((await agent.cli(["queue", "status"])).stdout).toContain("capped cli  at most 1 running at once  (1 running now, full)  one runner\n");
      const bad = await agent.cli(["queue", "concurrency", "cli", "some"]);
      expect(bad.status).toBe(2);
      expect(bad.stderr).toContain("max: expected a whole number of tasks like 2 (or --off to lift the cap), got 'some'");
      expect((await agent.cli(["queue", "concurrency", "cli", "0"])).stderr).toContain("max: ");
      expect((await get(second)).status).toBe("pending");
      expect((await agent.cli(["cancel", first])).status).toBe(0);
      await waitFor(async () => ((await get(second)).status === "completed" ? true : undefined), 15_000, "the second after the first");
      expect(Date.parse(String((await get(second)).startedAt))).toBeGreaterThanOrEqual(Date.parse(String((await get(first)).finishedAt)));
      expect((await agent.cli(["queue", "concurrency", "cli", "--off"])).stdout).toBe("cli: no concurrency cap\n");
    } finally {
      await fetch(`${url}/api/queue/concurrency/cli`, { method: "DELETE" });
      if (first) await fetch(`${url}/api/tasks/${first}/cancel`, { method: "POST" });
    }
  });

  it("apply / export: a workflow file made real, idempotent, changed in place, pruned; a refused item named, the rest applied", async () => {
    const file = path.join(dir, "workflows.json");
    const workflows = {
      templates: [{ name: "wf-greet", description: "says hello", task: { type: "cli", title: "greet {{params.who}}", command: "echo", args: ["hello {{params.who}}"] } }],
      schedules: [{ name: "wf-nightly", cron: "0 3 * * *", task: { template: "wf-greet", params: { who: "night" } } }],
      hooks: [{ name: "wf-build", task: { type: "cli", title: "build {{body.ref}}", command: "true" }, signing: "timestamped", rateLimit: { max: 10, per: "1m" } }],
      webhooks: [{ name: "wf-alerts", url: "http://127.0.0.1:9/alerts", events: ["failed"], enabled: false, rateLimit: { max: 30, per: "1m" } }],
      rateLimits: [{ type: "claude-code", max: 50, per: "1m" }],
      concurrency: [{ type: "claude-code", max: 2, reason: "two seats" }],
    };
    writeFileSync(file, JSON.stringify(workflows));
    const first = await agent.cli(["apply", file]);
    expect(first.status).toBe(0);
    expect(first.stdout).toMatch(/^template wf-greet: created\nschedule wf-nightly: created\nhook wf-build: created — secret \S+ \(shown once\)\nwebhook wf-alerts: created — secret \S+ \(shown once\)\nrate limit claude-code: created\nconcurrency cap claude-code: created\n$/);
    const again = await agent.cli(["apply", file]);
    expect(again.stdout).toBe("template wf-greet: unchanged\nschedule wf-nightly: unchanged\nhook wf-build: unchanged\nwebhook wf-alerts: unchanged\nrate limit claude-code: unchanged\nconcurrency cap claude-code: unchanged\n");

    // export gives the file back, with the defaults the agent filled in; no secrets.
    const exported = JSON.parse((await agent.cli(["export"])).stdout) as Record<string, Record<string, unknown>[]>;
    expect(exported.schedules?.find((s) => s.name === "wf-nightly")).toEqual({ name: "wf-nightly", cron: "0 3 * * *", timezone: "UTC", overlap: "skip", enabled: true, task: { template: "wf-greet", params: { who: "night" } } });
    expect(exported.webhooks?.find((w) => w.name === "wf-alerts")).toEqual({ name: "wf-alerts", url: "http://127.0.0.1:9/alerts", events: ["failed"], taskType: null, driveId: null, enabled: false, rateLimit: { max: 30, per: 60_000 } });
    expect(exported.hooks?.find((h) => h.name === "wf-build")).toEqual({ name: "wf-build", task: { type: "cli", title: "build {{body.ref}}", command: "true" }, enabled: true, signing: "timestamped", rateLimit: { max: 10, per: 60_000 } });
    expect(exported.rateLimits).toEqual([{ type: "claude-code", max: 50, per: "1m", reason: "" }]);
    expect(exported.concurrency).toEqual([{ type: "claude-code", max: 2, reason: "two seats" }]);
    expect(JSON.stringify(exported)).not.toContain("secret");

    // Changed in place; a refused item is named and the others still apply.
    const changed = { ...workflows, schedules: [{ ...workflows.schedules[0]!, cron: "30 4 * * *" }, { name: "wf-broken", cron: "nope", task: { type: "cli", title: "x", command: "true" } }], webhooks: [], rateLimits: [{ type: "claude-code", max: 50, per: 3_600_000 }, { type: "cli", max: 0, per: "1m" }], concurrency: [] };
    writeFileSync(file, JSON.stringify(changed));
    const dry = await agent.cli(["apply", file, "--dry-run", "--prune"]);
    expect(dry.stdout).toContain("schedule wf-nightly: would be updated (cron)");
    expect(dry.stdout).toContain("webhook wf-alerts: would be removed");
    expect(dry.stdout).toContain("rate limit claude-code: would be updated (per)");
    expect(dry.stdout).toContain("rate limit cli: would be created");
    expect(dry.stdout).toContain("concurrency cap claude-code: would be removed");
    const applied = await agent.cli(["apply", file, "--prune"]);
    expect(applied.status).toBe(2);
    expect(applied.stdout).toContain("rate limit claude-code: updated (per)\n");
    expect(applied.stdout).toMatch(/rate limit cli: refused: .*\n {2}max: /);
    expect(applied.stdout).toContain("schedule wf-nightly: updated (cron)\n");
    expect(applied.stdout).toMatch(/schedule wf-broken: refused: .*\n {2}cron: not a usable cron expression/);
    expect(applied.stdout).toContain("webhook wf-alerts: removed\n");
    expect(applied.stdout).toContain("concurrency cap claude-code: removed\n");
    expect(applied.stderr).toContain("apply: the agent refused 2 item(s); the rest are applied");
    expect((await agent.cli(["schedule", "show", "wf-nightly", "--json"])).stdout).toContain('"cron": "30 4 * * *"');
    expect((await agent.cli(["webhook", "show", "wf-alerts"])).status).toBe(4);

    writeFileSync(file, JSON.stringify({ concurrency: [{ type: "cli", max: 1 }, { type: "cli", max: 2 }] }));
    expect((await agent.cli(["apply", file])).stderr).toContain("concurrency names type 'cli' twice");
    writeFileSync(file, JSON.stringify({ schedules: [{ name: "x", cron: "@daily" }], extra: 1 }));
    const bad = await agent.cli(["apply", file]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("schedules.0.task");
    expect(bad.stderr).toContain("(root)");
    for (const [kind, name] of [["schedule", "wf-nightly"], ["hook", "wf-build"], ["template", "wf-greet"]] as const) await agent.cli([kind, "rm", name]);
    expect((await agent.cli(["queue", "limit", "claude-code", "--off"])).status).toBe(0);
  });

  it("retry --all / cancel --all: by filter, with a dry run first", async () => {
    const failed = (await agent.cli(["submit", "cli", "--max-attempts", "1", "--", "sh", "-c", "echo bulk; exit 3"])).stdout.trim();
    expect((await agent.cli(["logs", failed, "--follow"])).status).toBe(1);
    const dry = await agent.cli(["retry", "--all", "--type", "cli", "--dry-run"]);
    expect(dry.stdout).toContain(failed);
    expect(dry.stdout).toMatch(/\d+ task\(s\) would be retried\n$/);
    const retried = await agent.cli(["retry", "--all", "--type", "cli", "--json"]);
    expect((JSON.parse(retried.stdout) as { retried: string[] }).retried).toContain(failed);
    // Tags: given by submit, found by list, retried by.
    const tagged = (await agent.cli(["submit", "cli", "--tag", "bulk-test", "--max-attempts", "1", "--", "false"])).stdout.trim();
    expect((await agent.cli(["logs", tagged, "--follow"])).status).toBe(1);
    expect((await agent.cli(["list", "--tag", "bulk-test"])).stdout).toContain("1 of 1 task(s)");
    expect((await agent.cli(["retry", "--all", "--tag", "bulk-test", "--dry-run"])).stdout).toBe(`${tagged}\n1 task(s) would be retried\n`);
    const usage = await agent.cli(["cancel"]);
    expect(usage.status).toBe(2);
    expect(usage.stderr).toContain("cancel: give a task id, or --all");
    expect((await agent.cli(["cancel", failed, "--all"])).status).toBe(2);
  });

  it("webhook add / show / deliveries: a failed task's end is POSTed, signed, to the agent's own inbound hook, which runs the follow-up task", async () => {
    const url = await agent.url;
    const followUp = JSON.stringify({ type: "cli", title: "after {{body.task.title}}", command: "echo", args: ["cleaning up after {{body.task.id}}: {{body.task.error.message}}"] });
    const hook = await agent.cli(["hook", "add", "on-failure", "--task", followUp]);
    const secret = /secret (\S+)/.exec(hook.stdout)?.[1] ?? "";
    // Signed with the hook's secret, so the hook accepts it; its delivery id is the hook's idempotency key.
    const added = await agent.cli(["webhook", "add", "failures", "--to", `${url}/hooks/on-failure`, "--on", "failed", "--type", "cli", "--secret", secret]);
    expect(added.stderr).toBe("");
    expect(added.stdout).toContain(`failures  active  POST ${url}/hooks/on-failure`);
    expect(added.stdout).toContain("on failed (type cli); delivered 0, pending 0, dead 0");
    expect(added.stdout).toContain(`secret ${secret}`);

    const failing = (await (await fetch(`${url}/api/tasks`, { method: "POST", headers: { "Content-Type": "application/json" }, body: JSON.stringify({ type: "cli", title: "doomed", command: "false", maxAttempts: 1 }) })).json()) as { task: { id: string } };
    const after = await waitFor(async () => {
      const { tasks } = (await (await fetch(`${url}/api/tasks?status=completed`)).json()) as { tasks: ApiTask[] };
      return tasks.find((t) => t.source?.origin === "hook:on-failure");
    }, 30_000, "the follow-up task");
    expect(after.title).toBe("after doomed");
    expect((await agent.cli(["logs", after.id])).stdout).toMatch(new RegExp(`^cleaning up after ${failing.task.id}: .+\n$`));

    // (the sender records the hook's answer a moment after the hook made the task)
    const shown = await waitFor(async () => { const out = await agent.cli(["webhook", "show", "failures"]); return out.stdout.includes("delivered 1, pending 0, dead 0") ? out : undefined; }, 15_000, "the delivery recorded");
    expect(shown.stdout).toMatch(new RegExp(`delivered {2}task.failed {2}task ${failing.task.id} {2}attempts 1`));
    const listed = JSON.parse((await agent.cli(["webhook", "deliveries", "failures", "--json"])).stdout) as { status: string; lastStatus: number }[];
    expect(listed).toEqual([expect.objectContaining({ status: "delivered", lastStatus: 202 })]);
    const bad = await agent.cli(["webhook", "add", "nope", "--to", "ftp://example.com", "--on", "finished"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain("url: must be an http or https URL");
    expect(bad.stderr).toContain('events.0: must be one of completed, failed, cancelled, started, retrying, awaiting_approval, pipeline.completed, pipeline.failed, pipeline.cancelled, pipeline.blocked, budget.spent, budget.available, budget.nearly_spent, budget.changed, budget.drive_spent, budget.drive_available, budget.drive_nearly_spent, budget.person_spent, budget.person_available, budget.person_nearly_spent (got "finished")');
    expect((await agent.cli(["webhook", "rm", "failures"])).status).toBe(0);
    // A ping, to a webhook of its own (to the hook above it would make a task): this URL answers
    // 404, which the delivery records and tries again later.
    expect((await agent.cli(["webhook", "add", "pings", "--to", `${url}/no-such-endpoint`])).status).toBe(0);
    const pinged = await agent.cli(["webhook", "ping", "pings"]);
    expect(pinged.stdout).toMatch(/^\S+ {2}pending {2}ping {2}attempts 0/);
    const tried = await waitFor(async () => {
      const [ping] = JSON.parse((await agent.cli(["webhook", "deliveries", "pings", "--json"])).stdout) as { event: string; attempts: number; lastStatus: number | null; lastError: string | null }[];
      return ping && ping.attempts > 0 && ping.lastStatus !== null ? ping : undefined;
    }, 15_000, "the ping tried");
    expect(tried).toMatchObject({ event: "ping", lastStatus: 404 });
    expect(tried.lastError).toMatch(/^HTTP 404: .*no such endpoint/);
    // pause, resume and rotate answer with the webhook as it is then; rotate shows the new secret once.
    expect((await agent.cli(["webhook", "pause", "pings"])).stdout).toMatch(/^pings {2}paused {2}POST /);
    expect((await agent.cli(["webhook", "resume", "pings"])).stdout).toMatch(/^pings {2}active {2}POST /);
    const rotated = /secret (\S+)/.exec((await agent.cli(["webhook", "rotate", "pings"])).stdout)?.[1];
    expect(rotated).toMatch(/^\S{16,}$/);
    expect((await agent.cli(["webhook", "show", "pings"])).stdout).not.toContain(rotated);
    // queue status names what holds deliveries back too: the webhook's rate limit.
    expect((await agent.cli(["queue", "status"])).stdout).not.toContain("webhook pings");
    expect((await agent.cli(["webhook", "limit", "pings", "1/s"])).status).toBe(0);
    expect((await agent.cli(["queue", "status"])).stdout).toMatch(/^webhook pings {2}at most 1\/s \(\d in the current window(, full until \S+)?\)$/m);
    expect(JSON.parse((await agent.cli(["queue", "status", "--json"])).stdout)).toMatchObject({ webhooks: [{ name: "pings", rateLimit: { max: 1, perMs: 1000 }, held: null }] });
    expect((await agent.cli(["webhook", "rm", "pings"])).status).toBe(0);
    expect((await agent.cli(["webhook", "list"])).stdout).toBe("no webhooks\n");
    const gone = await agent.cli(["webhook", "show", "pings"]);
    expect(gone.status).toBe(4);
  }, 120_000); // some twenty CLI processes, each loading TypeScript: 45-75 s on this machine

  it("webhook add --rate / limit: the limit is shown with the webhook; a bad rate is refused before anything is sent; --off lifts it", async () => {
    const url = await agent.url;
    expect((await agent.cli(["webhook", "add", "limited", "--to", `${url}/no-such-endpoint`, "--rate", "2/min"])).stdout).toContain("\n  at most 2/min (0 in the current window)");
    expect((await agent.cli(["webhook", "limit", "limited", "2/fortnight"])).stderr).toContain("rate: expected deliveries per window like 10/min, 100/h or 5/30s, got '2/fortnight'");
    expect((await agent.cli(["webhook", "limit", "limited", "--off"])).stdout).not.toContain("at most");
    expect((await agent.cli(["webhook", "rm", "limited"])).status).toBe(0);
  });

  it("webhook show says a receiver's 503 holds the webhook, until when and why; webhook lift sends at once", async () => {
    await agent.url; // up before its CLI is used
    let answer = 503;
    const got: number[] = [];
    const busy = createServer((req, res) => { req.resume(); req.on("end", () => { got.push(answer); res.writeHead(answer, answer === 503 ? { "Retry-After": "3600" } : {}).end(); }); });
    await new Promise<void>((resolve) => busy.listen(0, "127.0.0.1", resolve));
    try {
      expect((await agent.cli(["webhook", "add", "busy", "--to", `http://127.0.0.1:${(busy.address() as AddressInfo).port}/ph`])).status).toBe(0);
      expect((await agent.cli(["webhook", "ping", "busy"])).status).toBe(0);
      const shown = await waitFor(async () => { const out = (await agent.cli(["webhook", "show", "busy"])).stdout; return out.includes("held until") ? out : undefined; }, 15_000, "the hold shown");
      expect(shown).toMatch(/\n {2}held until \S+: its receiver answered HTTP 503 \(`webhook lift` sends at once\)/);
      answer = 200;
      const lifted = await agent.cli(["webhook", "lift", "busy"]);
      expect(lifted.stdout).not.toContain("held until");
      await waitFor(() => (got.length === 2 ? true : undefined), 15_000, "the ping sent again after the lift");
      expect(got).toEqual([503, 200]);
      expect((await agent.cli(["webhook", "rm", "busy"])).status).toBe(0);
    } finally {
      busy.closeAllConnections();
      await new Promise((resolve) => busy.close(resolve));
    }
  });
});
