/**
 * The local drives the agent puts the task documents it makes in (API tasks, schedule firings,
 * hook deliveries, pipeline steps): "tasks", then "tasks-2", "tasks-3"... Each drive takes at
 * most TASK_LOCAL_DRIVE_MAX_DOCUMENTS; the next document opens a new one. Why: document-drive
 * 5.3.2 writes and hashes a drive whole on every operation, so adding a document cost time in
 * proportion to the documents already there (12 ms at 250, 46 ms at 1,000, 72 ms at 1,250 —
 * with no end for an agent that makes a task a minute). Earlier drives stay as they are, their
 * documents readable and followed like any other; only the newest one grows.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Logger } from "../logger.js";

export const LOCAL_DRIVE_SLUG = "tasks";
export const DEFAULT_LOCAL_DRIVE_MAX_DOCUMENTS = 1000;

/** The slug of the n-th local drive (1: the first, "tasks"). */
export function localDriveSlug(n: number): string {
  return n === 1 ? LOCAL_DRIVE_SLUG : `${LOCAL_DRIVE_SLUG}-${n}`;
}

/** n for a local drive's slug, undefined for any other drive. */
function localDriveNumber(slug: string | undefined): number | undefined {
  if (slug === LOCAL_DRIVE_SLUG) return 1;
  const match = /^tasks-([1-9]\d*)$/.exec(slug ?? "");
  return match ? Number(match[1]) : undefined;
}

export class LocalDrives {
  /** Serialises the choice of drive, so that two documents at once cannot both open a new one. */
  private turn: Promise<unknown> = Promise.resolve();

  private constructor(
    private readonly reactor: IDocumentDriveServer,
    private readonly maxDocuments: number,
    private readonly logger: Logger,
    /** The first drive ("tasks"): where people and tests find the agent's drive. */
    readonly firstId: string,
    private current: { id: string; n: number; documents: number },
    /** The full drives between the first and the newest: those retention may remove (local-drive-retention.ts). */
    private readonly full: Set<string>,
  ) {}

  /** Finds the local drives (making the first when there is none); the newest takes new documents. */
  static async open(reactor: IDocumentDriveServer, maxDocuments: number, logger: Logger): Promise<LocalDrives> {
    let first: string | undefined;
    let newest: { id: string; n: number; documents: number } | undefined;
    const others: string[] = [];
    for (const id of await reactor.getDrives()) {
      const drive = await reactor.getDrive(id);
      const n = localDriveNumber(drive.header.slug);
      if (n === undefined) continue;
      if (n === 1) first = id;
      else others.push(id);
      if (!newest || n > newest.n) newest = { id, n, documents: drive.state.global.nodes.filter((node) => node.kind === "file").length };
    }
    if (!first) {
      first = await addLocalDrive(reactor, 1);
      newest ??= { id: first, n: 1, documents: 0 };
    }
    const full = new Set(others.filter((id) => id !== newest!.id));
    return new LocalDrives(reactor, maxDocuments, logger, first, newest!, full);
  }

  /** The drive the next new task document goes in (opening a new one when the newest is full); counts it. */
  forNewDocument(): Promise<string> {
    const next = this.turn.then(async () => {
      if (this.current.documents >= this.maxDocuments) {
        const n = this.current.n + 1;
        const id = await addLocalDrive(this.reactor, n);
        this.logger.info({ driveId: id, slug: localDriveSlug(n), full: this.current.id, documents: this.current.documents }, "the local drive is full (TASK_LOCAL_DRIVE_MAX_DOCUMENTS): new task documents go in a new one");
        if (this.current.id !== this.firstId) this.full.add(this.current.id);
        this.current = { id, n, documents: 0 };
      }
      this.current.documents++;
      return this.current.id;
    });
    this.turn = next.catch(() => undefined);
    return next;
  }

  /** The full local drives after the first: new documents no longer go in them. */
  fullDrives(): string[] {
    return [...this.full];
  }

  /** A full drive was removed (retention). */
  forget(driveId: string): void {
    this.full.delete(driveId);
  }

  /** A document made for a new task was removed again (its request refused): its place is free. */
  removed(driveId: string): void {
    if (driveId === this.current.id && this.current.documents > 0) this.current.documents--;
  }
}

async function addLocalDrive(reactor: IDocumentDriveServer, n: number): Promise<string> {
  const drive = await reactor.addDrive({
    global: { name: n === 1 ? "Tasks" : `Tasks ${n}`, icon: null },
    local: { availableOffline: true, sharingType: "PRIVATE", listeners: [], triggers: [] },
    slug: localDriveSlug(n),
  });
  return drive.header.id;
}
