// 1. The model card: a side's configuration, parameter count, training record,
// loss curves (with where overlaid runs part) and the samples it draws.
import { lineChart } from "./charts.js";
import { el, fmt } from "./dom.js";
import { sideEl } from "./state.js";

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
  c.runs.forEach((r, i) => {
    series.push({ label: `${r.label} train (per step)`, x: r.steps, y: r.losses, colour: colours[i % 4], faint: true });
    series.push({ label: `${r.label} train (mean of ${r.window} steps)`, x: r.steps, y: r.smoothed, colour: colours[i % 4] });
    if (r.val_steps.length) series.push({ label: `${r.label} validation`, x: r.val_steps, y: r.val_losses, colour: colours[(i + 1) % 4], points: true });
  });
  const start = `−ln(1/${cfg.vocab_size}) = ${c.start_loss.toFixed(2)}`;
  lineChart(sideEl(side, "card-loss"), series, series.length ? { y: c.start_loss, label: start } : null,
            c.divergence.filter((d) => d.first).map((d) => ({ x: d.first.step, label: `${d.b} parts at step ${d.first.step}` })));
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
