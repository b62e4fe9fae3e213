/**
 * The task list's filter as the API and the bulk actions take it (`q` for the title, `since` /
 * `until` for the creation time) → the store's ListFilter, leaving out what was not given.
 */
import type { ListFilter } from "../store/interfaces.js";
import type { TaskStatus } from "./types.js";

export interface FilterFields {
  status?: TaskStatus[] | undefined;
  type?: string | undefined;
  documentId?: string | undefined;
  driveId?: string | undefined;
  since?: Date | undefined;
  until?: Date | undefined;
  q?: string | undefined;
  tag?: string | undefined;
  /** Asked for by this person (source.by). */
  by?: string | undefined;
}

export function toListFilter(fields: FilterFields, page: { limit: number; offset: number }): ListFilter {
  const { status, type, documentId, driveId, since, until, q, tag, by } = fields;
  return {
    ...page,
    ...(status ? { status } : {}),
    ...(type ? { type } : {}),
    ...(documentId ? { documentId } : {}),
    ...(driveId ? { driveId } : {}),
    ...(since ? { createdAfter: since } : {}),
    ...(until ? { createdBefore: until } : {}),
    ...(q ? { titleContains: q } : {}),
    ...(tag ? { tag } : {}),
    ...(by ? { askedBy: by } : {}),
  };
}
