// The three charts the views share: bars of a distribution, lines over
// training steps, and a matrix as a heatmap. They draw what they are given.
import { attentionScale } from "./colours.js";
import { el, fmtP, shown, svg } from "./dom.js";

// A bar per token, most likely first; `mark` is the token to highlight.
export function bars(container, vocab, probs, mark, limit = 27) {
  container.replaceChildren();
  const order = probs.map((p, i) => i).filter((i) => probs[i] > 0).sort((a, b) => probs[b] - probs[a] || a - b).slice(0, limit);
  const w = 640, rowH = 18, left = 46, h = order.length * rowH + 8;
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, "data-testid": "bars" });
  const max = Math.max(...probs, 1e-12);
  order.forEach((i, r) => {
    const y = 4 + r * rowH, width = (w - left - 80) * probs[i] / max;
    const hit = vocab[i] === mark;
    s.append(svg("g", {}, svg("title", { text: `${vocab[i]}: p = ${probs[i]}` }),
      svg("text", { x: left - 8, y: y + 13, "text-anchor": "end", "font-size": 13, class: "bar-token", text: shown(vocab[i]) }),
      svg("rect", { x: left, y: y + 2, width: Math.max(width, 0.5), height: rowH - 4, fill: hit ? "#d94801" : "#6b93d6" }),
      svg("text", { x: left + width + 6, y: y + 13, "font-size": 12, class: "bar-label", text: fmtP(probs[i]) })));
  });
  container.append(s);
}

// Lines over steps, with optional points, a dashed reference line and axes.
export function lineChart(container, series, ref, marks = []) {
  container.replaceChildren();
  const w = 900, h = 300, L = 48, R = 12, T = 12, B = 30;
  const xs = series.flatMap((s) => s.x), ys = series.flatMap((s) => s.y).filter((y) => y !== null);
  if (ref) ys.push(ref.y);
  if (!xs.length || !ys.length) { container.append(el("p", { class: "note", text: "no run log given (--log RUN.jsonl)" })); return; }
  const xt = niceTicks(Math.min(...xs), Math.max(...xs), 6, true), yt = niceTicks(Math.min(...ys), Math.max(...ys), 5);
  const [x0, x1, y0, y1] = [xt[0], xt[xt.length - 1], yt[0], yt[yt.length - 1]];
  const X = (x) => L + (w - L - R) * (x - x0) / (x1 - x0), Y = (y) => T + (h - T - B) * (1 - (y - y0) / (y1 - y0));
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, "data-testid": "loss-chart" });
  for (const y of yt) {
    s.append(svg("line", { class: "grid", x1: L, x2: w - R, y1: Y(y), y2: Y(y) }));
    s.append(svg("text", { x: L - 6, y: Y(y) + 4, "text-anchor": "end", "font-size": 11, class: "tick-y", text: y.toFixed(yt.decimals) }));
  }
  xt.forEach((x, k) => s.append(svg("text", { x: X(x), y: h - 10, "text-anchor": k === 0 ? "start" : k === xt.length - 1 ? "end" : "middle",
                                               "font-size": 11, class: "tick-x", text: `step ${x}` })));
  for (const m of marks) {  // where two runs part
    s.append(svg("line", { x1: X(m.x), x2: X(m.x), y1: T, y2: h - B, stroke: "#8250df", "stroke-dasharray": "3 3", "data-mark": m.x }));
    s.append(svg("text", { x: X(m.x) + 4, y: T + 12, "font-size": 11, fill: "#8250df", text: m.label }));
  }
  if (ref) {
    s.append(svg("line", { x1: L, x2: w - R, y1: Y(ref.y), y2: Y(ref.y), stroke: "#888", "stroke-dasharray": "5 4" }));
    s.append(svg("text", { x: w - R - 4, y: Y(ref.y) - 5, "text-anchor": "end", "font-size": 11, text: ref.label }));
  }
  series.forEach((ser) => {
    if (ser.points) {
      ser.x.forEach((x, i) => ser.y[i] !== null && s.append(svg("circle", { cx: X(x), cy: Y(ser.y[i]), r: 3.5, fill: ser.colour })));
    } else {
      let d = "";
      ser.x.forEach((x, i) => { if (ser.y[i] !== null) d += `${d && ser.y[i - 1] !== null ? "L" : "M"}${X(x).toFixed(1)},${Y(ser.y[i]).toFixed(1)}`; });
      s.append(svg("path", { d, fill: "none", stroke: ser.colour, "stroke-width": ser.faint ? 1 : 2, opacity: ser.faint ? 0.25 : 1 }));
    }
  });
  const seriesKey = el("p", { class: "note" });
  series.forEach((ser) => seriesKey.append(el("span", { text: `■ ${ser.label}   `, style: `color:${ser.colour}` })));
  container.append(s, seriesKey);
}

// Round ticks that cover lo..hi: multiples of a step of 1, 2, 2.5 or 5 times a
// power of ten, about `count` of them (whole numbers only when `whole`), from
// the last at or below lo to the first at or above hi; `.decimals` prints them.
export function niceTicks(lo, hi, count, whole = false) {
  const raw = (hi - lo) / count || Math.abs(lo) / 10 || 1, power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 2.5, 5, 10].map((m) => m * power).find((st) => st >= raw * (1 - 1e-9) && (!whole || Number.isInteger(st))) || Math.ceil(raw);
  const first = Math.floor(lo / step + 1e-9), last = Math.max(Math.ceil(hi / step - 1e-9), first + 1), ticks = [];
  for (let k = first; k <= last; k++) ticks.push(Number((k * step).toPrecision(12)));
  ticks.decimals = Math.max(0, -Math.floor(Math.log10(step) + 1e-9) + (Number.isInteger(Number((step / power).toPrecision(12))) ? 0 : 1));
  return ticks;
}

// A matrix as coloured cells, with row and column labels; `scale` (colours.js)
// colours each value and names it on hover. Its legend is the view's to place.
export function heatmap(rows, rowLabels, colLabels, { scale = attentionScale, cell = 22, hover, title } = {}) {
  const left = 28, top = 24, w = left + colLabels.length * cell + 4, h = top + rows.length * cell + 4;
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "heatmap" });
  if (title) s.append(svg("title", { text: title }));
  colLabels.forEach((c, j) => s.append(svg("text", { x: left + j * cell + cell / 2, y: top - 8, "text-anchor": "middle", "font-size": 11, text: shown(c) })));
  rows.forEach((row, i) => {
    s.append(svg("text", { x: left - 6, y: top + i * cell + cell / 2 + 4, "text-anchor": "end", "font-size": 11, text: shown(rowLabels[i]) }));
    row.forEach((v, j) => {
      if (v === null) return;
      const r = svg("rect", { x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1,
                              fill: scale.colour(v), "data-value": v });
      r.append(svg("title", { text: `${shown(rowLabels[i])} → ${shown(colLabels[j])}: ${scale.name} ${v.toFixed(4)}` }));
      if (hover) r.addEventListener("mouseenter", () => hover(i, j, v));
      s.append(r);
    });
  });
  return s;
}
