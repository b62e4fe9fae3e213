/** A query parameter naming an instant: an ISO date-time, or a time ago ("90s", "2h", "7d"). */
import { z } from "zod";
import { parseDuration } from "../config.js";

const AGO = /^\d+(\.\d+)?(ms|s|m|h|d)$/;
export const InstantSchema = z.string().transform((text, ctx) => {
  const ago = AGO.test(text) ? parseDuration(text) : undefined;
  if (ago !== undefined) return new Date(Date.now() - ago);
  const at = /^\d{4}-\d\d-\d\d/.test(text) ? new Date(text) : undefined;
  if (at && !Number.isNaN(at.getTime())) return at;
  ctx.addIssue({ code: "custom", message: "must be an ISO date-time (2026-12-03T08:00:00Z) or a time ago with a unit (90s, 2h, 7d)", input: text });
  return z.NEVER;
});
