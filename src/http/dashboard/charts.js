// The overview's two charts, drawn as inline SVG from /api/stats' perMinute rows: tasks finished
// per minute (completed and failed, stacked) and the failure rate per minute, over the last hour.
import { h, svg } from "./dom.js";

const WIDTH = 600;
const LEFT = 34; // room for the y-axis labels
const SLOT = (WIDTH - LEFT) / 60;
const COLORS = { completed: "#1d8a4a", failed: "#c23a2b", rate: "#d48806", grid: "#e3e6ec", label: "#6b7385" };

/** One bucket per minute, oldest first, ending with the current minute. */
export function minuteBuckets(perMinute, nowMs = Date.now()) {
  const now = Math.floor(nowMs / 60000);
  const buckets = Array.from({ length: 60 }, (_, i) => ({ minute: now - 59 + i, completed: 0, failed: 0 }));
  for (const row of perMinute) {
    const bucket = buckets[Math.floor(Date.parse(row.minute) / 60000) - (now - 59)];
    if (bucket && (row.status === "completed" || row.status === "failed")) bucket[row.status] += row.count;
  }
  return buckets;
}

const label = (x, y, text, anchor = "end") => svg("text", { x, y, "text-anchor": anchor, "font-size": 10, fill: COLORS.label }, text);
const gridLine = (y) => svg("line", { x1: LEFT, y1: y, x2: WIDTH, y2: y, stroke: COLORS.grid });

/** Time labels under a plot whose baseline is at y. */
function timeAxis(root, y) {
  root.append(label(LEFT, y + 13, "−60 min", "start"), label(LEFT + (WIDTH - LEFT) / 2, y + 13, "−30 min", "middle"), label(WIDTH, y + 13, "now"));
}

function throughputSvg(buckets) {
  const top = 8;
  const base = 128;
  const max = Math.max(1, ...buckets.map((b) => b.completed + b.failed));
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} 148`, role: "img", "aria-label": "tasks finished per minute, last hour", id: "chart-throughput" });
  root.append(gridLine(top), gridLine((top + base) / 2), gridLine(base));
  root.append(label(LEFT - 6, top + 4, String(max)), label(LEFT - 6, base + 3, "0"));
  buckets.forEach((b, i) => {
    const x = LEFT + i * SLOT + 1;
    const hc = (b.completed / max) * (base - top);
    const hf = (b.failed / max) * (base - top);
    const title = `${new Date(b.minute * 60000).toLocaleTimeString([], { hour: "2-digit", minute: "2-digit" })}: ${b.completed} completed, ${b.failed} failed`;
    if (hc) root.append(svg("rect", { x, y: base - hc, width: SLOT - 2, height: hc, fill: COLORS.completed }, svg("title", {}, title)));
    if (hf) root.append(svg("rect", { x, y: base - hc - hf, width: SLOT - 2, height: hf, fill: COLORS.failed }, svg("title", {}, title)));
  });
  timeAxis(root, base);
  return root;
}

function failureRateSvg(buckets) {
  const top = 8;
  const base = 78;
  const root = svg("svg", { viewBox: `0 0 ${WIDTH} 98`, role: "img", "aria-label": "failure rate per minute, last hour", id: "chart-failure-rate" });
  root.append(gridLine(top), gridLine((top + base) / 2), gridLine(base));
  root.append(label(LEFT - 6, top + 4, "100 %"), label(LEFT - 6, (top + base) / 2 + 3, "50 %"), label(LEFT - 6, base + 3, "0 %"));
  // Minutes in which nothing finished have no rate: the line breaks there instead of dropping to 0.
  let segment = [];
  const flush = () => {
    if (segment.length > 1) root.append(svg("polyline", { points: segment.join(" "), fill: "none", stroke: COLORS.rate, "stroke-width": 1.5 }));
    segment = [];
  };
  buckets.forEach((b, i) => {
    const total = b.completed + b.failed;
    if (!total) return flush();
    const x = LEFT + i * SLOT + SLOT / 2;
    const y = base - (b.failed / total) * (base - top);
    segment.push(`${x},${y}`);
    root.append(svg("circle", { cx: x, cy: y, r: 2.5, fill: COLORS.rate }, svg("title", {}, `${Math.round((b.failed / total) * 100)} % of ${total} failed`)));
  });
  flush();
  timeAxis(root, base);
  return root;
}

// Set through the CSSOM, not a style attribute: the page's Content-Security-Policy allows no inline style.
const swatch = (color) => {
  const el = h("i");
  el.style.background = color;
  return el;
};

/** Both charts with their legends, as one element the overview can swap on refresh. */
export function charts(perMinute) {
  const buckets = minuteBuckets(perMinute);
  const completed = buckets.reduce((sum, b) => sum + b.completed, 0);
  const failed = buckets.reduce((sum, b) => sum + b.failed, 0);
  const rate = completed + failed ? Math.round((failed / (completed + failed)) * 100) : 0;
  return h("div", { class: "charts" },
    h("h3", {}, "Finished per minute"),
    throughputSvg(buckets),
    h("div", { class: "legend" },
      h("span", {}, swatch(COLORS.completed), `completed ${completed}`),
      h("span", {}, swatch(COLORS.failed), `failed ${failed}`)),
    h("h3", {}, "Failure rate"),
    failureRateSvg(buckets),
    h("div", { class: "legend" }, h("span", { id: "failure-rate" }, swatch(COLORS.rate), `${rate} % of ${completed + failed} finished in the last hour failed`)));
}
