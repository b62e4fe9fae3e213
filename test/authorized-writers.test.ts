/**
 * TASK_AUTHORIZED_WRITERS: only operations signed (document-model's ECDSA P-256 operation
 * signature, really verified) by a listed app key start or stop work. Real keys from WebCrypto, a
 * real reactor and agent; the unit part checks each way a signature can be wrong.
 */
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { Action } from "document-model";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startAgent, type Agent } from "../src/agent.js";
import { ConfigError, loadConfig } from "../src/config.js";
import { silentLogger } from "../src/logger.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { addTaskDocument, dispatch, getTaskDocumentState } from "../src/reactor/documents.js";
import { actions } from "../src/reactor/task-document/actions.js";
import { WriterPolicy } from "../src/security/authorized-writers.js";
import { RulesFileSchema } from "../src/rules/rules-schema.js";
import { appKey, type AppKey } from "./support/app-keys.js";
import { waitFor } from "./support/process.js";
import { documentReaches } from "./support/task-documents.js";

let alice: AppKey;
let mallory: AppKey;
beforeAll(async () => {
  alice = await appKey("alice-app");
  mallory = await appKey("mallory-app");
});

describe("WriterPolicy", () => {
  it("accepts an operation signed by a listed key, written as did:key or hex", async () => {
    const action = await alice.sign("doc-1", actions.requestRun({ requestId: "r1" }));
    expect(await new WriterPolicy([alice.did]).check("doc-1", action)).toEqual({ ok: true });
    expect(await new WriterPolicy([alice.hex]).check("doc-1", action)).toEqual({ ok: true });
    expect(await new WriterPolicy([]).check("doc-1", actions.requestRun({}))).toEqual({ ok: true }); // no list: open
  });

  it("refuses unsigned operations, other keys, signatures of another operation, and forged signatures", async () => {
    const policy = new WriterPolicy([alice.did]);
    const refused = async (documentId: string, action: Action) => {
      const verdict = await policy.check(documentId, action);
      return verdict.ok ? "ok" : verdict.code;
    };
    expect(await refused("doc-1", actions.requestRun({ requestId: "r1" }))).toBe("unsigned_operation");
    expect(await refused("doc-1", await mallory.sign("doc-1", actions.requestRun({ requestId: "r1" })))).toBe("unauthorized_writer");
    // Alice's signature moved to another document, or onto another input.
    expect(await refused("doc-2", await alice.sign("doc-1", actions.requestRun({ requestId: "r1" })))).toBe("invalid_signature");
    const signed = await alice.sign("doc-1", actions.requestRun({ requestId: "r1" }));
    expect(await refused("doc-1", { ...signed, input: { requestId: "r2" } })).toBe("invalid_signature");
    // Mallory claims Alice's key but signs with her own.
    const claimed = await mallory.sign("doc-1", actions.requestRun({ requestId: "r1" }));
    const signer = claimed.context?.signer;
    if (!signer) throw new Error("unsigned");
    const [ts, , hash, prev, bytes] = signer.signatures[0] ?? [];
    const forged = { ...claimed, context: { signer: { ...signer, app: { name: "alice-app", key: alice.hex }, signatures: [[ts ?? "", alice.hex, hash ?? "", prev ?? "", bytes ?? ""] as [string, string, string, string, string]] } } };
    expect(await refused("doc-1", forged)).toBe("invalid_signature");
    const message = await policy.check("doc-1", await mallory.sign("doc-1", actions.cancel({})));
    expect(message.ok ? "" : message.message).toContain(mallory.did);
  });

  it("stops the agent at start-up on a key it cannot read, naming the variable and the entry", () => {
    expect(() => loadConfig({ TASK_AUTHORIZED_WRITERS: `${alice.did},did:key:zNotAKey0` })).toThrow(ConfigError);
    expect(() => loadConfig({ TASK_AUTHORIZED_WRITERS: "did:key:zNotAKey0" })).toThrow(/TASK_AUTHORIZED_WRITERS[\s\S]*did:key:zNotAKey0/);
  });
});

