/**
 * The prompt a Claude task is run with: the source document (id, type, name, drive) and its
 * state — bounded, so a large document cannot crowd out the task — then the task's title,
 * instructions and prompt. Replace it with the `promptTemplate` executor option.
 */
import type { DocumentContext } from "./document-context.js";

export interface PromptInput {
  title: string;
  instructions: string;
  prompt: string;
  document?: DocumentContext | undefined;
}

export type PromptTemplate = (input: PromptInput) => string;

export const DOCUMENT_STATE_LIMIT = 8 * 1024;

export function boundedJson(value: unknown, limit = DOCUMENT_STATE_LIMIT): string {
  const text = JSON.stringify(value, null, 2) ?? "null";
  if (text.length <= limit) return text;
  return `${text.slice(0, limit)}\n… [${text.length - limit} more characters of the document state omitted]`;
}

export const defaultPromptTemplate: PromptTemplate = ({ title, instructions, prompt, document }) => {
  const parts: string[] = [];
  if (document) {
    parts.push(
      "You are working on a task that a Powerhouse document asked for.",
      `Source document: "${document.name}" (type ${document.documentType}, id ${document.id}${document.driveId ? `, drive ${document.driveId}` : ""}).`,
      "Its current state (JSON):",
      "```json",
      boundedJson(document.state),
      "```",
      "",
    );
  }
  parts.push(`Task: ${title}`);
  if (instructions.trim()) parts.push("", instructions.trim());
  parts.push("", prompt);
  return parts.join("\n");
};
