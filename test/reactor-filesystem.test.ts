/**
 * The reactor on FilesystemStorage in a temp dir: drives and task documents survive a restart (a
 * second reactor on the same directory finds the local drive, reuses it, and reads the same
 * states); a remote drive URL nobody answers is logged and skipped, never fatal.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { afterAll, describe, expect, it } from "vitest";
import type { PHDocument } from "document-model";
import { createLogger, silentLogger } from "../src/logger.js";
import { addTaskDocument, dispatch, getTaskDocumentState, listTaskDocuments } from "../src/reactor/documents.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { actions } from "../src/reactor/task-document/actions.js";
import { TASK_DOCUMENT_TYPE } from "../src/reactor/task-document/state.js";

const servers: Server[] = [];
afterAll(async () => {
  await Promise.all(servers.map((s) => new Promise((resolve) => s.close(resolve))));
});

/** A logger whose lines the test can read. */
function capturingLogger() {
  const lines: { level: number; msg: string; url?: string }[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, done) {
      lines.push(JSON.parse(chunk.toString()) as { level: number; msg: string });
      done();
    },
  });
  return { logger: createLogger({ level: "info", destination }), lines };
}

describe("the reactor on FilesystemStorage", () => {
  it("finds the local drive and its task documents again after a restart", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ph-reactor-fs-"));
    const first = await createReactor({ storage: { kind: "filesystem", dir }, logger: silentLogger(), logLevel: "silent" });
    const done = await addTaskDocument(first.reactor, first.localDriveId, { spec: { title: "Finished before the restart", params: { command: "true" } }, requestRun: { requestId: "r-1" } });
    await dispatch(first.reactor, done, actions.markQueued({ taskId: "t-1", requestId: "r-1" }));
    await dispatch(first.reactor, done, actions.markRunning({ taskId: "t-1", attempt: 1, workerId: "w", startedAt: "2026-01-01T10:00:00.000Z" }));
    await dispatch(first.reactor, done, actions.appendOutput({ taskId: "t-1", text: "ok\n" }));
    await dispatch(first.reactor, done, actions.markCompleted({ taskId: "t-1", result: { exitCode: 0 }, exitCode: 0, finishedAt: "2026-01-01T10:00:01.000Z" }));
    const waiting = await addTaskDocument(first.reactor, first.localDriveId, { spec: { title: "Asked for, not yet served" }, requestRun: true });
    const stateBefore = await getTaskDocumentState(first.reactor, done);
    // One JSON file per document (drive included) in the directory.
    expect(readdirSync(dir).length).toBeGreaterThanOrEqual(3);

    const second = await createReactor({ storage: { kind: "filesystem", dir }, logger: silentLogger(), logLevel: "silent" });
    expect(second.localDriveId).toBe(first.localDriveId);
    // Reused, not duplicated.
    expect(await second.reactor.getDrives()).toEqual([first.localDriveId]);
    const listed = await listTaskDocuments(second.reactor);
    expect(listed.map((d) => d.documentId).sort()).toEqual([done, waiting].sort());
    expect(listed.every((d) => d.documentType === TASK_DOCUMENT_TYPE && d.driveId === first.localDriveId)).toBe(true);
    expect(await getTaskDocumentState(second.reactor, done)).toEqual(stateBefore);
    // The start-up scan can see what still asks for work.
    expect(await getTaskDocumentState(second.reactor, waiting)).toMatchObject({ status: "requested" });
    const history = (await second.reactor.getDocument<PHDocument>(done)).operations.global?.map((op) => op.action.type);
    expect(history).toEqual(["SET_SPEC", "REQUEST_RUN", "MARK_QUEUED", "MARK_RUNNING", "APPEND_OUTPUT", "MARK_COMPLETED"]);

    // The restarted reactor keeps working on the same documents.
    await dispatch(second.reactor, done, actions.retry({}));
    expect(await getTaskDocumentState(second.reactor, done)).toMatchObject({ status: "requested" });
  });

  it("logs a warning and goes on with the local drive when the remote drive does not answer", async () => {
    // A loopback server that answers every request with 503, like a Switchboard that is down.
    const asked: string[] = [];
    const server = createServer((req, res) => {
      asked.push(`${req.method} ${req.url}`);
      res.writeHead(503).end("unavailable");
    });
    servers.push(server);
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/d/team-drive`;
    const { logger, lines } = capturingLogger();

    const started = Date.now();
    const agentReactor = await createReactor({ storage: { kind: "memory" }, logger, logLevel: "silent", remoteDriveUrl: url });
    expect(agentReactor.remoteDriveId).toBeUndefined();
    // It did try the peer (document-drive asks the drive's GraphQL endpoint for its info).
    expect(asked.length).toBeGreaterThan(0);
    expect(await agentReactor.reactor.getDrives()).toEqual([agentReactor.localDriveId]);
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, url, msg: expect.stringMatching(/could not connect the remote drive/) as unknown }));
    // Generous: it must not hang on the dead peer.
    expect(Date.now() - started).toBeLessThan(20_000);
  });

  it("logs a warning and goes on when nothing listens at the remote drive's address", async () => {
    // A port that was just free: connection refused.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const url = `http://127.0.0.1:${port}/d/team-drive`;
    const { logger, lines } = capturingLogger();
    const agentReactor = await createReactor({ storage: { kind: "memory" }, logger, logLevel: "silent", remoteDriveUrl: url });
    expect(agentReactor.remoteDriveId).toBeUndefined();
    expect(await agentReactor.reactor.getDrive(agentReactor.localDriveId)).toBeTruthy();
    expect(lines).toContainEqual(expect.objectContaining({ level: 40, url }));
  });
});
