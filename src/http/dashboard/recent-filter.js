// The filter above "Recent tasks": status and a title search. It lives outside the section the
// refresh redraws, so typing in it is never interrupted; the refresh reads it (query()).

import { h } from "./dom.js";

const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];
const current = { status: "", q: "" };

/** The /api/tasks query of the recent list, with the filter applied. */
export function recentQuery() {
  const query = new URLSearchParams({ limit: "25" });
  if (current.status) query.set("status", current.status);
  if (current.q) query.set("q", current.q);
  return `/api/tasks?${query.toString()}`;
}

/** True while a filter is applied (the section's title says so). */
export const filtered = () => Boolean(current.status || current.q);

/** `changed`: re-draws the list after the filter changed. */
export function recentFilterForm(changed) {
  const status = h("select", { name: "status", "aria-label": "Status" },
    h("option", { value: "" }, "any status"), STATUSES.map((s) => h("option", { value: s, selected: s === current.status }, s)));
  const search = h("input", { name: "q", type: "search", placeholder: "title contains…", value: current.q, "aria-label": "Title contains" });
  const form = h("form", { id: "recent-filter", class: "filter" }, status, search, h("button", { type: "submit", class: "secondary" }, "Filter"));
  const apply = () => {
    current.status = status.value;
    current.q = search.value.trim();
    void changed();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  status.addEventListener("change", apply);
  return form;
}
