// microgpt explore: draws what the server computes. Every number on this page
// comes from the JSON API (docs/explore.md), which calls the library; nothing
// about the model is computed here.
"use strict";

const $ = (id) => document.getElementById(id);
// The SVG namespace, as the HTML parser assigns it: so the page (and a report
// made of it) holds no URL of any kind.
const SVGNS = (() => { const t = document.createElement("template"); t.innerHTML = "<svg></svg>"; return t.content.firstChild.namespaceURI; })();
const state = { models: [], view: "card", pos: null, player: null, backprop: null, bpStep: 0 };
// Each side shows one model (a second side appears when comparing): its model,
// card, score, trace and sample. `S` is the side being drawn; `$$` finds an
// element of that side (the second side's copies have ids ending in "--b").
const sides = [{ index: 0, model: null, card: null, score: null, trace: null, sample: null, shown: 0 }];
let S = sides[0];
const $$ = (id) => document.getElementById(S.index ? `${id}--b` : id);

// Run fn once per side, with S set to that side (in order, each awaited).
async function forSides(fn) {
  for (const side of sides) { S = side; await fn(side); }
  S = sides[0];
}

// ---------------------------------------------------------------- helpers
// A report (microgpt report) carries every answer in the page itself; the
// explorer's page asks its server.
const BUNDLE = (() => { const b = document.getElementById("bundle"); return b ? JSON.parse(b.textContent) : null; })();

