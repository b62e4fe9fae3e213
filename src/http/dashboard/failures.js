// The overview's "Why tasks failed" card: the last hour's failed tasks per type and error code
// (/api/stats `failures`), most frequent first, with the latest one's message linked to its task.
// Text from the API goes through textContent only (dom.js).

import { h } from "./dom.js";

export function failuresSection(failures) {
  const optional = { class: "optional" };
  return h("section", { class: "card", id: "failures-section" },
    h("h2", {}, "Why tasks failed (last hour)"),
    failures.length === 0 ? h("p", { class: "muted" }, "No task failed in the last hour.") :
      h("div", { class: "table-wrap" }, h("table", { id: "failures" },
        h("thead", {}, h("tr", {}, h("th", {}, "Type"), h("th", {}, "Error"), h("th", {}, "Tasks"), h("th", optional, "Last"), h("th", {}, "Latest message"))),
        h("tbody", {}, failures.map((f) => h("tr", { "data-code": f.code, "data-type": f.type },
          h("td", {}, f.type), h("td", { class: "error-text" }, f.code), h("td", {}, String(f.count)),
          h("td", optional, new Date(f.lastAt).toLocaleTimeString()),
          h("td", { class: "title" }, h("a", { href: `#/tasks/${encodeURIComponent(f.lastTaskId)}`, title: f.lastMessage }, f.lastMessage || "(no message)"))))))));
}
