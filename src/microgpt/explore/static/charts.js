// The three charts the views share: bars of a distribution, lines over
// training steps (zoomable, smoothed on request), and a matrix as a heatmap. They draw what they are given.
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
// Every chart zooms: drag across it to see those steps (the y axis fits what
// is shown), double-click or "whole run" to see all. A series with `smooth`
// is drawn faint as it is and bold as its trailing mean over the last N
// finite values, N set by the chart's slider (opts.window at first), as
// inspection/plots/runs.py's smooth() computes it. opts.log draws y on a log
// scale (values <= 0 are gaps); opts.width, opts.height, opts.testid, opts.yLabel.
export function lineChart(container, series, ref, marks = [], opts = {}) {
  const xs = series.flatMap((s) => s.x);
  const state = { from: null, to: null, window: opts.window || 1 };
  const longest = Math.max(1, ...series.filter((s) => s.smooth).map((s) => s.y.length));
  const draw = () => {
    container.replaceChildren();
    if (!xs.length) { container.append(el("p", { class: "note", text: "no run log given (--log RUN.jsonl)" })); return; }
    const shownSeries = series.flatMap((ser) => ser.smooth
      ? [{ ...ser, faint: true, label: null }, { ...ser, y: trailingMean(ser.y, state.window) }]
      : [ser]);
    container.append(drawLines(shownSeries, ref, marks, opts, state, (from, to) => { state.from = from; state.to = to; draw(); }));
    const bar = el("div", { class: "chart-controls note" });
    if (series.some((s) => s.smooth)) {
      const slider = el("input", { type: "range", min: 1, max: Math.max(1, Math.floor(longest / 3)), value: state.window, "data-testid": "smoothing" });
      slider.addEventListener("input", () => { state.window = Number(slider.value); draw(); });
      bar.append(el("label", { text: "smoothing " }, slider), el("span", { text: `bold line: mean of the last ${state.window} ${state.window === 1 ? "point" : "points"} ·` }));
    }
    const whole = el("button", { text: "whole run", "data-testid": "unzoom" });
    whole.disabled = state.from === null;
    whole.addEventListener("click", () => { state.from = state.to = null; draw(); });
    bar.append(el("span", { text: state.from === null ? "drag across the chart to zoom" : `showing steps ${state.from} to ${state.to}` }), whole);
    container.append(bar);
  };
  draw();
}

// The trailing mean of the last `window` finite values at each point (null where there are none yet).
export function trailingMean(values, window) {
  const out = [], recent = [];
  let sum = 0;
  for (const v of values) {
    if (v !== null && Number.isFinite(v)) {
      recent.push(v); sum += v;
      if (recent.length > window) sum -= recent.shift();
    }
    out.push(recent.length ? sum / recent.length : null);
  }
  return out;
}

