/**
 * document-drive's FilesystemStorage (5.3.2), with the one query it answers by reading every
 * document of a drive answered from memory instead.
 *
 * Why: after every operation on a drive (an ADD_FILE for each task document the agent makes), the
 * reactor asks for the drive's storage units (`stopSyncRemoteDrive` → `getSynchronizationUnitsIds`
 * → `findStorageUnitsBy({ parentId: [drive] })`, a page of 100 at a time), and FilesystemStorage
 * answers it by opening and parsing the JSON file of every document in the drive, for every page.
 * Measured on the agent's default (a filesystem reactor): adding a task document took 16 ms with an
 * empty drive and 250–310 ms with 200 documents in it, and an API task's creation 43 → 205 ms by 150.
 *
 * A storage unit needs only a document's type and the scopes of its state, which never change once
 * it is created; they are kept per document as documents are read or written, and the query reads a
 * document's file only the first time it meets it. A write or a removal forgets what was kept (and a
 * read that raced with one does not keep what it read), so nothing stale is answered.
 *
 * Drives, besides: the reactor reads a drive several times per operation, and FilesystemStorage
 * parsed its whole file each time (the drive holds a node and an operation per document ever
 * added, so it grows with them). Drives are kept parsed in memory, as MemoryStorage keeps every
 * document (the reactor's reducers make new objects, never change the ones they are given).
 *
 * Every document's operations are written with JSON.stringify (FilesystemStorage's key-sorting
 * writer took about three times as long) to a temporary file renamed over the old one, so a kill -9
 * during the write leaves the old document whole instead of a truncated one.
 */
import { rename, writeFile } from "node:fs/promises";
import path from "node:path";
import type { IStorageUnit, IStorageUnitFilter } from "document-drive";
import { FilesystemStorage } from "document-drive/storage/filesystem";
import { encodeDocumentIdForPath } from "document-drive/storage/path-encoding";
import { mergeOperations, operationsToRevision } from "document-drive/utils/misc";
import type { PHDocument } from "document-model";

const DRIVE_TYPE = "powerhouse/document-drive";

interface UnitsOf {
  documentType: string;
  scopes: string[];
}

/** As document-drive reads a filter's part: absent, empty or holding "*" means any. */
function anyOr(values: readonly string[] | undefined): Set<string> | undefined {
  return values && values.length > 0 && !values.includes("*") ? new Set(values) : undefined;
}

export class IndexedFilesystemStorage extends FilesystemStorage {
  private readonly units = new Map<string, UnitsOf>();
  /** Drives as last read or written (see above). */
  private readonly drives = new Map<string, PHDocument>();
  /** Bumped before and after each write of a document: a read that saw a change keeps nothing. */
  private readonly writes = new Map<string, number>();

  constructor(private readonly dir: string) {
    super(dir);
  }

  override async get<TDocument extends PHDocument>(documentId: string): Promise<TDocument> {
    const drive = this.drives.get(documentId);
    if (drive) return drive as TDocument;
    const before = this.writes.get(documentId) ?? 0;
    const document = await super.get<TDocument>(documentId);
    if ((this.writes.get(documentId) ?? 0) === before) {
      this.units.set(documentId, unitsFrom(document));
      if (document.header.documentType === DRIVE_TYPE) this.drives.set(documentId, document);
    }
    return document;
  }

  override create(document: PHDocument): Promise<void> {
    return this.writing(document.header.id, () => super.create(document));
  }

  override delete(documentId: string): Promise<boolean> {
    return this.writing(documentId, () => super.delete(documentId));
  }

  override async clear(): Promise<void> {
    this.units.clear();
    this.drives.clear();
    await super.clear();
  }

  /** As FilesystemStorage merges them; written whole (see writeWhole). */
  override async addDocumentOperations(...[id, operations, document]: Parameters<FilesystemStorage["addDocumentOperations"]>): ReturnType<FilesystemStorage["addDocumentOperations"]> {
    await this.writeWhole(id, merge(await this.get(id), operations, document));
    return undefined;
  }

