/**
 * Approval tasks (type "approval"): a step a person decides — `ph-tasks approve <id>` / `reject`,
 * the API, or the APPROVE / REJECT operation of its task document — before what comes after it runs
 * (a deploy after its build). It waits as a task waits for its dependencies (run_at at
 * WAITING_RUN_AT, so no claim ever reaches it and it holds no worker's slot), and it stays there
 * when its dependencies complete until it is decided: the release trigger of 013/020 passes over an
 * approval without a decision. The decision goes into its params (decide-approval.ts) and releases
 * it; it then runs like any task, for a moment (approval-executor.ts): completed when approved,
 * failed for good when rejected — so its dependents, its pipeline, webhooks and documents follow
 * through the paths every task takes. Nothing new in the claim, nothing for other tasks. Once it
 * waits for the decision alone, a sweep marks it asked: its document says so, and webhooks on
 * "awaiting_approval" are told (take-approval-asks.ts).
 */
import { enqueueDeliveriesFunction } from "./016-webhook-start-and-retry.js";
import { releaseDependentsFunction } from "./020-run-at.js";

export const name = "approvals";

export const APPROVAL_TYPE = "approval";

/** True for task `t` when it is an approval no one has decided yet. */
export const AWAITING_DECISION = `(t.type = '${APPROVAL_TYPE}' AND NOT t.params ? 'decision')`;

/**
 * True for task `t` when it is an approval that waits for a person's decision now: asked for, not
 * decided (awaitsDecision() of approval-executor.ts). Not used by this migration; it holds every
 * condition of ph_tasks_asked_approvals below, so a query filtering on it can use that index.
 */
export const ASKED_UNDECIDED = `(t.status = 'pending' AND t.params ? 'asked' AND ${AWAITING_DECISION})`;

/** Webhooks told that an approval waits for a person (off unless one asks: switch-delivery-triggers.ts). */
export const ASK_TRIGGER = "ph_tasks_webhook_deliveries_on_ask";

export const statements = [
  // The release trigger passes over an approval without a decision.
  releaseDependentsFunction(` AND NOT ${AWAITING_DECISION}`),
  // The approvals waiting and not yet asked for (few): the sweep that tells people one is theirs to
  // decide reads these; once asked, one leaves the index, so the sweep's cost does not grow with
  // the approvals left waiting for days.
  "CREATE INDEX ph_tasks_unasked_approvals ON ph_tasks (id) WHERE type = 'approval' AND status = 'pending' AND NOT params ? 'asked'",
  // And those asked for, waiting for their decision: what `ph-tasks approvals`, GET /api/approvals
  // and the dashboard's card list.
  "CREATE INDEX ph_tasks_asked_approvals ON ph_tasks (id) WHERE type = 'approval' AND status = 'pending' AND params ? 'asked'",
  // An awaiting_approval delivery says what is asked (the approval's message) and since when.
  enqueueDeliveriesFunction(`
                         WHEN 'awaiting_approval' THEN jsonb_strip_nulls(jsonb_build_object('message', NEW.params->'message', 'askedAt', NEW.params->'asked'))`),
  // The sweep marks an approval asked (params.asked) once its dependencies have completed; that
  // change tells the webhooks on "awaiting_approval" (015/016's delivery function). Claims and
  // finishes never set params: this trigger is not on their path.
  `CREATE TRIGGER ${ASK_TRIGGER} AFTER UPDATE OF params ON ph_tasks
   FOR EACH ROW WHEN (NEW.params ? 'asked' AND NOT OLD.params ? 'asked')
   EXECUTE FUNCTION ph_enqueue_webhook_deliveries('awaiting_approval')`,
  `ALTER TABLE ph_tasks DISABLE TRIGGER ${ASK_TRIGGER}`,
];