function answerKey(path, params) {
  const shown = Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [k, String(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify([path, shown]);
}

async function api(path, params = {}) {
  if (BUNDLE) {
    const answer = BUNDLE[answerKey(path, params)];
    if (answer === undefined) throw new Error("this report holds a snapshot: for other strings and settings, open the model with 'microgpt explore'");
    return answer;
  }
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  const res = await fetch(`/api/${path}?${q}`);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

function showError(message) {
  const box = $("error");
  box.hidden = !message;
  box.textContent = message || "";
}

// "computing…" stays up until the last of the computations under way ends;
// #status[data-busy] counts them (a test waits for 0 to know the page is settled).
let busy = 0;
function setBusy(change) {
  busy += change;
  $("status").textContent = busy ? "computing…" : "";
  $("status").dataset.busy = String(busy);
}

async function guarded(fn) {
  setBusy(+1);
  try { showError(""); await fn(); }
  catch (e) { showError(e.message); }
  finally { setBusy(-1); }
}

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

const fmt = (x, d = 4) => (x === null || x === undefined ? "∞" : Number(x).toFixed(d));
const num = (x) => (Number.isInteger(x) ? x.toFixed(1) : String(x)); // as Python prints a float
const fmtP = (p) => (p >= 1e-4 ? p.toFixed(4) : p.toExponential(1));
const shown = (t) => (t === "BOS" ? "⏎" : t === " " ? "␣" : t === "\n" ? "↵" : t);

// Sequential colour ramps: pale for little, dark for much (t in 0..1).
function ramp(t, stops) {
  t = Math.max(0, Math.min(1, t));
  const i = Math.min(stops.length - 2, Math.floor(t * (stops.length - 1)));
  const f = t * (stops.length - 1) - i;
  const mix = stops[i].map((a, j) => Math.round(a + (stops[i + 1][j] - a) * f));
  return `rgb(${mix.join(",")})`;
}
const HEAT = [[255, 250, 225], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];
const BLUE = [[247, 251, 255], [158, 202, 225], [66, 146, 198], [8, 69, 148]];
const surpriseColour = (s) => ramp(s === null ? 1 : s / 6, HEAT);
const inkOn = (t) => (t > 0.55 ? "#fff" : "#1d2330");

// A bar per token, most likely first; `mark` is the token to highlight.
function bars(container, vocab, probs, mark, limit = 27) {
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
function lineChart(container, series, ref, marks = []) {
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
function heatmap(rows, rowLabels, colLabels, { max = 1, stops = BLUE, cell = 22, hover, title } = {}) {
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

// ---------------------------------------------------------------- model and string
async function loadModels() {
  state.models = (await api("models")).models;
  const select = $("model"), other = $("compare");
  for (const m of state.models) {
    select.append(el("option", { value: m.id, text: `${m.name} (${m.params.toLocaleString("en")} params)` }));
    other.append(el("option", { value: m.id, text: m.name }));
  }
  select.addEventListener("change", () => guarded(() => chooseModel(0, select.value)));
  other.addEventListener("change", () => guarded(() => chooseModel(1, other.value)));
  $("compare-label").hidden = Boolean(BUNDLE) || state.models.length < 2;
  await chooseModel(0, state.models[0].id);
}

// Show model `id` on side `index` (side 1: compare with it; "" closes that side).
async function chooseModel(index, id) {
  if (index === 1) {
    setSecondSide(Boolean(id));
    if (!id) return;
  }
  const side = sides[index];
  side.model = state.models.find((m) => m.id === id);
  side.card = await api("card", { model: id });
  side.sample = null; side.shown = 0;
  const input = $("text");
  if (BUNDLE && index === 0) {  // a report reads the strings it was made with: the box becomes a menu of them
    const choice = $("text-choice");
    choice.replaceChildren(...BUNDLE.strings[id].map((t) => el("option", { value: t, text: t })));
    input.value = BUNDLE.strings[id][0];
  } else if (!input.value || !fits(input.value)) input.value = defaultString(side);
  for (const t of document.querySelectorAll(`.side[data-side="${index}"] .side-title`)) t.textContent = side.model.name;
  if (index === 0 && !BUNDLE) buildAblationParts();
  S = side; renderCard(); renderSample(); S = sides[0];
  await readString();
  if (state.view === "embeddings") await forSides(renderEmbeddings);
}

// Comparing: every view gets a second side, a copy of the first whose ids end in "--b".
function setSecondSide(on) {
  for (const n of document.querySelectorAll('.side[data-side="1"]')) n.remove();
  for (const n of document.querySelectorAll(".sides")) n.classList.toggle("two", on);
  sides.length = 1;
  if (!on) return;
  for (const a of document.querySelectorAll('.side[data-side="0"]')) {
    const b = a.cloneNode(true);
    b.dataset.side = "1";
    for (const n of [b, ...b.querySelectorAll("[id]")]) if (n.id) n.id += "--b";
    for (const n of b.querySelectorAll("[data-value], [data-done], [data-saved]")) {  // nothing of side 0's numbers
      delete n.dataset.value; delete n.dataset.done; delete n.dataset.saved;
    }
    a.after(b);
  }
  sides.push({ index: 1, model: null, card: null, score: null, trace: null, sample: null, shown: 0 });
}

function defaultString(side) {
  const m = side.model;
  if (!m.is_text && fits("emma")) return "emma";
  const first = side.card.samples.map((s) => s.text.replace(/\n/g, " ")).find((t) => t.length > 1) || m.vocab[0];
  return first.slice(0, m.is_text ? m.config.block_size + 1 : m.config.block_size - 1);
}

// The page refuses only what the server would refuse, to spare a round trip:
// the string must suit every model shown. Null when it does, else why not.
function unfit(text) {
  for (const side of sides) {
    const m = side.model;
    if (!m) continue;
    if (m.tokenizer === "bpe") { if (!text.length) return "type a string"; continue; }  // bytes spell anything
    const bad = [...text].find((c) => !m.vocab.includes(c) || c === "BOS");
    if (bad !== undefined) return `${JSON.stringify(bad)} is not in the vocabulary of ${m.name}`;
    const ok = m.is_text ? text.length >= 2 && text.length - 1 <= m.config.block_size : text.length + 1 <= m.config.block_size;
    if (!ok) return `the string must fit the context of ${m.name}, ${m.config.block_size}` + (m.is_text ? " (and have at least 2 characters)" : "");
  }
  return null;
}
const fits = (text) => unfit(text) === null;

async function readString() {
  const text = $("text").value;
  await forSides(async (side) => {
    const [score, trace] = await Promise.all([api("score", { model: side.model.id, text }), api("trace", { model: side.model.id, text })]);
    side.score = score; side.trace = trace;
  });
  const n = Math.min(...sides.map((side) => side.trace.positions.length));
  if (state.pos === null || state.pos >= n) state.pos = n - 1;
  await redraw();
}

// Everything that depends on the string and the chosen position, on every side.
async function redraw() {
  await forSides(async () => { renderRead(); renderAttention(); renderForward(); await renderNext(); });
  if (state.view === "ablation") await readAblation();
  if (state.view === "ladder") await readLadder();
}

// ---------------------------------------------------------------- 1. model card
function renderCard() {
  const c = S.card, cfg = c.config;
  $$("card-config").replaceChildren(...Object.entries(cfg).map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { class: "num", text: v }))),
    el("tr", {}, el("td", { text: "data" }), el("td", { text: c.is_text ? "one text (--text)" : "documents, one per line" })));
  $$("card-params").replaceChildren(el("tr", {}, el("th", { text: "matrix" }), el("th", { class: "num", text: "shape" }), el("th", { class: "num", text: "count" })),
    ...c.parameters.map((p) => el("tr", {}, el("td", { class: "mono", text: p.name }), el("td", { class: "num", text: `${p.shape[0]} × ${p.shape[1]}` }), el("td", { class: "num", text: p.count.toLocaleString("en") }))),
    el("tr", {}, el("th", { text: "total" }), el("th", {}), el("th", { class: "num", "data-testid": "param-total", text: c.params.toLocaleString("en") })));
  const shownKeys = Object.entries(c.training).filter(([, v]) => typeof v !== "object");
  $$("card-training").replaceChildren(...shownKeys.map(([k, v]) => el("tr", {}, el("td", { text: k }), el("td", { class: "num", text: typeof v === "number" && !Number.isInteger(v) ? fmt(v) : String(v) }))));
  const colours = ["#2456a6", "#d94801", "#1a7f37", "#8250df"];
  const series = [];
  c.runs.forEach((r, i) => {
    series.push({ label: `${r.label} train (per step)`, x: r.steps, y: r.losses, colour: colours[i % 4], faint: true });
    series.push({ label: `${r.label} train (mean of ${r.window} steps)`, x: r.steps, y: r.smoothed, colour: colours[i % 4] });
    if (r.val_steps.length) series.push({ label: `${r.label} validation`, x: r.val_steps, y: r.val_losses, colour: colours[(i + 1) % 4], points: true });
  });
  const start = `−ln(1/${cfg.vocab_size}) = ${c.start_loss.toFixed(2)}`;
  lineChart($$("card-loss"), series, series.length ? { y: c.start_loss, label: start } : null,
            c.divergence.filter((d) => d.first).map((d) => ({ x: d.first.step, label: `${d.b} parts at step ${d.first.step}` })));
  $$("card-divergence").replaceChildren(...c.divergence.map((d) => el("li", { "data-step": d.first ? d.first.step : "",
    text: d.first ? `${d.b} first differs from ${d.a} at step ${d.first.step}: ${fmt(d.first.a, 6)} vs ${fmt(d.first.b, 6)} (by ${d.first.delta === null ? "∞" : d.first.delta.toExponential(2)})`
      : `${d.b} and ${d.a} agree at all ${d.compared} steps both hold` })));
  $$("card-start").textContent = `The dashed line, ${start}, is where training starts: a model that knows nothing spreads ` +
    `its bet evenly over the ${cfg.vocab_size} tokens, so each one costs ln ${cfg.vocab_size} nats. Learning is everything below it.`;
  $$("card-samples-note").textContent = `${c.sampling.n} samples at temperature ${c.sampling.temperature}, seed ${c.sampling.seed}, ` +
    `as 'microgpt sample' draws them. ${c.samples_note}`;
  $$("card-samples").replaceChildren(...c.samples.map((s) => {
    const cls = { new: "new", "in train": "train", "in val": "val", "in data": "train" }[s.mark] || "unknown";
    return el("li", {}, el("span", { text: s.text }), el("span", { class: `mark ${cls}`, text: s.mark }));
  }));
}

// ---------------------------------------------------------------- 2. read a string
function renderRead() {
  const s = S.score;
  $$("read-chars").replaceChildren(...s.rows.map((r, i) => {
    const t = r.surprise === null ? 1 : r.surprise / 6, bg = surpriseColour(r.surprise);
    const box = el("div", { class: `char${i === state.pos ? " selected" : ""}`, "data-p": r.p, "data-surprise": r.surprise,
                            title: `after ${JSON.stringify(r.after)}: p = ${r.p}, −ln p = ${r.surprise}` },
      el("span", { class: "c", text: r.next === null ? "⏎" : shown(r.next) }), el("span", { class: "p", text: `p ${fmtP(r.p)}` }));
    box.style.background = bg; box.style.color = inkOn(t);
    box.addEventListener("click", () => guarded(async () => { state.pos = i; await redraw(); }));
    return box;
  }));
  for (const [id, v, d] of [["read-total", s.total, 4], ["read-mean", s.mean, 4], ["read-ppl", s.perplexity, 2]]) {
    $$(id).textContent = fmt(v, d); $$(id).dataset.value = v;
  }
  $$("read-n").textContent = s.tokens;
  $$("read-legend").replaceChildren(el("span", { text: "surprise −ln p: " }), ...[0, 1, 2, 3, 4, 5, 6].map((v) => {
    const key = el("span", { class: "key", text: v === 6 ? "6+" : String(v) });
    key.style.background = surpriseColour(v); key.style.color = inkOn(v / 6);
    return key;
  }));
  $$("read-seen").textContent = s.in_training_data;
}

async function renderNext() {
  const topk = $("next-topk").value;
  const temp = $("next-temp").value;
  $$("next-temp-value").textContent = Number(temp).toFixed(2);
  const d = await api("next", { model: S.model.id, text: $("text").value, pos: state.pos, temperature: temp, top_k: topk });
  const context = d.context.map(shown).join("");
  $$("next-title").textContent = `After "${context}": what comes next (the truth: ${shown(d.next)})`;
  bars($$("next-bars"), d.vocab, d.probs, d.next);
}

// ---------------------------------------------------------------- 3. attention
function renderAttention() {
  const t = S.trace, n = t.positions.length, maps = $$("attn-maps");
  maps.replaceChildren();
  const labels = t.tokens.slice(0, n);
  const layers = t.positions[0].attention.length, heads = t.positions[0].attention[0].length;
  for (let l = 0; l < layers; l++) for (let h = 0; h < heads; h++) {
    const rows = t.positions.map((p) => labels.map((_, j) => (j <= p.pos ? p.attention[l][h][j] : null)));
    const hover = (i, j, v) => { $$("attn-hover").textContent = `layer ${l} head ${h}: position ${i} (${shown(labels[i])}) → ${j} (${shown(labels[j])}): ${v.toFixed(4)}`; };
    const panel = el("div", { class: "panel", "data-testid": `attn-${l}-${h}` }, el("h2", { text: `layer ${l} · head ${h}` }));
    panel.append(heatmap(rows, labels, labels, { hover }));
    maps.append(panel);
  }
}

// ---------------------------------------------------------------- 4. inside the forward pass
function renderForward() {
  const t = S.trace, p = t.positions[state.pos];
  $$("fwd-positions").replaceChildren(...t.positions.map((q, i) => {
    const b = el("button", { class: i === state.pos ? "active" : "", text: `${i}: ${shown(q.token)} → ${shown(q.next)}` });
    b.addEventListener("click", () => guarded(async () => { state.pos = i; await redraw(); }));
    return b;
  }));
  const head = el("tr", {}, ...["point", "the vector (blue −, red +)", "‖x‖", "RMSNorm scale", "logit lens: top predictions"].map((h) => el("th", { text: h })));
  const big = Math.max(...p.stream.flatMap((pt) => pt.vector.map(Math.abs)), 1e-12);
  const rows = p.stream.map((pt) => el("tr", { "data-point": pt.name },
    el("td", { class: "mono", text: pt.name }), el("td", {}, vectorStrip(pt.vector, big)), el("td", { class: "num", text: pt.norm.toFixed(3) }),
    el("td", { class: "num", text: pt.norm_scale === null ? "—" : pt.norm_scale.toFixed(3) }),
    el("td", { class: "mono", text: pt.lens.map((x) => `${shown(x.token)} ${x.p.toFixed(3)}`).join("   ") })));
  $$("fwd-stream").replaceChildren(head, ...rows);
  $$("fwd-mlp").replaceChildren(...p.mlp.map((m, l) => {
    const top = Math.max(...m.hidden, 1e-12);
    const strip = el("div", { class: "neurons" }, ...m.hidden.map((v, j) => {
      const cell = el("div", { class: "neuron", title: `neuron ${j}: ${v.toFixed(4)}` });
      if (v > 0) cell.style.background = ramp(0.15 + 0.85 * v / top, HEAT);
      return cell;
    }));
    return el("div", {}, el("p", { text: `layer ${l}: ${m.active.length} of ${m.hidden.length} neurons fired` }), strip);
  }));
}

function vectorStrip(vector, big) {
  const strip = el("div", { class: "neurons vector" });
  for (const [j, v] of vector.entries()) {
    const cell = el("div", { class: "neuron", title: `x[${j}] = ${v.toFixed(4)}` });
    cell.style.background = ramp(Math.abs(v) / big, v < 0 ? BLUE : HEAT);
    strip.append(cell);
  }
  return strip;
}

// ---------------------------------------------------------------- 5. sampling step by step
async function drawSample() {
  S.sample = await api("sample", { model: S.model.id, seed: $("smp-seed").value, temperature: $("smp-temp").value,
                                       top_k: $("smp-topk").value, prefix: $("smp-prefix").value });
  S.shown = 0;
  renderSample();
}

function renderSample() {
  const s = S.sample;
  if (!s) { $$("smp-text").textContent = ""; $$("smp-info").textContent = "Press Draw, then Step or Play."; $$("smp-bars").replaceChildren(); return; }
  const taken = s.steps.slice(0, S.shown);
  const text = (S.model.is_text ? s.prefix : "") + taken.filter((st) => st.choice !== "BOS").map((st) => st.choice).join("");
  $$("smp-text").textContent = text;
  $$("smp-text").dataset.done = String(S.shown === s.steps.length);
  if (S.shown === 0) { $$("smp-info").textContent = `${s.steps.length} steps ready (seed ${s.seed}, temperature ${s.temperature}${s.top_k ? `, top-k ${s.top_k}` : ""}).`; $$("smp-bars").replaceChildren(); return; }
  const st = s.steps[S.shown - 1];
  $$("smp-info").textContent = `step ${S.shown} of ${s.steps.length}: ${st.forced ? "the prefix gives" : "drew"} ` +
    `${st.choice === "BOS" ? "the end" : JSON.stringify(st.choice)} (p = ${fmtP(st.p)})` + (S.shown === s.steps.length ? ` · done: ${JSON.stringify(s.text)}` : "");
  bars($$("smp-bars"), s.vocab, st.probs, st.choice);
}

function stepSample() {
  if (S.sample && S.shown < S.sample.steps.length) { S.shown++; renderSample(); return true; }
  return false;
}

// ---------------------------------------------------------------- 6. embeddings
async function renderEmbeddings() {
  const e = await api("embeddings", { model: S.model.id });
  $$("emb-explained").textContent = `The two axes explain ${(100 * e.explained[0]).toFixed(1)}% and ${(100 * e.explained[1]).toFixed(1)}% of the variance.`;
  const w = 460, h = 400, pad = 30, xs = e.tokens.map((t) => t.x), ys = e.tokens.map((t) => t.y);
  const [x0, x1, y0, y1] = [Math.min(...xs), Math.max(...xs), Math.min(...ys), Math.max(...ys)];
  const X = (x) => pad + (w - 2 * pad) * (x - x0) / (x1 - x0 || 1), Y = (y) => h - pad - (h - 2 * pad) * (y - y0) / (y1 - y0 || 1);
  const s = svg("svg", { width: w, height: h, viewBox: `0 0 ${w} ${h}`, "data-testid": "wte" });
  s.append(svg("line", { class: "axis", x1: pad, x2: w - pad, y1: Y(0), y2: Y(0) }), svg("line", { class: "axis", x1: X(0), x2: X(0), y1: pad, y2: h - pad }));
  for (const t of e.tokens) {
    const vowel = "aeiouy".includes(t.token);
    s.append(svg("circle", { cx: X(t.x), cy: Y(t.y), r: 4, fill: t.token === "BOS" ? "#d94801" : vowel ? "#1a7f37" : "#2456a6" }));
    s.append(svg("text", { x: X(t.x) + 6, y: Y(t.y) + 4, "font-size": 13, text: shown(t.token) }));
  }
  $$("emb-wte").replaceChildren(s, el("p", { class: "note", text: "green: vowels (and y) · orange: BOS · blue: the rest" }));
  const n = e.wpe_similarity.length, labels = [...Array(n).keys()].map(String);
  $$("emb-wpe").replaceChildren(heatmap(e.wpe_similarity, labels, labels, { cell: Math.max(6, Math.min(22, Math.floor(420 / n))) }));
}

// ---------------------------------------------------------------- 7. backprop node by node
async function loadBackprop() {
  state.backprop = await api("backprop", { a: $("bp-a").value, b: $("bp-b").value });
  state.bpStep = 0;
  renderBackprop();
}

function renderBackprop() {
  const g = state.backprop, step = g.steps[Math.min(state.bpStep, g.steps.length) - 1];
  const where = { a: [90, 70], b: [90, 210], c: [300, 140], L: [500, 100] };
  const s = svg("svg", { width: 620, height: 280, viewBox: "0 0 620 280", "data-testid": "bp-svg" });
  s.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" }, svg("path", { d: "M0,0L10,5L0,10z", fill: "#9aa3b2" }))));
  for (const e of g.edges) {
    const [x1, y1] = where[e.from], [x2, y2] = where[e.to];
    const hot = step && step.node === e.to;
    s.append(svg("line", { x1: x1 + 62, y1, x2: x2 - 62, y2, stroke: hot ? "#d94801" : "#9aa3b2", "stroke-width": hot ? 2.5 : 1.5, "marker-end": "url(#arrow)" }));
    s.append(svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, "text-anchor": "middle", "font-size": 11, fill: "#5b6475", text: `local ${e.local_grad}` }));
  }
  for (const n of g.nodes) {
    const [x, y] = where[n.name], grad = step ? step.grads[n.name] : null, active = step && step.node === n.name;
    s.append(svg("rect", { x: x - 62, y: y - 30, width: 124, height: 60, rx: 8, fill: active ? "#fff1c5" : "#fff", stroke: active ? "#d94801" : "#2456a6" }));
    s.append(svg("text", { x, y: y - 10, "text-anchor": "middle", "font-size": 14, "font-weight": 600, text: `${n.name}${n.op ? ` (${n.op})` : ""} = ${num(n.data)}` }));
    s.append(svg("text", { x, y: y + 14, "text-anchor": "middle", "font-size": 13, "data-testid": `bp-grad-${n.name}`, text: `grad ${grad === null ? "·" : num(grad)}` }));
  }
  $("bp-graph").replaceChildren(s);
  $("bp-says").textContent = state.bpStep === 0 ? `Press Step backward. The walk visits ${g.order.join(" → ")}.`
    : `step ${state.bpStep} of ${g.steps.length}, at ${step.node}: ${step.says}` + (state.bpStep === g.steps.length ? ` · done: a.grad = ${num(step.grads.a)}, b.grad = ${num(step.grads.b)}` : "");
  $("bp-step").disabled = state.bpStep >= g.steps.length;
}

// ---------------------------------------------------------------- the ladder
async function loadLadder() {
  const lad = state.ladder = await api("ladder");
  if (!lad.table) return;
  $("ladder-tab").hidden = false;
  $("ladder-path").textContent = lad.path;
  const cols = [["rung", "rung"], ["idea", "new idea"], ["params", "params"], ["steps", "steps"], ["val_loss", "val loss"], ["val_ppl", "ppl"], ["seconds", "seconds"]];
  const cell = (k, v) => k === "rung" ? `train${v}` : v === null || v === undefined ? "—" : k === "val_loss" ? v.toFixed(4)
    : k === "val_ppl" ? v.toFixed(3) : k === "seconds" ? v.toFixed(1) : typeof v === "number" ? v.toLocaleString("en") : v;
  $("ladder-table").replaceChildren(el("tr", {}, ...cols.map(([, h]) => el("th", { text: h }))),
    ...lad.table.map((r) => el("tr", { "data-rung": r.rung }, ...cols.map(([k]) => el("td", { class: k === "idea" ? "" : "num", text: cell(k, r[k]) })))));
  $("ladder-claims").replaceChildren(...lad.claims.map((c) => el("li", { class: c.holds === false ? "fails" : "", text: c.line })));
  const colours = ["#888", "#8250df", "#1a7f37", "#d94801", "#2456a6", "#0a3069"];
  lineChart($("ladder-loss"), lad.runs.filter((r) => r.steps.length > 1).map((r, i) => ({ label: r.label, x: r.steps, y: r.smoothed, colour: colours[(i + 1) % colours.length] })));
  $("ladder-compare").hidden = lad.models.length < 2;
  if (state.view === "ladder") await readLadder();
}

async function readLadder() {
  const lad = state.ladder, text = $("text").value;
  if (!lad || !lad.table) return;
  const reads = await Promise.all(lad.models.map((id) => api("score", { model: id, text })));
  $("ladder-reads").replaceChildren(...reads.map((s, k) => el("div", { class: "ladder-read", "data-model": lad.models[k], "data-total": s.total },
    el("p", { text: `${lad.models[k]}: total NLL ${fmt(s.total)}, mean ${fmt(s.mean)}` }),
    el("div", { class: "chars" }, ...s.rows.map((r) => {
      const t = r.surprise === null ? 1 : r.surprise / 6;
      const box = el("div", { class: "char", title: `p = ${r.p}` }, el("span", { class: "c", text: r.next === null ? "⏎" : shown(r.next) }), el("span", { class: "p", text: `p ${fmtP(r.p)}` }));
      box.style.background = surpriseColour(r.surprise); box.style.color = inkOn(t);
      return box;
    })))));
}

// ---------------------------------------------------------------- ablation
function buildAblationParts() {
  const cfg = sides[0].model.config, parts = [];
  for (let l = 0; l < cfg.n_layer; l++) {
    for (let h = 0; h < cfg.n_head; h++) parts.push([`head:${l}.${h}`, `layer ${l} head ${h}`]);
    parts.push([`attn:${l}`, `layer ${l} attention`], [`mlp:${l}`, `layer ${l} MLP`],
               [`resid-attn:${l}`, `layer ${l} attention residual`], [`resid-mlp:${l}`, `layer ${l} MLP residual`]);
  }
  parts.push(["wpe", "position embeddings"]);
  $("abl-parts").replaceChildren(...parts.map(([spec, label]) => {
    const box = el("input", { type: "checkbox", value: spec, "data-spec": spec });
    box.addEventListener("change", () => guarded(readAblation));
    return el("label", {}, box, ` ${label}`);
  }));
  $("abl-result").textContent = "";
}

const ablationSpec = () => [...document.querySelectorAll("#abl-parts input:checked")].map((b) => b.value).join(",");

async function readAblation() {
  const a = await api("ablate", { model: sides[0].model.id, spec: ablationSpec(), text: $("text").value });
  $("abl-spec").textContent = a.spec || "(nothing: the intact model)";
  $("abl-description").textContent = a.description;
  $("abl-chars").replaceChildren(...a.rows.map((r) => {
    const change = r.change === null ? 0 : r.change, t = Math.min(1, Math.abs(change) / 2);
    const box = el("div", { class: "char", "data-change": r.change, title: `p ${r.p} → ${r.p_ablated}` },
      el("span", { class: "c", text: r.next === null ? "⏎" : shown(r.next) }),
      el("span", { class: "p", text: `${fmt(r.surprise, 2)} → ${fmt(r.surprise_ablated, 2)}` }),
      el("span", { class: "p", text: `${change >= 0 ? "+" : ""}${fmt(r.change, 2)}` }));
    box.style.background = ramp(t, change >= 0 ? HEAT : BLUE); box.style.color = inkOn(t);
    return box;
  }));
  $("abl-totals").textContent = `total NLL ${fmt(a.total)} intact → ${fmt(a.total_ablated)} ablated (${a.total_ablated - a.total >= 0 ? "+" : ""}${fmt(a.total_ablated - a.total)})`;
  $("abl-totals").dataset.ablated = a.total_ablated;
}

function evaluateAblation() {
  const bar = $("abl-progress"), out = $("abl-result");
  bar.hidden = false; bar.value = 0; out.textContent = "computing…"; delete out.dataset.change;
  $("abl-eval").disabled = true;
  const q = new URLSearchParams({ model: sides[0].model.id, spec: ablationSpec() });
  const source = new EventSource(`/api/ablate/eval?${q}`);
  const done = () => { source.close(); bar.hidden = true; $("abl-eval").disabled = false; };
  source.onmessage = (m) => {
    const e = JSON.parse(m.data);
    if (e.type === "progress") { bar.value = (e.done / e.total) * 0.5 + (e.part === "ablated" ? 0.5 : 0); out.textContent = `${e.part}: ${e.done} of ${e.total} documents`; }
    if (e.type === "result") {
      out.textContent = `val loss ${e.intact.toFixed(4)} intact → ${e.ablated.toFixed(4)} with ${e.spec || "nothing"} off (${e.change >= 0 ? "+" : ""}${e.change.toFixed(4)}), over ${e.what}, engine ${e.engine}`;
      out.dataset.change = e.change; out.dataset.intact = e.intact; out.dataset.ablated = e.ablated;
      done();
    }
    if (e.type === "failed") { showError(e.error); out.textContent = ""; done(); }
  };
  source.addEventListener("end", done);
  source.onerror = done;
}

// ---------------------------------------------------------------- train live
async function post(path, form) {
  const res = await fetch(`/api/${path}`, { method: "POST", body: JSON.stringify(form),
    headers: { "Content-Type": "application/json", "X-Explore-Token": state.session.token } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

async function loadSession() {
  const s = state.session = await api("session");
  $("train-none").hidden = s.data.length > 0;
  $("train-form").hidden = s.data.length === 0;
  $("train-out-dir").textContent = `in ${s.out_dir}`;
  $("train-data").replaceChildren(...s.data.map((d) => el("option", { value: d, text: d })));
  $("train-engine").replaceChildren(...s.engines.available.map((e) => el("option", { value: e, text: e })));
  $("train-engine").value = s.engines.default;
}

async function startRun(event) {
  event.preventDefault();
  const form = Object.fromEntries(new FormData($("train-form")).entries());
  form.as_text = form.as_text === "on";
  const started = await post("live/start", form);
  state.live = { events: [], started, drawn: 0 };
  $("train-start").disabled = true; $("train-stop").disabled = false;
  $("train-status").textContent = `training ${started.params.toLocaleString("en")} parameters for ${started.steps} steps → ${started.out}`;
  const source = new EventSource("/api/live/events");
  source.onmessage = (m) => liveEvent(JSON.parse(m.data));
  source.addEventListener("end", () => source.close());
  source.onerror = () => source.close();
}

function liveEvent(e) {
  const live = state.live;
  if (e.type === "step") {
    live.events.push(e);
    if (e.samples) {
      $("train-samples").replaceChildren(...e.samples.map((t) => el("li", { text: t })));
      $("train-attn-title").textContent = `Attention (layer 0) over "${e.watch}" at step ${e.step}`;
      $("train-attn").replaceChildren(...e.attention.map((rows, h) => {
        const full = rows.map((r) => e.tokens.map((_, j) => (j < r.length ? r[j] : null)));
        return el("div", { class: "panel" }, el("h2", { text: `head ${h}` }), heatmap(full, e.tokens, e.tokens));
      }));
    }
    if (!live.pending) {  // draw at most a few times a second, however fast the steps come
      live.pending = true;
      setTimeout(() => { live.pending = false; drawLive(); }, 200);
    }
  } else if (e.type === "saved") {
    drawLive();
    $("train-status").textContent = `${e.stopped ? "stopped" : "done"} at step ${e.step}` +
      (e.val_loss !== null ? `, validation loss ${e.val_loss.toFixed(4)}` : "") + `: saved ${e.path}; it is in the model menu above`;
    $("train-status").dataset.saved = e.path;
    finishRun();
    guarded(refreshModels);
  } else if (e.type === "failed") {
    showError(`the run failed: ${e.error}`);
    finishRun();
  }
}

function drawLive() {
  const ev = state.live.events;
  lineChart($("train-loss"), [
    { label: "loss (per step)", x: ev.map((e) => e.step), y: ev.map((e) => e.loss), colour: "#2456a6", faint: true },
    { label: "moving mean", x: ev.map((e) => e.step), y: ev.map((e) => e.smoothed), colour: "#2456a6" }]);
  const last = ev[ev.length - 1];
  if (last) $("train-loss").dataset.steps = String(last.step);
}

function finishRun() { $("train-start").disabled = false; $("train-stop").disabled = true; }

async function refreshModels() {
  const models = (await api("models")).models, select = $("model");
  for (const m of models.filter((m) => !state.models.some((o) => o.id === m.id))) {
    select.append(el("option", { value: m.id, text: `${m.name} (${m.params.toLocaleString("en")} params)` }));
    $("compare").append(el("option", { value: m.id, text: m.name }));
  }
  state.models = models;
  $("compare-label").hidden = models.length < 2;
}

// ---------------------------------------------------------------- wiring
function showView(name) {
  state.view = name;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.view === name);
  for (const v of document.querySelectorAll(".view")) v.classList.toggle("active", v.id === `view-${name}`);
  if (name === "embeddings") guarded(() => forSides(renderEmbeddings));
  if (name === "ablation") guarded(readAblation);
  if (name === "ladder") guarded(readLadder);
  if (name === "backprop" && !state.backprop) guarded(loadBackprop);
}

function wire() {
  $("train-form").addEventListener("submit", (e) => guarded(() => startRun(e)));
  $("train-stop").addEventListener("click", () => guarded(async () => { await post("live/stop", {}); $("train-stop").disabled = true; }));
  if (BUNDLE) {
    $("text-choice").addEventListener("change", () => { $("text").value = $("text-choice").value; state.pos = null; guarded(readString); });
    $("report-note").hidden = false;
  }
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showView(b.dataset.view));
  let timer = null;
  $("text").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const why = unfit($("text").value);
      if (why) { showError(why); return; }
      state.pos = null;
      guarded(readString);
    }, 150);
  });
  $("next-temp").addEventListener("input", () => guarded(() => forSides(renderNext)));
  $("next-topk").addEventListener("change", () => guarded(() => forSides(renderNext)));
  // The sides draw with the same seed and settings, and step together.
  const drawn = () => sides.every((side) => side.sample);
  const over = () => sides.every((side) => side.sample && side.shown === side.sample.steps.length);
  const step = () => { let moved = false; for (const side of sides) { S = side; moved = stepSample() || moved; } S = sides[0]; return moved; };
  $("smp-new").addEventListener("click", () => guarded(() => forSides(drawSample)));
  $("smp-step").addEventListener("click", () => guarded(async () => { if (!drawn()) await forSides(drawSample); step(); }));
  $("smp-reset").addEventListener("click", () => { clearInterval(state.player); forSides((side) => { side.shown = 0; renderSample(); }); });
  $("smp-play").addEventListener("click", () => guarded(async () => {
    if (!drawn() || over()) await forSides(drawSample);
    clearInterval(state.player);
    state.player = setInterval(() => { if (!step()) clearInterval(state.player); }, 350);
  }));
  $("abl-eval").addEventListener("click", evaluateAblation);
  $("ladder-compare").addEventListener("click", () => guarded(async () => {
    const ids = state.ladder.models;
    $("model").value = ids[0]; $("compare").value = ids[ids.length - 1];
    await chooseModel(0, ids[0]); await chooseModel(1, ids[ids.length - 1]);
    showView("read");
  }));
  $("bp-step").addEventListener("click", () => { state.bpStep++; renderBackprop(); });
  $("bp-reset").addEventListener("click", () => guarded(loadBackprop));
  for (const id of ["bp-a", "bp-b"]) $(id).addEventListener("change", () => guarded(loadBackprop));
}

document.addEventListener("DOMContentLoaded", () => { wire(); guarded(async () => { await loadModels(); if (!BUNDLE) { await loadSession(); await loadLadder(); } }); });