describe("an agent with TASK_AUTHORIZED_WRITERS", () => {
  let agent: Agent;
  beforeAll(async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-writers-"));
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_AUTHORIZED_WRITERS: alice.did };
    agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules: [] });
  });
  afterAll(async () => {
    await agent.stop();
  });

  const reaches = (id: string, statuses: string[]) => documentReaches(agent.reactor, id, statuses);
  const taskDocument = (command: string) => addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Writers", taskType: "cli", params: { command: "sh", args: ["-c", command] } } });

  it("runs a request signed by a listed key and refuses the others on the document, starting nothing", async () => {
    const signedId = await taskDocument("echo signed");
    await dispatch(agent.reactor, signedId, await alice.sign(signedId, actions.requestRun({ requestId: "a" })));
    const unsignedId = await taskDocument("echo unsigned > /dev/null");
    await dispatch(agent.reactor, unsignedId, actions.requestRun({ requestId: "b" }));
    const otherId = await taskDocument("echo other > /dev/null");
    await dispatch(agent.reactor, otherId, await mallory.sign(otherId, actions.requestRun({ requestId: "c" })));

    const done = await reaches(signedId, ["completed", "failed"]);
    expect(done.status).toBe("completed");
    expect(done.outputTail).toBe("signed\n");
    const unsigned = await reaches(unsignedId, ["failed"]);
    expect(unsigned.error?.code).toBe("unsigned_operation");
    expect(unsigned.notices.at(-1)?.message).toContain("TASK_AUTHORIZED_WRITERS");
    const other = await reaches(otherId, ["failed"]);
    expect(other.error?.code).toBe("unauthorized_writer");
    const { tasks } = await agent.manager.listTasks({ limit: 100, offset: 0 });
    expect(tasks.map((t) => t.source?.documentId)).toEqual([signedId]);
  });

  it("ignores an unsigned cancel of a running task, saying so on the document", async () => {
    const id = await taskDocument("sleep 1; echo finished");
    await dispatch(agent.reactor, id, await alice.sign(id, actions.requestRun({ requestId: "d" })));
    await reaches(id, ["running"]);
    await dispatch(agent.reactor, id, actions.cancel({ reason: "not yours" }));
    const done = await reaches(id, ["completed", "failed", "cancelled"]);
    expect(done.status).toBe("completed");
    expect(done.notices.map((n) => n.message).join("\n")).toContain("cancel ignored");
  });
  it("decides an approval only on a listed key's APPROVE: an unsigned one and another key's are ignored, saying so", async () => {
    const id = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Sign-off", taskType: "approval", params: {} } });
    await dispatch(agent.reactor, id, await alice.sign(id, actions.requestRun({ requestId: "g" })));
    const queued = await reaches(id, ["queued"]);
    await dispatch(agent.reactor, id, actions.approve({ note: "unsigned" }));
    await dispatch(agent.reactor, id, await mallory.sign(id, actions.approve({ note: "mallory" })));
    const ignored = await waitFor(async () => {
      const notices = (await getTaskDocumentState(agent.reactor, id)).notices.filter((n) => n.message.startsWith("approval ignored"));
      return notices.length === 2 ? notices : undefined;
    }, 10_000, "both approvals ignored");
    expect(ignored[0]?.message).toContain("not signed");
    expect(ignored[1]?.message).toContain(mallory.did);
    expect((await agent.manager.getTask(queued.currentTaskId!))?.status).toBe("pending");
    await dispatch(agent.reactor, id, await alice.sign(id, actions.approve({ note: "alice" })));
    expect(await reaches(id, ["completed", "failed"])).toMatchObject({ status: "completed", result: { approved: true, by: "0x1111111111111111111111111111111111111111 (app alice-app)", note: "alice" } });
  });
});

