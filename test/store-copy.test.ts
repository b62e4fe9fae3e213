/**
 * `ph-tasks store copy` (src/store/store-copy.ts) on real stores: a real agent's embedded store,
 * filled through the CLI (tasks that completed, failed, wait for later and for another; a
 * schedule, a webhook and its deliveries, a person's budget) and a kept conversation's bytes, copied
 * into a PostgreSQL schema while the agent is stopped — refused, naming it, while it runs. Every
 * table copied holds the same rows on both sides (timestamps to the microsecond, bytes, arrays,
 * JSON); an agent on the copy lists the same tasks, schedules and budgets, sends no delivery twice
 * and goes on (new events numbered after the copied ones, webhooks told of new tasks). Back from
 * PostgreSQL into a new data directory likewise. A store that is not new, the same store on both
 * sides, other schema versions and bad flags are refused, naming why, and nothing is written.
 */
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync } from "node:fs";
import os, { tmpdir } from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { LATEST_MIGRATION } from "../src/store/migrate.js";
import type { Queryable } from "../src/store/db.js";
import { listStoreTables } from "../src/store/sql/store-copy/list-store-tables.js";
import { ConversationStore } from "../src/store/conversation-store.js";
import { copyStore, NOT_COPIED } from "../src/store/store-copy.js";
import { TaskStore } from "../src/store/task-store.js";
import { AgentProcess } from "./support/agent-process.js";
import { testManager } from "./support/manager.js";
import { phTasks } from "./support/ph-tasks-cli.js";
import { sleep, waitFor } from "./support/process.js";
import { dropSchema, postgresAvailable, TEST_DATABASE_URL, uniqueSchema } from "./support/stores.js";
import { startReceiver } from "./support/webhook-receiver.js";

/** A URL that puts the store in `schema` (the agent's own stores live in the connection's first schema). */
const urlOf = (schema: string) => `${TEST_DATABASE_URL}${TEST_DATABASE_URL.includes("?") ? "&" : "?"}options=${encodeURIComponent(`-c search_path=${schema}`)}`;

/** Every copied table's rows as JSON text, sorted (the same text on both sides: time zone UTC). */
async function contents(store: TaskStore): Promise<Record<string, string[]>> {
  const tables = (await listStoreTables(store.db)).filter((t) => !NOT_COPIED.has(t.name));
  return store.db.transaction(async (tx: Queryable) => {
    await tx.query("SET LOCAL TimeZone = 'UTC'");
    const all: Record<string, string[]> = {};
    for (const t of tables) all[t.name] = (await tx.query<{ r: string }>(`SELECT row_to_json(x)::text AS r FROM ${t.name} x`)).rows.map((row) => row.r).sort();
    return all;
  });
}

/** Takes the newest audit entry (the copy's own) out of a store's contents, and returns it. */
function withoutCopyEntry(tables: Record<string, string[]>): Record<string, unknown> | undefined {
  const entries = (tables.ph_audit ?? []).map((r) => JSON.parse(r) as { id: number });
  const newest = entries.reduce<{ id: number } | undefined>((max, e) => (max === undefined || e.id > max.id ? e : max), undefined);
  tables.ph_audit = (tables.ph_audit ?? []).filter((r) => (JSON.parse(r) as { id: number }).id !== newest?.id);
  return newest;
}

