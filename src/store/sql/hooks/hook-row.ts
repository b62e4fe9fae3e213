import type { JsonObject } from "../../../tasks/types.js";

/** A row of ph_hooks as the SQL returns it. */
export interface HookRow {
  id: string;
  name: string;
  /** HMAC key of the hook's deliveries; never shown after creation. */
  secret: string;
  task: JsonObject;
  enabled: boolean;
  /** The secret before the last rotation, valid until previous_secret_until (secret-rotation.ts). */
  previous_secret: string | null;
  previous_secret_until: Date | null;
  /** Which signatures a delivery may bring: 'timestamped' only (Standard Webhooks), or 'any' (also GitHub's body-only one). */
  signing: HookSigning;
  received_count: number;
  rejected_count: number;
  last_received_at: Date | null;
  last_task_id: string | null;
  last_error: string | null;
  created_at: Date;
  updated_at: Date;
}

/** What creating a hook writes (no previous secret yet). */
export type NewHookFields = Omit<HookFields, "previous_secret" | "previous_secret_until">;

/** What saving a hook writes. */
export type HookFields = Pick<HookRow, "name" | "secret" | "previous_secret" | "previous_secret_until" | "task" | "enabled" | "signing">;

export const HOOK_SIGNINGS = ["any", "timestamped"] as const;
export type HookSigning = (typeof HOOK_SIGNINGS)[number];
