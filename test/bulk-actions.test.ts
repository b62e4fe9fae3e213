/**
 * Retry and cancel by filter through the HTTP API: only the tasks the filter matches, at most
 * `limit` with `more` saying others match, a dry run that changes nothing, a bad filter refused
 * with the field named.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { PauseStore } from "../src/store/pause-store.js";
import { TaskStore } from "../src/store/task-store.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./support/manager.js";
import { finalStatus, scriptedExecutor, type RunLog } from "./support/scripted-executor.js";
import { waitFor } from "./support/process.js";
import { serveApi } from "./support/api-server.js";

describe("retry and cancel by filter", () => {
  let store: TaskStore;
  let manager: TaskManager;
  let http: Awaited<ReturnType<typeof serveApi>>;
  let log: RunLog;
  const post = async (path: string, body: unknown) => {
    const res = await http.api(path, body);
    return { status: res.status, json: (await res.json()) as Record<string, unknown> & { retried?: string[]; cancelled?: string[]; skipped?: string[]; more?: boolean; errors?: { field: string; message: string }[] } };
  };
  const statusOf = async (id: string) => (await manager.getTask(id))?.status;

  beforeEach(async () => {
    store = await TaskStore.open({});
    log = [];
    manager = testManager(store, { maxPerDocument: 10, retry: { baseMs: 10, maxMs: 20 } }, cliRegistry("/tmp").register(scriptedExecutor(log)));
    await manager.start();
    http = await serveApi(manager);
  });
  afterEach(async () => {
    await http.close();
    await manager.stop(0);
    await store.close();
  });

  it("retries the failed tasks of one type, up to the limit with more saying others match, after a dry run that changes nothing", async () => {
    const failing = [];
    for (let i = 0; i < 3; i++) failing.push((await manager.enqueueTask({ type: "scripted", title: `flaky ${i}`, script: ["fatal"], maxAttempts: 1 })).task.id);
    const otherType = (await manager.enqueueTask({ type: "cli", title: "fails too", command: "false", maxAttempts: 1 })).task.id;
    const fine = (await manager.enqueueTask({ type: "scripted", title: "fine" })).task.id;
    for (const id of [...failing, otherType, fine]) await finalStatus(manager, id);
    expect(await statusOf(failing[0]!)).toBe("failed");

    const dry = await post("/api/tasks/retry", { type: "scripted", dryRun: true });
    expect(dry.status).toBe(200);
    expect(new Set(dry.json.retried)).toEqual(new Set(failing));
    for (const id of failing) expect(await statusOf(id)).toBe("failed");

    const first = await post("/api/tasks/retry", { type: "scripted", limit: 2 });
    expect(first.json).toMatchObject({ more: true, skipped: [], dryRun: false });
    expect(first.json.retried).toHaveLength(2);
    const rest = await post("/api/tasks/retry", { type: "scripted", limit: 2 });
    expect(rest.json).toMatchObject({ more: false });
    expect(new Set([...first.json.retried!, ...rest.json.retried!])).toEqual(new Set(failing));
    // Each ran once more (a retry by request starts over, so it fails the same way again).
    for (const id of failing) {
      expect((await finalStatus(manager, id)).status).toBe("failed");
      expect(log.filter((run) => run.id === id)).toHaveLength(2);
    }
    expect(log.filter((run) => run.id === fine)).toHaveLength(1);
    expect(await statusOf(otherType)).toBe("failed");
    expect(await statusOf(fine)).toBe("completed");
  });

  it("PATCH /api/tasks/:id changes a waiting task's priority; a finished one is a 409, a bad value a 400, an unknown id a 404", async () => {
    await new PauseStore(store.db).pause(["*"], "keep it waiting");
    await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the pause seen");
    const { task } = await manager.enqueueTask({ type: "cli", title: "waiting", command: "true", priority: 20 });
    const patch = (id: string, body: unknown) => fetch(`${http.url}/api/tasks/${id}`, { method: "PATCH", headers: { Authorization: "Bearer test-token-0123456789abcdef", "Content-Type": "application/json" }, body: JSON.stringify(body) });
    const changed = await patch(task.id, { priority: 95 });
    expect(changed.status).toBe(200);
    expect(((await changed.json()) as { task: { priority: number } }).task.priority).toBe(95);
    const bad = await patch(task.id, { priority: 101, title: "no" });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { errors: { field: string }[] }).errors.map((e) => e.field).sort()).toEqual(["(root)", "priority"]);
    expect((await patch("no-such-task", { priority: 5 })).status).toBe(404);
    await new PauseStore(store.db).resume();
    await finalStatus(manager, task.id);
    const late = await patch(task.id, { priority: 5 });
    expect(late.status).toBe(409);
    expect(((await late.json()) as { message: string }).message).toBe("only a waiting (pending) task's priority can change; this one is completed");
  });

  it("tags: given at creation, listed by, cancelled by; a bad tag is a 400 naming it", async () => {
    await new PauseStore(store.db).pause(["*"], "keep them waiting");
    await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the pause seen");
    const create = async (body: unknown) => {
      const res = await http.api("/api/tasks", body);
      return { status: res.status, json: (await res.json()) as { task?: { id: string; tags?: string[] }; errors?: { field: string; message: string }[] } };
    };
    const tagged = [];
    for (let i = 0; i < 2; i++) tagged.push((await create({ type: "cli", title: `r${i}`, command: "true", tags: ["release-42", "team:docs"] })).json.task!);
    const other = (await create({ type: "cli", title: "other", command: "true", tags: ["release-43"] })).json.task!;
    expect(tagged[0]?.tags).toEqual(["release-42", "team:docs"]);
    const listed = (await (await http.api("/api/tasks?tag=team%3Adocs")).json()) as { tasks: { id: string }[] };
    expect(new Set(listed.tasks.map((t) => t.id))).toEqual(new Set(tagged.map((t) => t.id)));
    const bad = await create({ type: "cli", title: "bad", command: "true", tags: ["ok", "not ok", "ok"] });
    expect(bad.status).toBe(400);
    expect(bad.json.errors?.map((e) => e.field).sort()).toEqual(["tags", "tags.1"]);
    const cancelled = await post("/api/tasks/cancel", { tag: "release-42" });
    expect(new Set(cancelled.json.cancelled)).toEqual(new Set(tagged.map((t) => t.id)));
    expect(await statusOf(other.id)).toBe("pending");
    await new PauseStore(store.db).resume();
    expect((await finalStatus(manager, other.id)).status).toBe("completed");
  });

  it("cancels what waits for one drive; running ones only when asked", async () => {
    await new PauseStore(store.db).pause(["*"], "hold everything");
    await waitFor(() => (manager.claimableTypes().length === 0 ? true : undefined), 5000, "the pause seen");
    const inDrive = [];
    for (let i = 0; i < 3; i++) inDrive.push((await manager.enqueueTask({ type: "cli", title: `a${i}`, command: "true", source: { driveId: "drive-a", documentId: `doc-${i}` } })).task.id);
    const elsewhere = (await manager.enqueueTask({ type: "cli", title: "b", command: "true", source: { driveId: "drive-b" } })).task.id;

    const refused = await post("/api/tasks/cancel", { driveId: "drive-a", status: ["completed"], limit: 0 });
    expect(refused.status).toBe(400);
    expect(refused.json.errors?.map((e) => e.field).sort()).toEqual(["limit", "status.0"]);
    expect(refused.json.errors?.find((e) => e.field === "status.0")?.message).toBe("must be one of pending, running");

    const cancelled = await post("/api/tasks/cancel", { driveId: "drive-a" });
    expect(new Set(cancelled.json.cancelled)).toEqual(new Set(inDrive));
    for (const id of inDrive) expect(await statusOf(id)).toBe("cancelled");
    expect(await statusOf(elsewhere)).toBe("pending");
    expect((await post("/api/tasks/cancel", { driveId: "drive-a" })).json).toMatchObject({ cancelled: [], more: false });

    // A running task: not touched by the default (pending), cancelled when running is named.
    await new PauseStore(store.db).resume();
    const { task: long } = await manager.enqueueTask({ type: "scripted", title: "long", script: ["hold:20000"], source: { driveId: "drive-c" } });
    await waitFor(async () => ((await statusOf(long.id)) === "running" ? true : undefined), 10_000, "the long task to start");
    expect((await post("/api/tasks/cancel", { driveId: "drive-c" })).json.cancelled).toEqual([]);
    expect((await post("/api/tasks/cancel", { driveId: "drive-c", status: ["running"] })).json.cancelled).toEqual([long.id]);
    expect((await finalStatus(manager, long.id)).status).toBe("cancelled");
  });
});
