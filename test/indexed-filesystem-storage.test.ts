/**
 * The agent's filesystem reactor storage answers a drive's storage units from memory: the same
 * units, order and pages as document-drive's FilesystemStorage reading the same directory (also
 * filtered, after documents are added and one removed), without reading any document's file once
 * it has met it — FilesystemStorage read every document of the drive for every page, after every
 * drive operation (see src/reactor/indexed-filesystem-storage.ts for the figures); its drive, kept
 * in memory and written by rename, is the drive FilesystemStorage reads from the directory.
 */
import { mkdtempSync, readdirSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import type { IStorageUnitFilter } from "document-drive";
import { FilesystemStorage } from "document-drive/storage/filesystem";
import { afterEach, describe, expect, it, vi } from "vitest";
import { silentLogger } from "../src/logger.js";
import { addTaskDocument, dispatch, removeDocument } from "../src/reactor/documents.js";
import { IndexedFilesystemStorage } from "../src/reactor/indexed-filesystem-storage.js";
import { createReactor } from "../src/reactor/reactor-setup.js";
import { actions } from "../src/reactor/task-document/actions.js";

type Storage = Pick<FilesystemStorage, "findStorageUnitsBy">;

/** Every page of a query, as the reactor's sync manager reads them (100 at a time). */
async function allPages(storage: Storage, filter: IStorageUnitFilter) {
  const pages: unknown[] = [];
  let cursor: string | undefined;
  do {
    const page = await storage.findStorageUnitsBy(filter, 100, cursor);
    pages.push(page);
    cursor = page.nextCursor;
  } while (cursor);
  return pages;
}

describe("the reactor's filesystem storage, indexed", () => {
  afterEach(() => {
    vi.restoreAllMocks();
  });

  it("answers a drive's storage units as FilesystemStorage does, page by page, without reading documents again", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ph-indexed-storage-"));
    const { reactor, localDriveId } = await createReactor({ storage: { kind: "filesystem", dir }, logger: silentLogger(), logLevel: "silent" });
    const ids: string[] = [];
    for (let i = 0; i < 70; i++) {
      const id = await addTaskDocument(reactor, localDriveId, { spec: { title: `t${i}`, instructions: "", taskType: "cli", params: { command: "true" } }, name: `t${i}` });
      await dispatch(reactor, id, actions.requestRun({ requestId: `r${i}` }));
      ids.push(id);
    }
    await removeDocument(reactor, localDriveId, ids[5] ?? "");

    const plain = new FilesystemStorage(dir);
    const indexed = new IndexedFilesystemStorage(dir);
    const filters: IStorageUnitFilter[] = [
      { parentId: [localDriveId] },
      { parentId: [localDriveId], scope: ["global"] },
      { parentId: [localDriveId], documentModelType: ["powerhouse/document-drive"] },
      { parentId: [localDriveId], documentId: [ids[3] ?? "", ids[5] ?? "", "no-such-document"] },
      { parentId: ["*"] },
      { documentId: [ids[7] ?? ""] },
    ];
    for (const filter of filters) expect(await allPages(indexed, filter)).toEqual(await allPages(plain, filter));
    // More than one page: 69 task documents and the drive, two scopes or more each.
    const pages = (await allPages(indexed, { parentId: [localDriveId] })) as { units: { documentId: string }[] }[];
    expect(pages.length).toBeGreaterThan(1);
    const listed = new Set(pages.flatMap((p) => p.units.map((u) => u.documentId)));
    expect(listed.has(ids[5] ?? "")).toBe(false);
    expect(listed.size).toBe(70);

    // The drive as written (whole, by rename, no temporary file left) is the drive FilesystemStorage reads.
    const drive = await plain.get<{ state: { global: { nodes: { id: string }[] } } } & Parameters<FilesystemStorage["create"]>[0]>(localDriveId);
    expect(drive.state.global.nodes.map((n) => n.id).sort()).toEqual(ids.filter((_, i) => i !== 5).sort());
    expect(JSON.parse(JSON.stringify(await indexed.get(localDriveId)))).toEqual(drive);
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
    // So is a task document, with its operations (written the same way).
    const task = await plain.get<Parameters<FilesystemStorage["create"]>[0]>(ids[3] ?? "");
    expect(JSON.parse(JSON.stringify(await indexed.get(ids[3] ?? "")))).toEqual(task);
    expect(Object.values(task.operations).flat().map((op) => op.action.type)).toContain("REQUEST_RUN");

    // Once met, no document's file is read again for the drive's units: FilesystemStorage reads every one, every page.
    const reads = vi.spyOn(FilesystemStorage.prototype, "get");
    await allPages(indexed, { parentId: [localDriveId] });
    expect(reads).not.toHaveBeenCalled();
    await allPages(plain, { parentId: [localDriveId] });
    expect(reads.mock.calls.length).toBeGreaterThanOrEqual(70);
  });

  it("the agent's reactor uses it, and a document written after its units were kept is still answered right", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ph-indexed-storage-"));
    const { reactor, localDriveId } = await createReactor({ storage: { kind: "filesystem", dir }, logger: silentLogger(), logLevel: "silent" });
    const first = await addTaskDocument(reactor, localDriveId, { spec: { title: "a", instructions: "", taskType: "cli", params: { command: "true" } }, name: "a" });
    const reads = vi.spyOn(IndexedFilesystemStorage.prototype, "findStorageUnitsBy");
    const second = await addTaskDocument(reactor, localDriveId, { spec: { title: "b", instructions: "", taskType: "cli", params: { command: "true" } }, name: "b" });
    await dispatch(reactor, first, actions.requestRun({ requestId: "r1" }));
    // The reactor asks for the drive's units after its ADD_FILE (not awaited there): give it a turn.
    await vi.waitFor(() => expect(reads).toHaveBeenCalled());
    const units = (await new IndexedFilesystemStorage(dir).findStorageUnitsBy({ parentId: [localDriveId] }, 100)).units.map((u) => u.documentId);
    expect(new Set(units)).toEqual(new Set([localDriveId, first, second]));
  });
});
