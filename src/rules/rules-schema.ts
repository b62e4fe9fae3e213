/**
 * The trigger rules file (tasks.config.json): which document operations start which tasks, and
 * what to write back when they end. Validated with zod; a bad file stops start-up naming the
 * rule and the field.
 */
import { z } from "zod";

const ConditionSchema = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.null(),
  z.strictObject({ equals: z.unknown() }),
  z.strictObject({ in: z.array(z.unknown()).min(1) }),
  z.strictObject({
    matches: z.string().refine((pattern) => {
      try {
        new RegExp(pattern);
        return true;
      } catch {
        return false;
      }
    }, "must be a valid regular expression"),
  }),
  z.strictObject({ exists: z.boolean() }),
]);
export type Condition = z.infer<typeof ConditionSchema>;

export const RuleSchema = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,63}$/, "must be lower-case letters, digits and dashes"),
  description: z.string().max(500).optional(),
  enabled: z.boolean().default(true),
  on: z.strictObject({
    documentType: z.string().min(1),
    operationType: z.string().min(1),
    /** path (in {input, document, operation}) → condition; all must hold. */
    where: z.record(z.string(), ConditionSchema).default({}),
  }),
  /**
   * A task request; strings may hold {{placeholders}} filled from input, document, operation. Or
   * `{ "pipeline": { title, steps, onFailure? } }`: a pipeline, its steps' tasks linked to the document.
   */
  task: z.union([z.looseObject({ type: z.string().min(1), title: z.string().min(1) }), z.strictObject({ pipeline: z.record(z.string(), z.unknown(), { error: "must be a pipeline request (an object)" }) })], {
    error: 'must be a task request ({ type, title, ... }) or { "pipeline": { title, steps } }',
  }),
  /** What to write on the source document when the task (or the pipeline: every step ended) ends. */
  onResult: z
    .strictObject({
      operation: z.string().min(1),
      input: z.unknown(),
      scope: z.enum(["global", "local"]).default("global"),
      when: z.array(z.enum(["completed", "failed", "cancelled"])).min(1).default(["completed"]),
    })
    .optional(),
});
export type Rule = z.infer<typeof RuleSchema>;

export const RulesFileSchema = z.strictObject({
  $schema: z.string().optional(),
  rules: z.array(RuleSchema).default([]),
}).refine((file) => new Set(file.rules.map((r) => r.name)).size === file.rules.length, { message: "rule names must be unique", path: ["rules"] });
export type RulesFile = z.infer<typeof RulesFileSchema>;
