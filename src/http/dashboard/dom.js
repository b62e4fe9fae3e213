// Element builders. Children that are strings become text nodes (Node.append never parses
// markup), which is what keeps task data from the API from injecting HTML.

/** Builds an HTML element; attributes starting with "on" become listeners. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith("on")) el.addEventListener(key.slice(2), value);
    else if (key === "class") el.className = value;
    else el.setAttribute(key, value === true ? "" : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) el.append(child instanceof Node ? child : String(child));
  return el;
}

/** A task status as a coloured badge (data-status for tests and styles). */
export const badge = (status) => h("span", { class: `badge ${status}`, "data-status": status }, status);
/** A time of day, or a dash for none. */
export const when = (iso) => (iso ? new Date(iso).toLocaleTimeString() : "–");

/** Builds an SVG element (they need the SVG namespace; createElement would make inert HTML). */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  for (const [key, value] of Object.entries(attrs)) el.setAttribute(key, String(value));
  for (const child of children) el.append(child instanceof Node ? child : String(child));
  return el;
}

/** How long ago an ISO time was, for a person: "12 s ago", "5 min ago", "3 h ago", "2 d ago". */
export function ago(iso) {
  const s = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
  return s < 60 ? `${s} s ago` : s < 3600 ? `${Math.round(s / 60)} min ago` : s < 86400 ? `${Math.round(s / 3600)} h ago` : `${Math.round(s / 86400)} d ago`;
}