function drawLines(series, ref, marks, opts, zoom, onZoom) {
  const w = opts.width || 900, h = opts.height || 300, L = opts.log ? 56 : 48, R = 12, T = 12, B = 30;
  const allX = series.flatMap((s) => s.x);
  const x0 = zoom.from ?? Math.min(...allX), x1 = Math.max(zoom.to ?? Math.max(...allX), x0 + 1);
  const usable = (y) => y !== null && Number.isFinite(y) && (!opts.log || y > 0);
  const ys = series.flatMap((s) => s.y.filter((y, i) => usable(y) && s.x[i] >= x0 && s.x[i] <= x1));
  if (ref && usable(ref.y)) ys.push(ref.y);
  const f = opts.log ? Math.log10 : (y) => y;
  const lo = ys.length ? Math.min(...ys.map(f)) : 0, hi = ys.length ? Math.max(...ys.map(f)) : 1;
  const yt = opts.log ? null : niceTicks(lo, Math.max(hi, lo + 1e-9), 5);  // round numbers on a linear axis
  const y0 = opts.log ? Math.floor(lo) : yt[0], y1 = opts.log ? Math.max(Math.ceil(hi), y0 + 1) : yt[yt.length - 1];
  const X = (x) => L + (w - L - R) * (x - x0) / (x1 - x0), Y = (y) => T + (h - T - B) * (1 - (f(y) - y0) / (y1 - y0));
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, "data-testid": opts.testid || "loss-chart",
                         "data-from": x0, "data-to": x1, class: "line-chart" });
  const clip = `clip-${Math.random().toString(36).slice(2)}`;
  s.append(svg("clipPath", { id: clip }, svg("rect", { x: L, y: T, width: w - L - R, height: h - T - B })));
  const ticks = opts.log ? Array.from({ length: y1 - y0 + 1 }, (_, k) => 10 ** (y0 + k)) : yt;
  for (const y of ticks) {
    s.append(svg("line", { class: "grid", x1: L, x2: w - R, y1: Y(y), y2: Y(y) }));
    s.append(svg("text", { x: L - 6, y: Y(y) + 4, "text-anchor": "end", "font-size": 11, class: "tick-y",
                           text: opts.log ? `1e${Math.round(Math.log10(y))}` : y.toFixed(yt.decimals) }));
  }
  if (opts.yLabel) s.append(svg("text", { x: L + 4, y: T + 10, "font-size": 11, fill: "#555", text: opts.yLabel }));
  // Round steps inside the view, as many as fit: a label ("step 1000") is about 55 px wide at 11 px.
  const xt = niceTicks(x0, x1, Math.max(2, Math.min(6, Math.floor((w - L - R) / 80))), true).filter((x) => x >= x0 && x <= x1);
  for (const x of xt) {  // centred on its step, unless that would cut it at the picture's edge
    const text = `step ${x}`, half = text.length * 3.2;
    const anchor = X(x) - half < 0 ? "start" : X(x) + half > w ? "end" : "middle";
    s.append(svg("text", { x: X(x), y: h - 10, "text-anchor": anchor, "font-size": 11, class: "tick-x", text }));
  }
  for (const m of marks) {  // where two runs part
    if (m.x < x0 || m.x > x1) continue;
    s.append(svg("line", { x1: X(m.x), x2: X(m.x), y1: T, y2: h - B, stroke: "#8250df", "stroke-dasharray": "3 3", "data-mark": m.x }));
    s.append(svg("text", { x: X(m.x) + 4, y: T + 12, "font-size": 11, fill: "#8250df", text: m.label }));
  }
  if (ref && usable(ref.y)) {
    s.append(svg("line", { x1: L, x2: w - R, y1: Y(ref.y), y2: Y(ref.y), stroke: "#888", "stroke-dasharray": "5 4", "data-ref": ref.y }));
    s.append(svg("text", { x: w - R - 4, y: Y(ref.y) - 5, "text-anchor": "end", "font-size": 11, text: ref.label }));
  }
  const inside = (x, y) => usable(y) && x >= x0 && x <= x1;
  series.forEach((ser) => {
    if (ser.points) {
      ser.x.forEach((x, i) => inside(x, ser.y[i]) && s.append(svg("circle", { cx: X(x), cy: Y(ser.y[i]), r: 3.5, fill: ser.colour })));
    } else {
      let d = "", joined = false;  // a point outside or unusable breaks the line
      ser.x.forEach((x, i) => {
        const ok = usable(ser.y[i]) && x >= x0 - (x1 - x0) && x <= x1 + (x1 - x0);
        if (ok) d += `${joined ? "L" : "M"}${X(x).toFixed(1)},${Y(ser.y[i]).toFixed(1)}`;
        joined = ok;
      });
      s.append(svg("path", { d, fill: "none", stroke: ser.colour, "stroke-width": ser.faint ? 1 : 2, opacity: ser.faint ? 0.25 : 1, "clip-path": `url(#${clip})` }));
    }
  });
  dragToZoom(s, L, w - R, T, h - B, (px) => Math.round(x0 + (px - L) / (w - L - R) * (x1 - x0)), onZoom);
  const key = el("p", { class: "note" });  // which colour is which series
  series.filter((ser) => ser.label).forEach((ser) => key.append(el("span", { text: `■ ${ser.label}   `, style: `color:${ser.colour}` })));
  const wrap = el("div", { class: "line-chart-wrap" });
  wrap.append(s, key);
  return wrap;
}

// Drag across the plot to choose steps; a double-click asks for all of them.
function dragToZoom(s, left, right, top, bottom, stepAt, onZoom) {
  const band = svg("rect", { x: left, y: top, width: 0, height: bottom - top, fill: "#2456a6", opacity: 0.12, "pointer-events": "none" });
  s.append(band);
  let start = null;
  const px = (e) => { const r = s.getBoundingClientRect(); return Math.max(left, Math.min(right, (e.clientX - r.left) * s.viewBox.baseVal.width / r.width)); };
  s.addEventListener("mousedown", (e) => { start = px(e); band.setAttribute("x", start); band.setAttribute("width", 0); e.preventDefault(); });
  s.addEventListener("mousemove", (e) => {
    if (start === null) return;
    const at = px(e);
    band.setAttribute("x", Math.min(start, at)); band.setAttribute("width", Math.abs(at - start));
  });
  s.addEventListener("mouseup", (e) => {
    if (start === null) return;
    const a = stepAt(Math.min(start, px(e))), b = stepAt(Math.max(start, px(e)));
    start = null;
    if (b > a) onZoom(a, b); else band.setAttribute("width", 0);
  });
  s.addEventListener("mouseleave", () => { start = null; band.setAttribute("width", 0); });
  s.addEventListener("dblclick", () => onZoom(null, null));
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
