/**
 * What a Claude task is told about the document that asked for it. The agent implements the
 * provider over its reactor; anything else (tests, embedders) can supply its own.
 */
import type { TaskSource } from "../../types.js";

export interface DocumentContext {
  id: string;
  documentType: string;
  name: string;
  driveId?: string;
  state: unknown;
}

export interface DocumentContextProvider {
  getDocumentContext(source: TaskSource): Promise<DocumentContext | undefined>;
}
