// 1. The model card: a side's configuration, parameter count, training record,
// loss curves (with where overlaid runs part) and the samples it draws.
import { lineChart } from "./charts.js";
import { el, fmt } from "./dom.js";
import { sideEl } from "./state.js";

// The update-to-weight ratio the lectures call healthy: each step moves a
// weight matrix by about a thousandth of its size.
const RATIO_GUIDE = { y: 1e-3, label: "1e-3: the usual update-to-data ratio" };
const MATRIX_COLOURS = ["#2456a6", "#d94801", "#1a7f37", "#8250df", "#bf3989", "#0a7e8c", "#9a6700", "#57606a", "#cf222e", "#3b4a8c"];

// --log-stats runs: every matrix's weight and gradient norms (one chart each, a
// line per matrix, of the first such run) and its update-to-weight ratio (a
// chart per matrix, a line per run), all on log scales.
function renderDynamics(side, runs) {
  const panel = sideEl(side, "card-dynamics-panel"), norms = sideEl(side, "card-norms"), ratios = sideEl(side, "card-ratios");
  panel.hidden = !runs.length;
  norms.replaceChildren(); ratios.replaceChildren();
  if (!runs.length) return;
  const first = runs[0], names = Object.keys(first.stats);
  const window = Math.max(1, Math.round(first.stats_steps.length / 25));
  sideEl(side, "card-dynamics-note").textContent = `Measured every ${first.stats_steps.length > 1 ? first.stats_steps[1] - first.stats_steps[0] : "?"} steps ` +
    `(train --log-stats). The ratio is the size of the change one optimizer step made to a matrix over the size of the matrix.`;
  for (const [field, title] of [["weight_norm", "weight norm"], ["grad_norm", "gradient norm"]]) {
    const box = el("div", { class: "panel wide" }, el("h3", { text: `${title} (${first.label})` }));
    norms.append(box);
    const chart = el("div", { "data-testid": `chart-${field}` });
    box.append(chart);
    lineChart(chart, names.map((n, i) => ({ label: n, x: first.stats_steps, y: first.stats[n][field], colour: MATRIX_COLOURS[i % 10], smooth: true })),
              null, [], { log: true, width: 440, height: 220, window, testid: `${field}-chart` });
  }
  for (const n of names) {
    const chart = el("div", { "data-testid": `ratio-${n}` });
    ratios.append(el("div", {}, el("h3", { text: `${n}: update / weight` }), chart));
    lineChart(chart, runs.filter((r) => r.stats[n]).map((r, i) => ({ label: r.label, x: r.stats_steps, y: r.stats[n].update_ratio, colour: MATRIX_COLOURS[i % 10], smooth: true })),
              RATIO_GUIDE, [], { log: true, width: 400, height: 180, window, testid: "ratio-chart" });
  }
}

export function renderCard(side) {
  const c = side.card, cfg = c.config;
  sideEl(side, "card-config").replaceChildren(...Object.entries(cfg).map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { class: "num", text: v }))),
    el("tr", {}, el("td", { text: "data" }), el("td", { text: c.is_text ? "one text (--text)" : "documents, one per line" })));
  sideEl(side, "card-params").replaceChildren(el("tr", {}, el("th", { text: "matrix" }), el("th", { class: "num", text: "shape" }), el("th", { class: "num", text: "count" })),
    ...c.parameters.map((p) => el("tr", {}, el("td", { class: "mono", text: p.name }), el("td", { class: "num", text: `${p.shape[0]} × ${p.shape[1]}` }), el("td", { class: "num", text: p.count.toLocaleString("en") }))),
    el("tr", {}, el("th", { text: "total" }), el("th", {}), el("th", { class: "num", "data-testid": "param-total", text: c.params.toLocaleString("en") })));
  const shownKeys = Object.entries(c.training).filter(([, v]) => typeof v !== "object");
  sideEl(side, "card-training").replaceChildren(...shownKeys.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { class: "num", text: typeof v === "number" && !Number.isInteger(v) ? fmt(v) : String(v) }))));
  const colours = ["#2456a6", "#d94801", "#1a7f37", "#8250df"];
  const series = [];
  c.runs.forEach((r, i) => {  // train (per step, and its trailing mean) and validation on one chart
    series.push({ label: `${r.label} train`, x: r.steps, y: r.losses, colour: colours[i % 4], smooth: true });
    if (r.val_steps.length) series.push({ label: `${r.label} validation`, x: r.val_steps, y: r.val_losses, colour: colours[(i + 1) % 4], points: true });
  });
  const start = `−ln(1/${cfg.vocab_size}) = ${c.start_loss.toFixed(2)}`;
  lineChart(sideEl(side, "card-loss"), series, series.length ? { y: c.start_loss, label: start } : null,
            c.divergence.filter((d) => d.first).map((d) => ({ x: d.first.step, label: `${d.b} parts at step ${d.first.step}` })),
            { window: c.runs.length ? c.runs[0].window : 1 });
  renderDynamics(side, c.runs.filter((r) => r.stats_steps.length));
  sideEl(side, "card-divergence").replaceChildren(...c.divergence.map((d) => el("li", { "data-step": d.first ? d.first.step : "",
    text: d.first ? `${d.b} first differs from ${d.a} at step ${d.first.step}: ${fmt(d.first.a, 6)} vs ${fmt(d.first.b, 6)} (by ${d.first.delta === null ? "∞" : d.first.delta.toExponential(2)})`
      : `${d.b} and ${d.a} agree at all ${d.compared} steps both hold` })));
  sideEl(side, "card-start").textContent = `The dashed line, ${start}, is where training starts: a model that knows nothing spreads ` +
    `its bet evenly over the ${cfg.vocab_size} tokens, so each one costs ln ${cfg.vocab_size} nats. Learning is everything below it.`;
  sideEl(side, "card-samples-note").textContent = `${c.sampling.n} samples at temperature ${c.sampling.temperature}, seed ${c.sampling.seed}, ` +
    `as 'microgpt sample ${side.model.name}' draws them. The samples 'microgpt train' printed at its end differ: it draws them ` +
    `with the run's own random generator, where training left it, not from seed ${c.sampling.seed}; running the same ` +
    `'microgpt train' command again prints them again. ${c.samples_note}`;
  sideEl(side, "card-samples").replaceChildren(...c.samples.map((s) => {
    const cls = { new: "new", "in train": "train", "in val": "val", "in data": "train" }[s.mark] || "unknown";
    return el("li", {}, el("span", { text: s.text }), el("span", { class: `mark ${cls}`, text: s.mark }));
  }));
}
