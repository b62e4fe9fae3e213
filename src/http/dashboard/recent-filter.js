// The filter above "Recent tasks": status, a title search, a tag and who asked. It lives outside the section
// the refresh redraws, so typing in it is never interrupted; the refresh reads it (query()).

import { h } from "./dom.js";

const STATUSES = ["pending", "running", "completed", "failed", "cancelled"];
const current = { status: "", q: "", tag: "", by: "" };

/** The /api/tasks query of the recent list, with the filter applied. */
export function recentQuery() {
  const query = new URLSearchParams({ limit: "25" });
  if (current.status) query.set("status", current.status);
  if (current.q) query.set("q", current.q);
  if (current.tag) query.set("tag", current.tag);
  if (current.by) query.set("by", current.by);
  return `/api/tasks?${query.toString()}`;
}

/** The filter form drawn last and what redraws the list: a tag clicked in a list applies at once. */
let drawn;

/** Shows only the tasks with this tag (a tag on a task's page links here); the overview draws it. */
export function filterByTag(tag) {
  Object.assign(current, { status: "", q: "", tag, by: "" });
  if (!drawn) return;
  drawn.fields.status.value = "";
  drawn.fields.search.value = "";
  drawn.fields.tag.value = tag;
  drawn.fields.by.value = "";
}

/** A tag clicked in the overview's lists: the filter shows it, and the list redraws. */
export function showTag(tag) {
  filterByTag(tag);
  void drawn?.changed();
}

/** True while a filter is applied (the section's title says so). */
export const filtered = () => Boolean(current.status || current.q || current.tag || current.by);

/**
 * "Retry these" while the filter shows failed (or cancelled) tasks, "Cancel these" while it shows
 * pending ones: the same filter sent to POST /api/tasks/retry | cancel (at most 100 at a time).
 */
function bulkButton(api, changed, message) {
  const verb = ["failed", "cancelled"].includes(current.status) ? "retry" : current.status === "pending" ? "cancel" : undefined;
  if (!verb) return "";
  const run = async () => {
    message.textContent = "";
    try {
      const body = { status: [current.status], ...(current.q ? { q: current.q } : {}), ...(current.tag ? { tag: current.tag } : {}), ...(current.by ? { by: current.by } : {}) };
      const outcome = await api(`/api/tasks/${verb}`, { method: "POST", body: JSON.stringify(body) });
      const ids = outcome.retried || outcome.cancelled || [];
      message.textContent = `${ids.length} ${verb === "retry" ? "retried" : "cancelled"}${outcome.more ? "; more match: press again" : ""}`;
      await changed();
    } catch (error) {
      message.textContent = error.message;
    }
  };
  return h("button", { type: "button", class: "secondary", "data-action": `bulk-${verb}`, onclick: run }, verb === "retry" ? "Retry these" : "Cancel these");
}

/** `changed`: re-draws the list after the filter changed; `api`: the dashboard's fetch helper. */
export function recentFilterForm(changed, api) {
  const status = h("select", { name: "status", "aria-label": "Status" },
    h("option", { value: "" }, "any status"), STATUSES.map((s) => h("option", { value: s, selected: s === current.status }, s)));
  const search = h("input", { name: "q", type: "search", placeholder: "title contains…", value: current.q, "aria-label": "Title contains" });
  const tag = h("input", { name: "tag", type: "search", placeholder: "tag", value: current.tag, "aria-label": "Tag", size: 12 });
  const by = h("input", { name: "by", type: "search", placeholder: "asked by", value: current.by, "aria-label": "Asked by", size: 12 });
  const message = h("span", { class: "muted", id: "bulk-message" });
  const bulk = h("span", { id: "bulk-action" });
  bulk.replaceChildren(bulkButton(api, changed, message));
  const form = h("form", { id: "recent-filter", class: "filter" }, status, search, tag, by, h("button", { type: "submit", class: "secondary" }, "Filter"), bulk, message);
  drawn = { fields: { status, search, tag, by }, changed };
  const apply = () => {
    current.status = status.value;
    current.q = search.value.trim();
    current.tag = tag.value.trim();
    current.by = by.value.trim();
    message.textContent = "";
    bulk.replaceChildren(bulkButton(api, changed, message));
    void changed();
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    apply();
  });
  status.addEventListener("change", apply);
  return form;
}
