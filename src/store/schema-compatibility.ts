/**
 * Whether this agent's code may work on a store whose schema another (newer) agent migrated; see
 * migration 029. Told to the operator at start (refused), at each heartbeat (a drain), and by
 * `ph-tasks doctor`.
 */
import { LATEST_MIGRATION } from "./migrate.js";

export interface SchemaState {
  /** The store's newest migration. */
  version: number;
  /** The oldest schema version an agent must know to work on it. */
  oldestAgentSchema: number;
}

export class IncompatibleSchemaError extends Error {
  constructor(readonly state: SchemaState) {
    super(incompatibility(state) ?? "incompatible schema");
    this.name = "IncompatibleSchemaError";
  }
}

/** Why this agent may not work on a store in `state`, or undefined when it may. */
export function incompatibility(state: SchemaState, knows = LATEST_MIGRATION): string | undefined {
  if (state.oldestAgentSchema <= knows) return undefined;
  return `the task store's schema (version ${state.version}) needs agents that know version ${state.oldestAgentSchema} or later; this agent knows ${knows}: update it`;
}

/** A note for a store newer than this agent that still admits it, or undefined. */
export function newerButCompatible(state: SchemaState, knows = LATEST_MIGRATION): string | undefined {
  if (state.version <= knows || incompatibility(state, knows)) return undefined;
  return `the task store's schema (version ${state.version}) is newer than this agent's (${knows}); it admits agents from version ${state.oldestAgentSchema}, so this one works on it — update it when you can`;
}
