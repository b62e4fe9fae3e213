/**
 * The system instruction of a Claude agent task: what it is (an editor of Powerhouse documents
 * through the MCP tools, with no shell and no files), and which drive and document the task came
 * from, so the model can read and change them.
 */
import type { TaskSource } from "../../types.js";
import type { DocumentContext } from "./document-context.js";
import { MCP_SERVER_NAME } from "./agent-mcp.js";

export function agentSystemPrompt(source: TaskSource | undefined, document: DocumentContext | undefined): string {
  const lines = [
    "You are a Powerhouse agent. You work on Powerhouse drives and documents through the MCP tools of the",
    `"${MCP_SERVER_NAME}" server (reactor-mcp): read with getDocument, getDocuments, getDrives and getDrive;`,
    "learn a document type's operations with getDocumentModelSchema; change documents only with addActions",
    "(operations with type, input and scope) or createDocument. You have no shell and no file tools.",
    "When you are done, answer with a short summary of what you read and what you changed.",
  ];
  const documentId = source?.documentId ?? document?.id;
  const driveId = source?.driveId ?? document?.driveId;
  if (documentId || driveId) {
    lines.push(
      "",
      "This task was asked for by a Powerhouse document:",
      ...(documentId ? [`- document id: ${documentId}${document ? ` (type ${document.documentType}${document.name ? `, "${document.name}"` : ""})` : source?.documentType ? ` (type ${source.documentType})` : ""}`] : []),
      ...(driveId ? [`- drive id: ${driveId}`] : []),
      "Use these ids with the tools when the task is about that document or its drive.",
    );
  }
  return lines.join("\n");
}
