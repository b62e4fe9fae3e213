// The "Changes" page (#/audit, #/audit?actor=alice): the audit log (GET /api/audit), newest first —
// who asked for which change through the API, an inbound hook or a task document, and how it
// ended; a page of 100 at a time ("Older"), one actor's by clicking their name. Texts go through
// textContent only (dom.js): actors, paths and reasons come from requests and documents.

import { ago, h } from "./dom.js";

const PAGE = 100;
const auditHref = (actor) => (actor ? `#/audit?actor=${encodeURIComponent(actor)}` : "#/audit");

/** The header's link to the page. */
export function auditNav() {
  return h("a", { href: "#/audit", class: "nav", id: "nav-audit" }, "Changes");
}

function entryRow(e) {
  const failed = /^[45]\d\d$/.test(e.outcome) || e.outcome === "refused";
  return h("tr", { "data-entry": e.id, "data-via": e.via },
    h("td", { title: new Date(e.at).toLocaleString() }, ago(e.at)),
    h("td", { class: "actor" }, h("a", { href: auditHref(e.actor) }, e.actor)),
    h("td", {}, e.via),
    h("td", { class: "title" }, e.action),
    h("td", { class: failed ? "outcome error-text" : "outcome" }, e.outcome),
    h("td", { class: "detail muted" }, e.detail || ""));
}

/** Draws the page for `actor` (or everyone's); "Older" adds the next page below. */
export async function auditPage(app, api, actor) {
  const query = (before) => `/api/audit?limit=${PAGE}${actor ? `&actor=${encodeURIComponent(actor)}` : ""}${before ? `&before=${before}` : ""}`;
  const first = await api(query());
  const body = h("tbody", {}, first.entries.map(entryRow));
  let next = first.next;
  const older = h("button", { class: "secondary", id: "audit-older" }, "Older");
  older.hidden = !next;
  older.addEventListener("click", async () => {
    const page = await api(query(next));
    body.append(...page.entries.map(entryRow));
    next = page.next;
    older.hidden = !next;
  });
  app.replaceChildren(h("section", { class: "card", id: "audit-section" },
    h("h2", {}, actor ? `Changes asked for by ${actor}` : "Changes asked for"),
    actor ? h("p", {}, h("a", { href: "#/audit" }, "← everyone's")) : h("p", { class: "muted" }, "API requests that are not reads, accepted hook deliveries, and run requests, cancels and decisions on task documents (ph-tasks audit)."),
    first.entries.length === 0 ? h("p", { class: "muted", id: "audit-empty" }, "Nothing recorded yet.") :
      h("div", { class: "table-wrap" }, h("table", { id: "audit" },
        h("thead", {}, h("tr", {}, h("th", {}, "When"), h("th", {}, "Who"), h("th", {}, "Via"), h("th", {}, "What"), h("th", {}, "Outcome"), h("th", {}, "Detail"))),
        body)),
    older));
}
