/**
 * Matching operations against trigger rules and building the task each match asks for.
 */
import { existsSync, readFileSync } from "node:fs";
import { formatFieldErrors, parseWith } from "../validation.js";
import { RulesFileSchema, type Condition, type Rule, type RulesFile } from "./rules-schema.js";
import { fillTemplate, valueAt } from "./template.js";

/** What a rule sees of an operation: its input, its document, the operation itself. */
export interface TriggerContext {
  input: unknown;
  document: { id: string; type: string; name?: string; driveId?: string; state?: unknown };
  operation: { id: string; type: string; index: number };
}

/** What a result mapping sees when the task (or a rule's pipeline: `task` is then the pipeline) has ended. */
export interface ResultContext extends TriggerContext {
  task: { id: string; status: string; attempts: number };
  result: unknown;
  error: unknown;
  /** A rule's pipeline: its id, title, status and steps by name ({ status, result, error }). */
  pipeline?: { id: string; title: string; status: string; steps: Record<string, unknown> };
}

function holds(condition: Condition, value: unknown): boolean {
  if (condition === null || typeof condition !== "object") return value === condition;
  if ("equals" in condition) return JSON.stringify(value) === JSON.stringify(condition.equals);
  if ("in" in condition) return condition.in.some((c) => JSON.stringify(c) === JSON.stringify(value));
  if ("matches" in condition) return typeof value === "string" && new RegExp(condition.matches).test(value);
  return (value !== undefined && value !== null) === condition.exists;
}

export function ruleMatches(rule: Rule, documentType: string, operationType: string, context: TriggerContext): boolean {
  if (!rule.enabled || rule.on.documentType !== documentType || rule.on.operationType !== operationType) return false;
  return Object.entries(rule.on.where).every(([path, condition]) => holds(condition, valueAt(context, path)));
}

export function buildTaskRequest(rule: Rule, context: TriggerContext): Record<string, unknown> {
  return fillTemplate(rule.task, context) as Record<string, unknown>;
}

export function buildResultAction(rule: Rule, context: ResultContext): { type: string; input: unknown; scope: "global" | "local" } | undefined {
  const mapping = rule.onResult;
  if (!mapping || !mapping.when.includes(context.task.status as "completed")) return undefined;
  return { type: mapping.operation, input: fillTemplate(mapping.input, context), scope: mapping.scope };
}

export class RulesFileError extends Error {}

/** Reads and validates a rules file; a missing file means no rules. */
export function loadRulesFile(path: string): RulesFile {
  if (!existsSync(path)) return { rules: [] };
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(path, "utf8"));
  } catch (error) {
    throw new RulesFileError(`rules file ${path} is not valid JSON: ${(error as Error).message}`);
  }
  const parsed = parseWith(RulesFileSchema, json);
  if (!parsed.ok) throw new RulesFileError(`rules file ${path} is invalid:\n${formatFieldErrors(parsed.errors)}`);
  return parsed.value;
}
