/**
 * Which agents may work on this store. Workers of several versions share a PostgreSQL store during
 * a rolling upgrade; the first new one migrates it, and the old ones go on — which is fine after an
 * additive migration and wrong after some: agents older than 028 write no title rows, so the tasks
 * they enqueue after it are missing from every title search. Until now nothing told them.
 *
 * `oldest_agent_schema` is the lowest schema version an agent's code must know (its newest
 * migration) to work on this store. A migration after which older agents would do wrong raises it
 * to its own version (`breaksOlderAgents` in migrate.ts). An agent that knows less refuses to start
 * (`ph-tasks doctor` fails too), and a running one that sees it raised at its heartbeat drains
 * itself: it claims nothing more, lets its runs finish, and the workers list says why.
 *
 * A contract with every later version: this table, its one row and this column stay as they are.
 * Each worker's row also says which schema version its code knows (`ph-tasks workers`).
 */
export const name = "schema-compatibility";

export const statements = [
  `CREATE TABLE ph_tasks_schema (
     singleton           boolean PRIMARY KEY DEFAULT true CHECK (singleton),
     oldest_agent_schema integer NOT NULL
   )`,
  // Agents before 028 write no title rows.
  `INSERT INTO ph_tasks_schema (oldest_agent_schema) VALUES (28)`,
  // Null for workers that started before this migration (they do not say).
  `ALTER TABLE ph_workers ADD COLUMN schema_version integer`,
];
