/**
 * The embedded Powerhouse reactor (document-drive 5.3.2): built with the drive, document-model
 * and task document models; FilesystemStorage under the agent's data directory by default (it
 * survives restarts), memory storage for tests; local drives "tasks", "tasks-2"... (local-drives.ts); optionally a Switchboard
 * drive connected the way the seed's origin project did (addRemoteDrive with a listener).
 */
import { mkdirSync } from "node:fs";
import { ReactorBuilder, MemoryStorage, driveDocumentModelModule, setLogLevel } from "document-drive";
import type { IDocumentDriveServer } from "document-drive";
import { IndexedFilesystemStorage } from "./indexed-filesystem-storage.js";
import { documentModelDocumentModelModule, generateId, type DocumentModelModule } from "document-model";
import type { Logger } from "../logger.js";
import { taskDocumentModelModule } from "./task-document/module.js";
import { DEFAULT_LOCAL_DRIVE_MAX_DOCUMENTS, LocalDrives } from "./local-drives.js";

export type ReactorStorageOption = { kind: "memory" } | { kind: "filesystem"; dir: string };

export interface ReactorOptions {
  storage: ReactorStorageOption;
  logger: Logger;
  /** Our log level; the reactor's own logger follows it. */
  logLevel?: string;
  remoteDriveUrl?: string | undefined;
  /** More document models (e.g. ones trigger rules watch). */
  extraModules?: DocumentModelModule[];
  /** Task documents per local drive before a new one is opened (TASK_LOCAL_DRIVE_MAX_DOCUMENTS). */
  localDriveMaxDocuments?: number;
}

export interface AgentReactor {
  reactor: IDocumentDriveServer;
  /** The first local drive ("tasks"). */
  localDriveId: string;
  /** The local drives new task documents go in (local-drives.ts). */
  localDrives: LocalDrives;
  remoteDriveId: string | undefined;
}

export { LOCAL_DRIVE_SLUG } from "./local-drives.js";

/** pino level → document-drive level. */
function reactorLogLevel(level: string | undefined): "verbose" | "debug" | "info" | "warn" | "error" | "silent" {
  switch (level) {
    case "trace":
      return "verbose";
    case "debug":
      return "debug";
    case "info":
      // The reactor is chatty at info: one line per operation. Ours says what matters.
      return "warn";
    case "fatal":
    case "error":
      return "error";
    case "silent":
      return "silent";
    default:
      return "warn";
  }
}

/** A remote drive added before (it is stored): the one whose pull trigger reads from this URL. */
async function findRemoteDrive(reactor: IDocumentDriveServer, url: string): Promise<string | undefined> {
  for (const id of await reactor.getDrives()) {
    const drive = await reactor.getDrive(id);
    if (drive.state.local.triggers.some((trigger) => trigger.type === "PullResponder" && trigger.data?.url === url)) return id;
  }
  return undefined;
}

/**
 * Connects a team's Switchboard drive as reactor-mcp's stdio server does: pulled by a PullResponder
 * trigger (added by addRemoteDrive) and pushed back by a SwitchboardPush listener, global scope only
 * (local state belongs to this agent).
 */
async function connectRemoteDrive(reactor: IDocumentDriveServer, url: string, logger: Logger): Promise<string | undefined> {
  try {
    // After a restart the stored drive is loaded, and syncing again, by initialize(): adding it
    // a second time would fail on its id.
    const known = await findRemoteDrive(reactor, url);
    if (known) {
      logger.info({ url, driveId: known }, "the remote drive is already connected");
      return known;
    }
    const drive = await reactor.addRemoteDrive(url, {
      sharingType: "PUBLIC",
      availableOffline: true,
      listeners: [
        {
          block: true,
          callInfo: { data: url, name: "switchboard-push", transmitterType: "SwitchboardPush" },
          filter: { branch: ["main"], documentId: ["*"], documentType: ["*"], scope: ["global"] },
          label: "Switchboard Sync",
          listenerId: generateId(),
          system: true,
        },
      ],
      triggers: [],
    });
    logger.info({ url, driveId: drive.header.id }, "connected the remote drive");
    return drive.header.id;
  } catch (error) {
    // The agent still works on its local drive; the remote one is tried again at the next start.
    logger.warn({ url, err: error }, "could not connect the remote drive (REMOTE_DRIVE_URL); going on with the local drive");
    return undefined;
  }
}

export async function createReactor(options: ReactorOptions): Promise<AgentReactor> {
  setLogLevel(reactorLogLevel(options.logLevel));
  let storage;
  if (options.storage.kind === "filesystem") {
    mkdirSync(options.storage.dir, { recursive: true });
    storage = new IndexedFilesystemStorage(options.storage.dir);
  } else {
    storage = new MemoryStorage();
  }
  const modules = [driveDocumentModelModule, documentModelDocumentModelModule, taskDocumentModelModule, ...(options.extraModules ?? [])] as DocumentModelModule[];
  const reactor = new ReactorBuilder(modules).withStorage(storage).build();
  const errors = await reactor.initialize();
  if (errors && errors.length > 0) {
    // A drive that fails to load is reported, not fatal: the others still work.
    for (const error of errors) options.logger.error({ err: error }, "the reactor could not load a drive");
  }
  const localDrives = await LocalDrives.open(reactor, options.localDriveMaxDocuments ?? DEFAULT_LOCAL_DRIVE_MAX_DOCUMENTS, options.logger);
  const remoteDriveId = options.remoteDriveUrl ? await connectRemoteDrive(reactor, options.remoteDriveUrl, options.logger) : undefined;
  return { reactor, localDriveId: localDrives.firstId, localDrives, remoteDriveId };
}
