import type { Queryable } from "../db.js";

/**
 * The store's schema version (its newest migration) and the oldest one an agent must know to
 * work on it (029); null where the store has no tables yet or predates 029.
 */
export async function selectSchemaState(db: Queryable): Promise<{ version: number | null; oldestAgentSchema: number | null }> {
  const { rows } = await db.query<{ version: number | null; oldest: number | null }>(
    `SELECT (SELECT max(version) FROM ph_tasks_migrations) AS version,
            (SELECT oldest_agent_schema FROM ph_tasks_schema) AS oldest`,
  );
  return { version: rows[0]?.version ?? null, oldestAgentSchema: rows[0]?.oldest ?? null };
}
