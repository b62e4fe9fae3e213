/**
 * Tasks made through the API creator (the API, schedules, hooks): each with its task document in
 * the local drive; two requests with the same idempotency key at the same instant make one task
 * and leave one document, not an empty second one.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { IDocumentDriveServer } from "document-drive";
import { silentLogger } from "../src/logger.js";
import { listTaskDocuments } from "../src/reactor/documents.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { TaskStore } from "../src/store/task-store.js";
import { createApiTaskCreator } from "../src/tasks/api-task-creator.js";
import type { TaskManager } from "../src/tasks/task-manager.js";
import { cliRegistry, testManager } from "./support/manager.js";

describe("the API task creator", () => {
  let reactor: IDocumentDriveServer;
  let driveId: string;
  let store: TaskStore;
  let manager: TaskManager;
  beforeAll(async () => {
    ({ reactor, localDriveId: driveId } = await createReactor({ storage: { kind: "memory" }, logger: silentLogger(), logLevel: "silent" }));
    store = await TaskStore.open({});
    manager = testManager(store, {}, cliRegistry());
  });
  afterAll(async () => {
    await store.close();
  });

  it("the same idempotency key twice at once: one task, one document", async () => {
    const create = createApiTaskCreator(manager, reactor, driveId);
    const request = { type: "cli", title: "once", command: "true", idempotencyKey: "hook:x:delivery-1" };
    const before = (await listTaskDocuments(reactor)).length;
    const results = await Promise.all([create(request, "hook:x"), create(request, "hook:x"), create(request, "hook:x")]);
    expect(new Set(results.map((r) => r.task.id)).size).toBe(1);
    expect(results.filter((r) => r.created)).toHaveLength(1);
    const documents = await listTaskDocuments(reactor);
    expect(documents.length - before).toBe(1);
    expect(documents.map((d) => d.documentId)).toContain(results[0]?.task.source?.documentId);
  });

  it("a request the store refuses (a dependency that names no task) leaves no document behind", async () => {
    const create = createApiTaskCreator(manager, reactor, driveId);
    const before = (await listTaskDocuments(reactor)).length;
    await expect(create({ type: "cli", title: "orphan", command: "true", dependsOn: ["no-such-task"] })).rejects.toThrow(/names no task/);
    expect((await listTaskDocuments(reactor)).length).toBe(before);
  });

  it("a caller cannot set who asked: source.origin is the agent's, with or without a document of its own", async () => {
    const create = createApiTaskCreator(manager, reactor, driveId);
    const own = await create({ type: "cli", title: "mine", command: "true", source: { documentId: "doc-of-mine", origin: "rule:deploy" } });
    expect(own.task.source).toMatchObject({ documentId: "doc-of-mine", origin: "api" });
    const made = await create({ type: "cli", title: "made", command: "true", source: { origin: "schedule:nightly" } }, "hook:builds");
    expect(made.task.source?.origin).toBe("hook:builds");
  });
});