  override async addDriveOperations(...[id, operations, document]: Parameters<FilesystemStorage["addDriveOperations"]>): ReturnType<FilesystemStorage["addDriveOperations"]> {
    await this.writeWhole(id, merge(await this.get(id), operations, document));
    return undefined;
  }

  /**
   * Writes a document's file with JSON.stringify (FilesystemStorage's key-sorting writer took three
   * times as long) to a temporary file renamed over the old one: a kill -9 mid-write leaves the old
   * document whole, where FilesystemStorage's writeFile in place could leave it truncated.
   */
  private async writeWhole(id: string, next: PHDocument): Promise<void> {
    const file = path.join(this.dir, `document-${encodeDocumentIdForPath(id)}.json`);
    const temporary = `${file}.${process.pid}.tmp`;
    await this.writing(id, async () => {
      await writeFile(temporary, JSON.stringify(next), "utf8");
      await rename(temporary, file);
    });
    this.units.set(id, unitsFrom(next));
    if (next.header.documentType === DRIVE_TYPE) this.drives.set(id, next);
  }

  /**
   * The units of a drive's documents (the reactor's only hot use) from what is kept; any other
   * filter as FilesystemStorage answers it. Same units, same order, same pages.
   */
  override async findStorageUnitsBy(filter: IStorageUnitFilter, limit: number, cursor?: string): Promise<{ units: IStorageUnit[]; nextCursor?: string }> {
    const parents = anyOr(filter.parentId);
    if (!parents) return super.findStorageUnitsBy(filter, limit, cursor);
    const ids = new Set(parents);
    for (const parent of parents) for (const child of await this.getChildren(parent)) ids.add(child);
    const only = anyOr(filter.documentId);
    const types = anyOr(filter.documentModelType);
    const scopes = anyOr(filter.scope);
    const found: IStorageUnit[] = [];
    for (const documentId of ids) {
      if (only && !only.has(documentId)) continue;
      const units = await this.unitsOf(documentId);
      // (a child not synced yet has no document: no units, as FilesystemStorage answers)
      if (!units || (types && !types.has(units.documentType))) continue;
      for (const scope of units.scopes) if (!scopes || scopes.has(scope)) found.push({ documentId, documentModelType: units.documentType, scope, branch: "main" });
    }
    const at = cursor ? found.findIndex((unit) => unit.documentId === cursor) : -1;
    const start = at === -1 ? 0 : at;
    const end = Math.min(start + limit, found.length);
    return { units: found.slice(start, end), ...(end < found.length ? { nextCursor: found[end]?.documentId } : {}) };
  }

  private async unitsOf(documentId: string): Promise<UnitsOf | undefined> {
    const kept = this.units.get(documentId);
    if (kept) return kept;
    const document = await this.get(documentId).catch(() => undefined);
    return document ? unitsFrom(document) : undefined;
  }

  private async writing<T>(documentId: string, write: () => Promise<T>): Promise<T> {
    const bump = () => {
      this.writes.set(documentId, (this.writes.get(documentId) ?? 0) + 1);
      this.units.delete(documentId);
      this.drives.delete(documentId);
    };
    bump();
    try {
      return await write();
    } finally {
      bump();
    }
  }
}

/** The stored document with new operations, as FilesystemStorage merges them (revision per scope). */
function merge(existing: PHDocument, operations: Parameters<typeof mergeOperations>[1], document: PHDocument): PHDocument {
  const merged = mergeOperations(existing.operations, operations);
  const revision = Object.fromEntries(Object.entries(merged).map(([scope, scopeOperations]) => [scope, operationsToRevision(scopeOperations)]));
  return { ...existing, state: document.state, initialState: document.initialState, header: { ...existing.header, ...document.header, revision }, operations: merged, clipboard: document.clipboard };
}

function unitsFrom(document: PHDocument): UnitsOf {
  return { documentType: document.header.documentType, scopes: Object.keys(document.state) };
}
