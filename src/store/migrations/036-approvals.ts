/**
 * Approval tasks (type "approval"): a step a person decides — `ph-tasks approve <id>` / `reject`,
 * the API, or the APPROVE / REJECT operation of its task document — before what comes after it runs
 * (a deploy after its build). It waits as a task waits for its dependencies (run_at at
 * WAITING_RUN_AT, so no claim ever reaches it and it holds no worker's slot), and it stays there
 * when its dependencies complete until it is decided: the release trigger of 013/020 passes over an
 * approval without a decision. The decision goes into its params (decide-approval.ts) and releases
 * it; it then runs like any task, for a moment (approval-executor.ts): completed when approved,
 * failed for good when rejected — so its dependents, its pipeline, webhooks and documents follow
 * through the paths every task takes. Nothing new in the claim, nothing for other tasks.
 */
import { releaseDependentsFunction } from "./020-run-at.js";

export const name = "approvals";

export const APPROVAL_TYPE = "approval";

/** True for task `t` when it is an approval no one has decided yet. */
export const AWAITING_DECISION = `(t.type = '${APPROVAL_TYPE}' AND NOT t.params ? 'decision')`;

// The release trigger passes over an approval without a decision.
export const statements = [releaseDependentsFunction(` AND NOT ${AWAITING_DECISION}`)];
