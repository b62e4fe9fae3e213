/**
 * Named task templates: a task request with "{{params.<name>}}" placeholders, stored once and
 * named by `POST /api/tasks { "template": "<name>", "params": { ... } }` (or `ph-tasks submit
 * template <name> --param k=v`), so a common operation is one short request.
 */
export const name = "templates";

export const sql = `
CREATE TABLE ph_templates (
  id text PRIMARY KEY,
  name text NOT NULL UNIQUE,
  description text NOT NULL DEFAULT '',
  task jsonb NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
)
`;