describe.skipIf(!postgresAvailable)("ph-tasks store copy: an agent's embedded store into PostgreSQL and back", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ph-store-copy-"));
  const dataDir = path.join(dir, "data");
  const schema = uniqueSchema("copy");
  const agents: AgentProcess[] = [];
  const schemas = [schema];
  const transcript = randomBytes(300_000);
  let firstId = "";
  const closers: (() => Promise<void>)[] = [];
  afterAll(async () => {
    for (const a of agents) await a.stop("SIGKILL");
    for (const close of closers) await close();
    for (const s of schemas) await dropSchema(s);
  });
  const agentOn = (env: Record<string, string>) => {
    const agent = new AgentProcess(dir, { TASK_SHUTDOWN_GRACE_MS: "100", TASK_WEBHOOK_POLL_MS: "200", ...env });
    agents.push(agent);
    return agent;
  };

  it("refuses while the agent runs on the data directory, naming it; stopped, copies every table as it is, and an agent on PostgreSQL goes on from there", async () => {
    const receiver = await startReceiver();
    closers.push(receiver.close);
    const embedded = agentOn({ TASK_DATA_DIR: dataDir });
    expect((await embedded.cli(["webhook", "add", "tell", "--to", `${receiver.url}/ph`, "--on", "completed,failed"])).status).toBe(0);
    firstId = (await embedded.cli(["submit", "cli", "--", "echo", "copied"])).stdout.trim();
    expect((await embedded.cli(["logs", firstId, "--follow"])).stdout).toBe("copied\n");
    const failed = (await embedded.cli(["submit", "cli", "--max-attempts", "1", "--", "sh", "-c", "echo no; exit 3"])).stdout.trim();
    const later = (await embedded.cli(["submit", "cli", "--in", "1h", "--", "echo", "later"])).stdout.trim();
    const after = (await embedded.cli(["submit", "cli", "--after", later, "--", "echo", "after"])).stdout.trim();
    expect((await embedded.cli(["schedule", "add", "nightly", "0 3 * * *", "--task", '{"type":"cli","title":"nightly","command":"echo","args":["n"]}'])).status).toBe(0);
    expect((await embedded.cli(["budget", "person", "set", "bob", "2", "--reason", "a trial"])).status).toBe(0);
    await waitFor(() => (receiver.received.length >= 2 ? true : undefined), 15_000, "the webhook's two deliveries");

    // Running: refused, naming the agent; nothing is made on the server.
    const refused = await phTasks(["store", "copy", "--to", urlOf(schema)], { TASK_DATA_DIR: dataDir });
    expect(refused.status).toBe(2);
    expect(refused.stderr).toContain(`the data directory ${dataDir} is in use by ph-tasks serve (pid ${embedded.child.pid},`);
    expect(await schemaTables(schema)).toBe(0);

    expect(await embedded.stop("SIGTERM")).toBe(0);
    // A conversation kept for a follow-up: bytes.
    const source = await TaskStore.open({ dataDir: path.join(dataDir, "store") });
    expect(await new ConversationStore(source.db).save(firstId, 1, { sessionId: "session-1", transcript })).toBe(true);
    await source.close();

    // The schema named in the URL must be there: the copy names it when it is not.
    const missing = await phTasks(["store", "copy", "--to", urlOf(schema)], { TASK_DATA_DIR: dataDir });
    expect(missing.status).toBe(2);
    expect(missing.stderr).toContain(`--to ${urlOf(schema)}: the store cannot be opened: no schema has been selected to create in`);
    await createSchema(schema);
    const copy = await phTasks(["store", "copy", "--to", urlOf(schema), "--json"], { TASK_DATA_DIR: dataDir });
    expect(copy.stderr).toBe("");
    expect(copy.status).toBe(0);
    const report = JSON.parse(copy.stdout) as { from: string; tasks: number; tables: { table: string; rows: number }[] };
    expect(report.from).toBe(dataDir);
    expect(report.tasks).toBe(4);
    expect(report.tables.find((t) => t.table === "ph_webhook_deliveries")?.rows).toBe(2);

    // The same rows in every table copied; the conversation's bytes read back whole.
    const [from, to] = [await TaskStore.open({ dataDir: path.join(dataDir, "store") }), await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema })];
    try {
      const [a, b] = [await contents(from), await contents(to)];
      expect(Object.keys(b).sort()).toEqual(Object.keys(a).sort());
      // The audit log has one entry more: the copy, who ran it and from where.
      const copyEntry = withoutCopyEntry(b);
      expect(copyEntry).toMatchObject({ actor: os.userInfo().username, via: "cli", action: "ph-tasks store copy", outcome: "done", detail: `copied from ${dataDir}: 4 tasks, schema version ${LATEST_MIGRATION}` });
      for (const table of Object.keys(a)) expect({ table, rows: b[table] }).toEqual({ table, rows: a[table] });
      expect(a.ph_tasks).toHaveLength(4);
      expect(a.ph_conversations).toHaveLength(1);
      expect(report.tables.filter((t) => t.rows > 0).map((t) => [t.table, t.rows])).toEqual(Object.entries(a).filter(([, rows]) => rows.length > 0).map(([table, rows]) => [table, rows.length]).sort((x, y) => report.tables.findIndex((t) => t.table === x[0]) - report.tables.findIndex((t) => t.table === y[0])));
      expect((await new ConversationStore(to.db).load(firstId))?.transcript.equals(transcript)).toBe(true);
    } finally {
      await from.close();
      await to.close();
    }

    // An agent on the copy (its documents still in the data directory): the same tasks, schedule and budget.
    const onPostgres = agentOn({ DATABASE_URL: urlOf(schema), TASK_DATA_DIR: dataDir });
    const listed = JSON.parse((await onPostgres.cli(["list", "--json"])).stdout) as { tasks: { id: string; status: string }[] };
    expect(Object.fromEntries(listed.tasks.map((t) => [t.id, t.status]))).toEqual({ [firstId]: "completed", [failed]: "failed", [later]: "pending", [after]: "pending" });
    expect((await onPostgres.cli(["schedule", "list"])).stdout).toContain("nightly");
    expect((await onPostgres.cli(["budget", "person", "show", "bob"])).stdout).toContain("$2.00");
    expect((await onPostgres.cli(["logs", firstId])).stdout).toBe("copied\n");
    // Delivered before the copy: not sent again. A new task is told (the triggers are on again), its events numbered after the copied.
    await sleep(1000);
    expect(receiver.received).toHaveLength(2);
    const next = (await onPostgres.cli(["submit", "cli", "--", "echo", "next"])).stdout.trim();
    expect((await onPostgres.cli(["logs", next, "--follow"])).stdout).toBe("next\n");
    await waitFor(() => (receiver.received.length >= 3 ? true : undefined), 15_000, "the new task's delivery");
    expect(receiver.received.map((r) => r.json.task.id)).toEqual(expect.arrayContaining([firstId, failed, next]));
    expect(receiver.received).toHaveLength(3);
    expect(await onPostgres.stop("SIGTERM")).toBe(0);
  }, 180_000);

  it("copies back from PostgreSQL into a new data directory: the same rows, and an agent there lists the tasks", async () => {
    const back = path.join(dir, "back");
    const copy = await phTasks(["store", "copy", "--from", urlOf(schema), "--to", back], {});
    expect(copy.stderr).toBe(`copying the task store of ${urlOf(schema)} into ${back}…\n`);
    expect(copy.status).toBe(0);
    expect(copy.stdout).toMatch(/^ph_tasks +5$/m);
    expect(copy.stdout).toContain(`copied 5 tasks (`);
    expect(copy.stdout).toContain(`start the agent with TASK_DATA_DIR=${back}`);
    const [from, to] = [await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema }), await TaskStore.open({ dataDir: path.join(back, "store") })];
    try {
      const copied = await contents(to);
      expect(withoutCopyEntry(copied)).toMatchObject({ action: "ph-tasks store copy", detail: `copied from ${urlOf(schema)}: 5 tasks, schema version ${LATEST_MIGRATION}` });
      expect(copied).toEqual(await contents(from));
    } finally {
      await from.close();
      await to.close();
    }
    const embedded = agentOn({ TASK_DATA_DIR: back });
    const listed = JSON.parse((await embedded.cli(["list", "--json"])).stdout) as { tasks: { id: string }[] };
    expect(listed.tasks.map((t) => t.id)).toContain(firstId);
    expect(await embedded.stop("SIGTERM")).toBe(0);
  }, 120_000);

  it("walks big tables in several batches: 20,000 events over many pages, nine conversations of bytes a few at a time", async () => {
    const big = path.join(dir, "big");
    mkdirSync(big, { mode: 0o700 });
    const source = await TaskStore.open({ dataDir: path.join(big, "store") });
    await source.db.query(
      `INSERT INTO ph_tasks (id, type, title, status, priority, rank_at, max_attempts, timeout_ms)
       SELECT 'big-' || g, 'cli', 'big ' || g, 'completed', 50, now(), 1, 1000 FROM generate_series(1, 9) g`,
    );
    await source.db.query(`INSERT INTO ph_task_events (task_id, kind, stream, data) SELECT 'big-' || (g % 9 + 1), 'output', 'stdout', 'line ' || g FROM generate_series(1, 20000) g`);
    const transcripts = Array.from({ length: 9 }, () => randomBytes(50_000));
    for (const [i, bytes] of transcripts.entries()) await new ConversationStore(source.db).save(`big-${i + 1}`, 1, { sessionId: `s${i}`, transcript: bytes });
    const pages = Number((await source.db.query<{ n: string }>("SELECT pg_relation_size('ph_task_events') / 8192 AS n")).rows[0]?.n);
    expect(pages).toBeGreaterThan(64 * 2); // several page ranges
    await source.close();

    const into = uniqueSchema("copy");
    schemas.push(into);
    await createSchema(into);
    const report = await copyStore({ kind: "dir", dir: big }, { kind: "postgres", url: urlOf(into) });
    expect(report.tables.filter((t) => ["ph_tasks", "ph_task_events", "ph_conversations"].includes(t.table)).map((t) => [t.table, t.rows])).toEqual([
      ["ph_tasks", 9],
      ["ph_conversations", 9],
      ["ph_task_events", 20000],
    ]);
    const [from, to] = [await TaskStore.open({ dataDir: path.join(big, "store") }), await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema: into })];
    try {
      const copied = await contents(to);
      withoutCopyEntry(copied);
      expect(copied).toEqual(await contents(from));
      for (const [i, bytes] of transcripts.entries()) expect((await new ConversationStore(to.db).load(`big-${i + 1}`))?.transcript.equals(bytes)).toBe(true);
      // Numbered after the copied: the next event's seq is past the largest copied.
      const max = Number((await to.db.query<{ m: string }>("SELECT max(seq) AS m FROM ph_task_events")).rows[0]?.m);
      const next = await to.db.query<{ seq: string }>("INSERT INTO ph_task_events (task_id, kind, data) VALUES ('big-1', 'output', 'next') RETURNING seq");
      expect(Number(next.rows[0]?.seq)).toBe(max + 1);
    } finally {
      await from.close();
      await to.close();
    }
  }, 120_000);

  it("--move marks the old embedded store: an agent there without DATABASE_URL refuses to start, naming where it went; with it, it runs on the copy", async () => {
    const big = path.join(dir, "big"); // the store of the test above: nine tasks
    const [kept, moved] = [uniqueSchema("copy"), uniqueSchema("copy")];
    schemas.push(kept, moved);
    await createSchema(kept);
    await createSchema(moved);
    // A plain copy leaves the old store as it was, and says what that means.
    const plain = await phTasks(["store", "copy", "--from", big, "--to", urlOf(kept)], {});
    expect(plain.status).toBe(0);
    expect(plain.stderr).toContain(`the old store in ${big} is unchanged: an agent started on it again would run its pending tasks and schedules a second time (--move marks it so that none starts there)`);
    const copy = await phTasks(["store", "copy", "--from", big, "--to", urlOf(moved), "--move"], {});
    expect(copy.status).toBe(0);
    expect(copy.stdout).toContain(`the old store in ${big} is marked moved: an agent started there without DATABASE_URL refuses to (remove ${big}/store/moved.json to run on it anyway)`);

    const refused = agentOn({ TASK_DATA_DIR: big });
    await expect(refused.url).rejects.toThrow(`TASK_DATA_DIR: the task store in ${big}/store was moved to ${urlOf(moved)} at `);
    expect(refused.stderr).toContain(`(ph-tasks store copy --move): an agent here would run its tasks and schedules a second time — start the agents with DATABASE_URL=${urlOf(moved)} (this TASK_DATA_DIR keeps the documents), or, to run on this old copy anyway, remove ${big}/store/moved.json`);
    const doctor = await phTasks(["doctor"], { TASK_DATA_DIR: big, PH_TASKS_URL: "http://127.0.0.1:9" });
    expect(doctor.stdout).toMatch(new RegExp(`^fail  task store +the task store in ${big}/store was moved to `, "m"));

    const onCopy = agentOn({ TASK_DATA_DIR: big, DATABASE_URL: urlOf(moved) });
    const listed = JSON.parse((await onCopy.cli(["list", "--json"])).stdout) as { tasks: { id: string }[] };
    expect(listed.tasks.map((t) => t.id)).toContain("big-1");
    expect(await onCopy.stop("SIGTERM")).toBe(0);
    // Only a data directory's store is marked: a PostgreSQL one's workers are stopped by hand.
    const fromServer = await phTasks(["store", "copy", "--from", urlOf(moved), "--to", path.join(dir, "elsewhere"), "--move"], {});
    expect(fromServer.status).toBe(2);
    expect(fromServer.stderr).toContain("--move: only an embedded store (a data directory) is marked moved");
  }, 120_000);

  it("copies a PostgreSQL store while its worker runs tasks and more are asked for: the copy is one instant's", async () => {
    const live = uniqueSchema("copy");
    schemas.push(live);
    const store = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema: live });
    const manager = testManager(store, { maxConcurrent: 4, maxPerDocument: 10, maxPerDrive: 10 });
    await manager.start();
    let asking = true;
    const asked = (async () => {
      let n = 0;
      while (asking) {
        await manager.enqueueTask({ type: "cli", title: `busy ${n++}`, command: "echo", args: ["busy"] });
        await sleep(5);
      }
      return n;
    })();
    try {
      await waitFor(async () => ((await manager.listTasks({ status: ["completed"], limit: 30, offset: 0 })).tasks.length >= 30 ? true : undefined), 30_000, "30 tasks to complete");
      const copy = path.join(dir, "live");
      const report = await copyStore({ kind: "postgres", url: urlOf(live) }, { kind: "dir", dir: copy });
      asking = false;
      expect(await asked).toBeGreaterThan(report.tasks); // more were asked for after the instant copied
      const copied = await TaskStore.open({ dataDir: path.join(copy, "store") });
      try {
        // One instant: no event of a task the copy does not hold, and each task's title row (written with it) copied with it.
        const orphans = await copied.db.query("SELECT DISTINCT e.task_id FROM ph_task_events e LEFT JOIN ph_tasks t ON t.id = e.task_id WHERE t.id IS NULL");
        expect(orphans.rows).toEqual([]);
        const untitled = await copied.db.query("SELECT t.id, x.task_id FROM ph_tasks t FULL JOIN ph_task_titles x ON x.task_id = t.id WHERE t.id IS NULL OR x.task_id IS NULL");
        expect(untitled.rows).toEqual([]);
        expect(report.tasks).toBeGreaterThanOrEqual(30);
      } finally {
        await copied.close();
      }
    } finally {
      asking = false;
      await asked;
      await manager.stop(0);
      await store.close();
    }
  }, 120_000);

  it("refuses a store that is not new, the same store twice, another schema version and bad flags, naming why; nothing is written", async () => {
    const notNew = await phTasks(["store", "copy", "--to", urlOf(schema)], { TASK_DATA_DIR: dataDir });
    expect(notNew.status).toBe(2);
    expect(notNew.stderr).toMatch(/the store copied into must be new, and this one holds rows \(.*ph_tasks 5/);
    const same = await phTasks(["store", "copy", "--from", dataDir, "--to", `${dataDir}/`], {});
    expect(same.status).toBe(2);
    expect(same.stderr).toContain(`--from and --to are the same store (${dataDir})`);
    const twoWays = await phTasks(["store", "copy", "--from", urlOf(schema), "--to", urlOf(schema).replace("127.0.0.1", "localhost")], {});
    expect(twoWays.status).toBe(2);
    expect(twoWays.stderr).toContain("the same server, database and schema)");
    const none = await phTasks(["store", "copy", "--from", path.join(dir, "nothing"), "--to", path.join(dir, "new")], {});
    expect(none.status).toBe(2);
    expect(none.stderr).toContain(`--from ${path.join(dir, "nothing")}: no task store there`);
    const empty = await phTasks(["store", "copy", "--to", " "], {});
    expect(empty.status).toBe(2);
    expect(empty.stderr).toContain("--to: must name a PostgreSQL URL (postgres://…) or a data directory");

    // A store one migration ahead (a newer ph-tasks made it; older agents may still work on it).
    const newer = uniqueSchema("copy");
    schemas.push(newer);
    const made = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema: newer }); // (made with the schema)
    await made.db.query("INSERT INTO ph_tasks_migrations (version, name) VALUES (999, 'from a newer ph-tasks')");
    await made.close();
    const apart = await phTasks(["store", "copy", "--to", urlOf(newer)], { TASK_DATA_DIR: dataDir });
    expect(apart.status).toBe(2);
    expect(apart.stderr).toContain(`the store copied is at schema version ${LATEST_MIGRATION}, the new one at 999: copy with a ph-tasks that knows 999`);
    const check = await TaskStore.open({ databaseUrl: TEST_DATABASE_URL, schema: newer });
    expect(Number((await check.db.query<{ n: string }>("SELECT count(*) AS n FROM ph_tasks")).rows[0]?.n)).toBe(0);
    await check.close();
  }, 120_000);
});

async function createSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    await client.query(`CREATE SCHEMA ${schema}`);
  } finally {
    await client.end();
  }
}

/** How many tables `schema` holds on the server (0: none, or no such schema). */
async function schemaTables(schema: string): Promise<number> {
  const client = new pg.Client({ connectionString: TEST_DATABASE_URL });
  await client.connect();
  try {
    return Number((await client.query<{ n: string }>("SELECT count(*) AS n FROM information_schema.tables WHERE table_schema = $1", [schema])).rows[0]?.n);
  } finally {
    await client.end();
  }
}
