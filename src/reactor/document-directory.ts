/**
 * Where documents live and what type they are, as the event handler needs to know for every
 * operation: remembered from drive operations (ADD_FILE) and from one scan of the drives, so an
 * operation does not cost a drive listing.
 */
import type { IDocumentDriveServer } from "document-drive";
import type { Operation } from "document-model";
import { listDocuments, type DocumentLocation } from "./documents.js";

export class DocumentDirectory {
  private readonly types = new Map<string, string>();
  private readonly drives = new Map<string, string>();
  private scanned = false;

  constructor(private readonly reactor: IDocumentDriveServer) {}

  /** A document's type; undefined when the reactor does not have it. */
  async typeOf(documentId: string): Promise<string | undefined> {
    const known = this.types.get(documentId);
    if (known) return known;
    try {
      const document = await this.reactor.getDocument(documentId);
      this.types.set(documentId, document.header.documentType);
      return document.header.documentType;
    } catch {
      return undefined;
    }
  }

  noteType(documentId: string, documentType: string): void {
    this.types.set(documentId, documentType);
  }

  /** The drive holding a document (one full scan the first time one is unknown). */
  async driveOf(documentId: string): Promise<string | undefined> {
    const known = this.drives.get(documentId);
    if (known || this.scanned) return known;
    await this.scan();
    return this.drives.get(documentId);
  }

  /** Learns from a drive's operations where its files live. */
  learnFromDrive(driveId: string, operations: readonly Operation[]): void {
    for (const op of operations) {
      const input = op.action.input as { id?: unknown; documentType?: unknown } | null;
      if (op.action.type === "ADD_FILE" && typeof input?.id === "string") {
        this.drives.set(input.id, driveId);
        if (typeof input.documentType === "string") this.types.set(input.id, input.documentType);
      }
    }
  }

  /** Every document in every drive, remembered; after it, ADD_FILE operations keep the maps current. */
  async scan(): Promise<DocumentLocation[]> {
    const locations = await listDocuments(this.reactor);
    for (const location of locations) {
      this.drives.set(location.documentId, location.driveId);
      this.types.set(location.documentId, location.documentType);
    }
    this.scanned = true;
    return locations;
  }
}
