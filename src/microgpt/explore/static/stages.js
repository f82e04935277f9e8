// 8. Architecture and attention in stages: beside the model's diagram, one
// head of one layer at the chosen position, number by number, from the query
// and the cached keys to what the block adds to the stream. Every number is
// the trace's (Model.trace's attention_steps); the page computes none.
import { renderArchitecture } from "./architecture.js";
import { attentionScale, streamScale } from "./colours.js";
import { el, shown } from "./dom.js";
import { page, sideEl, sides } from "./state.js";

// The layer and head shown, on every side (a smaller model shows its last).
const stagesShown = { layer: 0, head: 0 };
let pickPosition = () => {};

// `pick(i)` is called when a position's button is clicked.
export function renderStages(side, pick) {
  pickPosition = pick;
  const t = side.trace, p = t.positions[page.pos], a = side.card.architecture;
  const layer = Math.min(stagesShown.layer, a.blocks.filter((b) => b.kind === "attention").length - 1);
  const head = Math.min(stagesShown.head, a.n_head - 1);
  renderArchitecture(side, { layer, head }, chooseHead);
  fillMenu(sideEl(side, "stg-layer"), a.blocks.filter((b) => b.kind === "attention").length, layer);
  fillMenu(sideEl(side, "stg-head"), a.n_head, head);
  sideEl(side, "stg-positions").replaceChildren(...t.positions.map((q, i) => {
    const b = el("button", { class: i === page.pos ? "active" : "", text: `${i}: ${shown(q.token)}` });
    b.addEventListener("click", () => pick(i));
    return b;
  }));
  const body = sideEl(side, "stg-body");
  const steps = p.attention_steps[layer];
  if (!steps) { body.replaceChildren(el("p", { class: "note", text: `layer ${layer}'s attention is switched off` })); return; }
  body.replaceChildren(...stageElements(t, p, steps, layer, head, a.head_dim));
}

export function wireStages() {
  const pickFrom = (id, key) => sideEl(sides[0], id).addEventListener("change", (e) => chooseHead(...(key === "layer" ? [+e.target.value, stagesShown.head] : [stagesShown.layer, +e.target.value])));
  pickFrom("stg-layer", "layer"); pickFrom("stg-head", "head");
}

function chooseHead(layer, head) {
  stagesShown.layer = layer; stagesShown.head = head;
  for (const side of sides) if (side.trace && side.card) renderStages(side, pickPosition);
  sideEl(sides[0], "stg-body").scrollIntoView({ block: "nearest" });
}

function fillMenu(select, n, value) {
  if (select.options.length !== n) select.replaceChildren(...Array.from({ length: n }, (_, i) => el("option", { value: i, text: i })));
  select.value = value;
}

function stageElements(t, p, s, layer, head, d) {
  const lo = head * d, hi = lo + d, slice = (v) => v.slice(lo, hi);
  const cached = t.positions.slice(0, p.pos + 1);
  const later = t.positions.slice(p.pos + 1);
  const big = Math.max(1e-12, ...[s.x, s.q, s.heads, s.out, ...cached.flatMap((c) => [c.attention_steps[layer].k, c.attention_steps[layer].v])]
    .flatMap((v) => v.map(Math.abs)));
  const vec = (v, id) => numberStrip(v, big, id);
  const weights = p.attention[layer][head];
  const rows = cached.map((c, j) => {
    const k = c.attention_steps[layer];
    return el("tr", { "data-pos": j },
      el("td", { class: "num", text: j }), el("td", { class: "mono", text: shown(t.tokens[j]) }),
      el("td", {}, vec(slice(k.k), "k")), numberCell(s.scores[head][j], 4, "score"), numberCell(s.scaled[head][j], 4, "scaled"),
      numberCell(weights[j], 4, "weight", attentionScale.colour(weights[j]), attentionScale.ink(weights[j])), el("td", {}, vec(slice(k.v), "v")));
  });
  const header = el("tr", {}, ...["pos", "token", `k (head ${head})`, "q · k", `÷ √${d}`, "softmax", `v (head ${head})`].map((h) => el("th", { text: h })));
  const table = el("table", { class: "stages", "data-testid": "stg-table" }, header, ...rows);
  if (later.length) {
    table.append(el("tr", { class: "later" }, el("td", { colspan: 7, text:
      `positions ${p.pos + 1}–${t.positions.length - 1} (${later.map((q) => shown(q.token)).join("")}): not read yet, so not in the cache. ` +
      "That is the whole causal mask: there is nothing later to look at." })));
  }
  const concat = el("div", { class: "vec", "data-testid": "stg-concat" });
  for (let h = 0; h < s.heads.length / d; h++) {
    const part = vec(s.heads.slice(h * d, (h + 1) * d));
    part.classList.add(h === head ? "this-head" : "other-head");
    part.title = `head ${h}`;
    concat.append(part);
  }
  const step = (n, title, ...content) => el("div", { class: "stage" }, el("h3", { text: `${n}. ${title}` }), ...content);
  return [
    el("p", { class: "readout", text: `layer ${layer} · head ${head} (dimensions ${lo}–${hi - 1} of ${s.x.length}) · position ${p.pos}, reading ${shown(p.token)}` }),
    step(1, "The stream this layer reads, after its RMSNorm: x", el("div", { "data-testid": "stg-x" }, vec(s.x))),
    step(2, `The query: q = W_q · x, head ${head}'s slice`, el("div", { "data-testid": "stg-q" }, vec(slice(s.q)))),
    step(3, "Against every cached key: the score q · k, divided by √d (d = head_dim), and the softmax over the positions so far",
      el("p", { class: "note", text: `Each position's key and value were computed when it was read (k = W_k · x, v = W_v · x) and kept in the KV cache. The softmax turns the scaled scores into weights that sum to 1.` }),
      table),
    step(4, `The head's output: the values weighted by the softmax, summed (Σ weight × v)`, el("div", { "data-testid": "stg-head-out" }, vec(slice(s.heads)))),
    step(5, "Every head's output, side by side (this head's in its place)", concat),
    step(6, "Through attn_wo: what the block adds to the residual stream", el("div", { "data-testid": "stg-out" }, vec(s.out))),
  ];
}

function numberStrip(v, big, role) {
  const box = el("span", { class: "vec" });
  if (role) box.dataset.role = role;
  for (const x of v) {
    const n = el("span", { class: "n", "data-value": x, text: x.toFixed(3) });
    n.style.background = streamScale(big).colour(x);  // signed: blue below 0, white at 0, red above
    box.append(n);
  }
  return box;
}

function numberCell(x, digits, role, background = "", colour = "") {
  const td = el("td", { class: "num", "data-role": role, "data-value": x, text: x.toFixed(digits) });
  if (background) td.style.background = background;
  if (colour) td.style.color = colour;
  return td;
}