describe("requests written while the agent was down (the start-up scan)", () => {
  it("runs the signed one and refuses the unsigned one when the agent starts", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-writers-scan-"));
    // Another process writes the drive while no agent runs: the same storage the agent will open.
    const { reactor, localDriveId } = await createReactor({ storage: { kind: "filesystem", dir: path.join(dataDir, "documents") }, logger: silentLogger(), logLevel: "silent" });
    const spec = (text: string) => ({ spec: { title: "Scan", taskType: "cli", params: { command: "echo", args: [text] } } });
    const signedId = await addTaskDocument(reactor, localDriveId, spec("signed while down"));
    await dispatch(reactor, signedId, await alice.sign(signedId, actions.requestRun({ requestId: "s" })));
    const unsignedId = await addTaskDocument(reactor, localDriveId, spec("unsigned while down"));
    await dispatch(reactor, unsignedId, actions.requestRun({ requestId: "u" }));

    const agent = await startAgent(loadConfig({ TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_AUTHORIZED_WRITERS: alice.did }, dataDir), { logger: silentLogger(), rules: [] });
    try {
      const state = (id: string, statuses: string[]) => documentReaches(agent.reactor, id, statuses);
      expect((await state(signedId, ["completed", "failed"])).outputTail).toBe("signed while down\n");
      expect((await state(unsignedId, ["failed"])).error?.code).toBe("unsigned_operation");
    } finally {
      await agent.stop();
    }
  });
});

describe("a rule set off by a named writer's signed change", () => {
  it("is theirs: its task says who asked (spend, budgets per person, list --by), and so does one its result sets off; an unsigned change sets nothing off", async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), "ph-writers-rules-"));
    // on-spec's result writes the title "chained …", which sets off on-chained: a chain alice started.
    const rules = RulesFileSchema.parse({ rules: [
      { name: "on-spec", on: { documentType: "powerhouse/task", operationType: "SET_SPEC", where: { "input.title": { matches: "^(unsigned|signed)" } } }, task: { type: "cli", title: "spec of {{document.id}} changed", command: "echo", args: ["-n", "chained by the rule"] }, onResult: { operation: "SET_SPEC", input: { title: "{{result.stdout}}" } } },
      { name: "on-chained", on: { documentType: "powerhouse/task", operationType: "SET_SPEC", where: { "input.title": { matches: "^chained" } } }, task: { type: "cli", title: "chained", command: "true" } },
    ] }).rules;
    const env = { TASK_DATA_DIR: dataDir, PORT: "0", LOG_LEVEL: "silent", TASK_SHUTDOWN_GRACE_MS: "100", TASK_AUTHORIZED_WRITERS: `alice=${alice.did}` };
    const agent = await startAgent(loadConfig(env, dataDir), { logger: silentLogger(), rules });
    try {
      const doc = await addTaskDocument(agent.reactor, agent.localDriveId, { spec: { title: "Watched", taskType: "cli", params: { command: "true" } } });
      await dispatch(agent.reactor, doc, actions.setSpec({ title: "unsigned" }));
      await dispatch(agent.reactor, doc, await alice.sign(doc, actions.setSpec({ title: "signed by alice" })));
      const ruledTasks = async () => (await agent.manager.listTasks({ limit: 10, offset: 0 })).tasks.filter((t) => t.source?.origin === "rule:on-spec");
      await waitFor(async () => ((await ruledTasks()).length > 0) || undefined, 10_000, "the rule's task");
      await new Promise((resolve) => setTimeout(resolve, 500)); // the unsigned change, dispatched first, had its chance
      const ruled = await ruledTasks();
      expect(ruled).toHaveLength(1); // the unsigned change set nothing off
      expect(ruled[0]?.source).toMatchObject({ documentId: doc, by: "alice", origin: "rule:on-spec" });
      // The rule's result sets off the next rule: that task is alice's too, one step down the chain.
      const chained = await waitFor(async () => (await agent.manager.listTasks({ limit: 10, offset: 0 })).tasks.find((t) => t.source?.origin === "rule:on-chained"), 10_000, "the chained rule's task");
      expect(chained.source).toMatchObject({ by: "alice", chainDepth: 1 });
      expect((await agent.manager.listTasks({ limit: 10, offset: 0, askedBy: "alice" })).tasks.map((t) => t.id).sort()).toEqual([ruled[0]?.id, chained.id].sort());
    } finally {
      await agent.stop();
    }
  });
});
