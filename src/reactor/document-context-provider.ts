/**
 * Tells Claude tasks about their source document, read from the agent's reactor.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { PHDocument } from "document-model";
import type { DocumentContext, DocumentContextProvider } from "../tasks/executors/claude/document-context.js";
import type { TaskSource } from "../tasks/types.js";
import { listDocuments } from "./documents.js";

export class ReactorDocumentContext implements DocumentContextProvider {
  constructor(private readonly reactor: IDocumentDriveServer) {}

  async getDocumentContext(source: TaskSource): Promise<DocumentContext | undefined> {
    if (!source.documentId) return undefined;
    try {
      const document = await this.reactor.getDocument<PHDocument>(source.documentId);
      const location = (await listDocuments(this.reactor)).find((d) => d.documentId === source.documentId);
      const driveId = source.driveId ?? location?.driveId;
      return {
        id: document.header.id,
        documentType: document.header.documentType,
        name: document.header.name || location?.name || "",
        ...(driveId ? { driveId } : {}),
        state: (document.state as { global?: unknown }).global ?? null,
      };
    } catch {
      return undefined; // deleted or unreadable: the task runs without the context
    }
  }
}
