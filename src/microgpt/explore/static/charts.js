// The three charts the views share: bars of a distribution, lines over
// training steps, and a matrix as a heatmap. They draw what they are given.
import { BLUE, el, fmtP, ramp, shown, svg } from "./dom.js";

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
    s.append(svg("text", { x: left - 8, y: y + 13, "text-anchor": "end", "font-size": 13, text: shown(vocab[i]) }));
    s.append(svg("rect", { x: left, y: y + 2, width: Math.max(width, 0.5), height: rowH - 4,
                           fill: hit ? "#d94801" : "#6b93d6" }, svg("title", { text: `${vocab[i]}: ${probs[i]}` })));
    s.append(svg("text", { x: left + width + 6, y: y + 13, "font-size": 12, text: fmtP(probs[i]) }));
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
  const x0 = Math.min(...xs), x1 = Math.max(...xs, x0 + 1), y0 = Math.min(...ys), y1 = Math.max(...ys, y0 + 1e-9);
  const X = (x) => L + (w - L - R) * (x - x0) / (x1 - x0), Y = (y) => T + (h - T - B) * (1 - (y - y0) / (y1 - y0));
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, "data-testid": "loss-chart" });
  for (let k = 0; k <= 4; k++) {
    const y = y0 + (y1 - y0) * k / 4;
    s.append(svg("line", { class: "grid", x1: L, x2: w - R, y1: Y(y), y2: Y(y) }));
    s.append(svg("text", { x: L - 6, y: Y(y) + 4, "text-anchor": "end", "font-size": 11, text: y.toFixed(2) }));
  }
  [[x0, "start"], [Math.round((x0 + x1) / 2), "middle"], [x1, "end"]].forEach(([x, anchor]) =>
    s.append(svg("text", { x: X(x), y: h - 10, "text-anchor": anchor, "font-size": 11, text: `step ${x}` })));
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
  const legend = el("p", { class: "note" });
  series.forEach((ser) => legend.append(el("span", { text: `■ ${ser.label}   `, style: `color:${ser.colour}` })));
  container.append(s, legend);
}

// A matrix as coloured cells, with row and column labels.
export function heatmap(rows, rowLabels, colLabels, { max = 1, stops = BLUE, cell = 22, hover, title } = {}) {
  const left = 28, top = 24, w = left + colLabels.length * cell + 4, h = top + rows.length * cell + 4;
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, class: "heatmap" });
  if (title) s.append(svg("title", { text: title }));
  colLabels.forEach((c, j) => s.append(svg("text", { x: left + j * cell + cell / 2, y: top - 8, "text-anchor": "middle", "font-size": 11, text: shown(c) })));
  rows.forEach((row, i) => {
    s.append(svg("text", { x: left - 6, y: top + i * cell + cell / 2 + 4, "text-anchor": "end", "font-size": 11, text: shown(rowLabels[i]) }));
    row.forEach((v, j) => {
      if (v === null) return;
      const r = svg("rect", { x: left + j * cell, y: top + i * cell, width: cell - 1, height: cell - 1,
                              fill: ramp(Math.abs(v) / max, stops), "data-value": v });
      r.append(svg("title", { text: `${rowLabels[i]} → ${colLabels[j]}: ${v.toFixed(4)}` }));
      if (hover) r.addEventListener("mouseenter", () => hover(i, j, v));
      s.append(r);
    });
  });
  return s;
}
