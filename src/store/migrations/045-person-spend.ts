/**
 * Spend per person: who asked for each run that cost money, as the agent proved it (a task's
 * `source.by`: a named API token of API_USERS, or a named app key of TASK_AUTHORIZED_WRITERS for a
 * document's request) — so that `ph-tasks spend` can say whose requests cost most. Null where no
 * one was named (API_TOKEN, loopback, schedules, hooks, an unnamed writer) and for runs recorded
 * before it. Additive: older agents neither read nor write it.
 */
export const name = "person-spend";

export const statements = [
  "ALTER TABLE ph_run_costs ADD COLUMN IF NOT EXISTS asked_by text",
  // One person's spend in a window, without reading everyone's.
  "CREATE INDEX IF NOT EXISTS ph_run_costs_asked_by ON ph_run_costs (asked_by, recorded_at) WHERE asked_by IS NOT NULL",
];
