// Ablation: parts of the model switched off, on every side shown: each side's
// string read intact and ablated, and its validation loss both ways, streamed
// as it is computed. The parts listed are side 0's; a side whose model lacks
// one says so.
import { TOKEN, api, guarded, showError } from "./api.js";
import { legend, signedScale } from "./colours.js";
import { $, el, fmt, shown } from "./dom.js";
import { ask, sideEl, sides } from "./state.js";

// A change in surprise is signed: red where the part was helping, blue where it was in the way.
const changeScale = signedScale(2, ["−2", "0", "+2 nats"],
  "change in surprise without the part: red, it rises (the part was helping); white, no change; blue, it falls (the part was in the way)", "change");

// A checkbox per part of `model` that can be switched off.
export function buildAblationParts(model) {
  const cfg = model.config, parts = [];
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
}

const ablationSpec = () => [...document.querySelectorAll("#abl-parts input:checked")].map((b) => b.value).join(",");

export async function readAblation() {
  const spec = ablationSpec();
  await Promise.all(sides.map((side) => readSide(side, spec)));
}

async function readSide(side, spec) {
  const result = sideEl(side, "abl-result");
  if (result.dataset.for !== `${side.model.id} ${spec}`) {  // a validation loss of other parts, or of another side's model
    result.textContent = ""; delete result.dataset.change; delete result.dataset.for;
  }
  const current = ask(side, "ablation");
  const a = await api("ablate", { model: side.model.id, spec, text: $("text").value });
  if (!current()) return;
  $("abl-spec").textContent = a.spec || "(nothing: the intact model)";
  $("abl-description").textContent = a.description;
  sideEl(side, "abl-chars").replaceChildren(...a.rows.map((r) => {
    const change = r.change === null ? 0 : r.change;
    const box = el("div", { class: "char", "data-change": r.change,
                            title: `p ${r.p} → ${r.p_ablated}; surprise −ln p ${r.surprise} → ${r.surprise_ablated} nats` },
      el("span", { class: "c", text: r.next === null ? "⏎" : shown(r.next) }),
      el("span", { class: "p", text: `${fmt(r.surprise, 2)} → ${fmt(r.surprise_ablated, 2)}` }),
      el("span", { class: "p", text: `${change >= 0 ? "+" : ""}${fmt(r.change, 2)}` }));
    box.style.background = changeScale.colour(change); box.style.color = changeScale.ink(change);
    return box;
  }));
  sideEl(side, "abl-legend").replaceChildren(legend(changeScale));
  const totals = sideEl(side, "abl-totals");
  totals.textContent = `total NLL ${fmt(a.total)} intact → ${fmt(a.total_ablated)} ablated (${a.total_ablated - a.total >= 0 ? "+" : ""}${fmt(a.total_ablated - a.total)})`;
  totals.dataset.ablated = a.total_ablated;
}

function evaluateSide(side, spec) {
  return new Promise((resolve) => {
    const bar = sideEl(side, "abl-progress"), out = sideEl(side, "abl-result");
    bar.hidden = false; bar.value = 0; out.textContent = "computing…"; delete out.dataset.change;
    const q = new URLSearchParams({ model: side.model.id, spec, token: TOKEN });
    const source = new EventSource(`/api/ablate/eval?${q}`);
    const done = () => { source.close(); bar.hidden = true; resolve(); };
    source.onmessage = (m) => {
      const e = JSON.parse(m.data);
      if (e.type === "progress") { bar.value = (e.done / e.total) * 0.5 + (e.part === "ablated" ? 0.5 : 0); out.textContent = `${e.part}: ${e.done} of ${e.total} documents`; }
      if (e.type === "result") {
        out.textContent = `val loss ${e.intact.toFixed(4)} intact → ${e.ablated.toFixed(4)} with ${e.spec || "nothing"} off (${e.change >= 0 ? "+" : ""}${e.change.toFixed(4)}), over ${e.what}, engine ${e.engine}`;
        Object.assign(out.dataset, { change: e.change, intact: e.intact, ablated: e.ablated, for: `${side.model.id} ${spec}` });
        done();
      }
      if (e.type === "failed") { showError(e.error); out.textContent = ""; done(); }
    };
    source.addEventListener("end", done);
    source.onerror = done;
  });
}

async function evaluateAblation() {
  $("abl-eval").disabled = true;
  const spec = ablationSpec();
  await Promise.all(sides.map((side) => evaluateSide(side, spec)));
  $("abl-eval").disabled = false;
}

export function wireAblation() {
  $("abl-eval").addEventListener("click", evaluateAblation);
}
