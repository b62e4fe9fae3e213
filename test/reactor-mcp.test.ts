/**
 * Other Powerhouse tools can read and drive task documents: reactor-mcp's MCP server over our
 * reactor, an MCP client from the SDK, linked in memory. Raw `tools/call` requests: the SDK's
 * callTool() rejects reactor-mcp's empty output schemas (see the notes).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "@modelcontextprotocol/sdk/client/index.js";
import { InMemoryTransport } from "@modelcontextprotocol/sdk/inMemory.js";
import { CallToolResultSchema, type CallToolResult } from "@modelcontextprotocol/sdk/types.js";
import { createServer } from "@powerhousedao/reactor-mcp";
import type { IDocumentDriveServer } from "document-drive";
import type { PHDocument } from "document-model";
import { z } from "zod";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, getTaskDocumentState, listTaskDocuments } from "../src/reactor/documents.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { OPERATION_INPUTS } from "../src/reactor/task-document/operations.js";
import { TASK_DOCUMENT_TYPE, TaskDocumentStateSchema, initialTaskDocumentState } from "../src/reactor/task-document/state.js";

let reactor: IDocumentDriveServer;
let driveId: string;
let client: Client;

async function call(name: string, args: Record<string, unknown>): Promise<CallToolResult> {
  return client.request({ method: "tools/call", params: { name, arguments: args } }, CallToolResultSchema);
}

function textOf(result: CallToolResult): string {
  return result.content.map((c) => (c.type === "text" ? c.text : "")).join("");
}

/** The JSON a successful tool call answers with. */
async function ok(name: string, args: Record<string, unknown>): Promise<unknown> {
  const result = await call(name, args);
  if (result.isError) throw new Error(`${name} failed: ${textOf(result)}`);
  return JSON.parse(textOf(result)) as unknown;
}

const SchemaAnswer = z.object({
  schema: z.object({
    id: z.string(),
    name: z.string(),
    specifications: z.array(
      z.object({
        state: z.object({ global: z.object({ schema: z.string(), initialValue: z.string() }) }),
        modules: z.array(z.object({ name: z.string(), operations: z.array(z.object({ name: z.string(), scope: z.string(), schema: z.string() })) })),
      }),
    ),
  }),
});

beforeAll(async () => {
  ({ reactor, localDriveId: driveId } = await createReactor({ storage: { kind: "memory" }, logger: silentLogger(), logLevel: "silent" }));
  const server = await createServer(reactor);
  const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
  await server.connect(serverTransport);
  client = new Client({ name: "reactor-mcp-interop-test", version: "1.0.0" });
  await client.connect(clientTransport);
});

afterAll(async () => {
  await client.close();
});

describe("reactor-mcp on the agent's reactor", () => {
  it("lists the task document model and returns its spec with every operation", async () => {
    const models = z.object({ documentModels: z.array(z.object({ type: z.string(), name: z.string(), extension: z.string() })) }).parse(await ok("getDocumentModels", {}));
    expect(models.documentModels).toContainEqual(expect.objectContaining({ type: TASK_DOCUMENT_TYPE, name: "Task", extension: "phtask" }));

    const { schema } = SchemaAnswer.parse(await ok("getDocumentModelSchema", { type: TASK_DOCUMENT_TYPE }));
    expect(schema.id).toBe(TASK_DOCUMENT_TYPE);
    const latest = schema.specifications.at(-1);
    const operations = latest?.modules.flatMap((m) => m.operations) ?? [];
    expect(operations.map((o) => o.name).sort()).toEqual(Object.keys(OPERATION_INPUTS).sort());
    expect(operations.every((o) => o.scope === "global" && /^input \w+Input \{/.test(o.schema))).toBe(true);
    expect(operations.find((o) => o.name === "SET_SPEC")?.schema).toContain("priority: Int");
    // The initial value in the spec is the state a new document starts with.
    expect(TaskDocumentStateSchema.parse(JSON.parse(latest?.state.global.initialValue ?? "null"))).toEqual(initialTaskDocumentState());
    expect(latest?.state.global.schema).toContain("type TaskState");
  });

  it("requests a run on a task document with addActions", async () => {
    const id = await addTaskDocument(reactor, driveId, { spec: { title: "Lint", taskType: "cli", params: { command: "npm", args: ["run", "lint"] } } });
    expect(await ok("addActions", { documentId: id, actions: [{ type: "REQUEST_RUN", input: { requestId: "mcp-1", reason: "asked over MCP" }, scope: "global" }] })).toEqual({ success: true });
    expect(await getTaskDocumentState(reactor, id)).toMatchObject({ status: "requested", lastRequestId: "mcp-1" });

    const answer = z.object({ document: z.object({ header: z.object({ documentType: z.string() }), state: z.object({ global: TaskDocumentStateSchema }) }) }).parse(await ok("getDocument", { id }));
    expect(answer.document.header.documentType).toBe(TASK_DOCUMENT_TYPE);
    expect(answer.document.state.global).toMatchObject({ title: "Lint", status: "requested" });
  });

  it("creates a task document in a drive, sets its spec and asks for a run, all over MCP", async () => {
    const { documentId } = z.object({ documentId: z.string() }).parse(await ok("createDocument", { documentType: TASK_DOCUMENT_TYPE }));
    await ok("addActions", { documentId: driveId, actions: [{ type: "ADD_FILE", input: { id: documentId, name: "From MCP", documentType: TASK_DOCUMENT_TYPE }, scope: "global" }] });
    await ok("addActions", {
      documentId,
      actions: [
        { type: "SET_SPEC", input: { title: "From MCP", instructions: "say hi", taskType: "cli", params: { command: "echo", args: ["hi"] }, priority: 3 }, scope: "global" },
        { type: "REQUEST_RUN", input: {}, scope: "global" },
      ],
    });
    expect(await listTaskDocuments(reactor)).toContainEqual({ documentId, driveId, documentType: TASK_DOCUMENT_TYPE, name: "From MCP" });
    expect(await getTaskDocumentState(reactor, documentId)).toMatchObject({ title: "From MCP", params: { command: "echo", args: ["hi"] }, priority: 3, status: "requested" });
  });

  it("refuses an invalid input before it reaches the document, and a forbidden transition with the reducer's reason", async () => {
    const id = await addTaskDocument(reactor, driveId, { spec: { title: "Guarded" } });
    const operationsBefore = (await reactor.getDocument<PHDocument>(id)).operations.global?.length;

    const invalid = await call("addActions", { documentId: id, actions: [{ type: "SET_SPEC", input: { priority: "high" }, scope: "global" }] });
    expect(invalid.isError).toBe(true);
    expect(textOf(invalid)).toMatch(/priority/);
    // The creator refused it: nothing was stored.
    expect((await reactor.getDocument<PHDocument>(id)).operations.global?.length).toBe(operationsBefore);

    const unknown = await call("addActions", { documentId: id, actions: [{ type: "DELETE_EVERYTHING", input: {}, scope: "global" }] });
    expect(unknown.isError).toBe(true);
    expect(textOf(unknown)).toMatch(/not defined/);

    // Valid input, forbidden now: the reactor stores it with the reducer's error, and the tool says so.
    const stale = await call("addActions", { documentId: id, actions: [{ type: "MARK_COMPLETED", input: { taskId: "nope", result: {}, finishedAt: new Date().toISOString() }, scope: "global" }] });
    expect(stale.isError).toBe(true);
    expect(textOf(stale)).toMatch(/not the current run/);
    expect((await getTaskDocumentState(reactor, id)).status).toBe("idle");
  });
});
