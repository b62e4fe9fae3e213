/**
 * Approvals waiting for people this agent no longer knows: an approval names its approvers when
 * asked for (each known then), but a name taken out of API_USERS or TASK_AUTHORIZED_WRITERS since
 * leaves it waiting for a decision no one here can make. Told at start and by `ph-tasks doctor`;
 * the way out is to give that person a token or key again, or to cancel the approval and ask anew.
 */
import type { Queryable } from "../store/db.js";
import { selectApprovalsWithApprovers } from "../store/sql/select-approvals-with-approvers.js";

/** How many waiting approvals are looked at (the rest are not named). */
const LOOKED_AT = 1000;

export interface UndecidableApproval {
  id: string;
  title: string;
  /** Those of its approvers this agent does not know. */
  unknown: string[];
}

/** The waiting approvals that not enough known approvers (besides those already counted) could still decide. */
export async function undecidableApprovals(db: Queryable, known: readonly string[]): Promise<UndecidableApproval[]> {
  const rows = await selectApprovalsWithApprovers(db, LOOKED_AT);
  return rows.flatMap((row) => {
    const approvers = Array.isArray(row.approvers) ? row.approvers.filter((n): n is string => typeof n === "string") : [];
    const counted = Array.isArray(row.approvals) ? row.approvals.map((a) => (a as { by?: unknown }).by).filter((n): n is string => typeof n === "string") : [];
    const able = approvers.filter((name) => known.includes(name) && !counted.includes(name));
    if (able.length >= row.required - counted.length) return [];
    return [{ id: row.id, title: row.title, unknown: approvers.filter((name) => !known.includes(name)) }];
  });
}

/** One line about them, or undefined when there are none. */
export function describeUndecidable(approvals: readonly UndecidableApproval[]): string | undefined {
  if (approvals.length === 0) return undefined;
  const shown = approvals.slice(0, 5).map((a) => `${a.id} "${a.title}" (waits for ${a.unknown.join(", ")})`);
  const more = approvals.length > 5 ? ` and ${approvals.length - 5} more` : "";
  return `${approvals.length} approval${approvals.length === 1 ? "" : "s"} no one this agent knows can decide: ${shown.join(", ")}${more} — name them again in API_USERS / TASK_AUTHORIZED_WRITERS, or cancel and ask anew`;
}
