// Ablation: parts of side 0's model switched off, the string's surprise intact
// and ablated, and the validation loss both ways, streamed as it is computed.
import { TOKEN, api, guarded, showError } from "./api.js";
import { $, BLUE, HEAT, el, fmt, inkOn, ramp, shown } from "./dom.js";
import { ask, sides } from "./state.js";

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
  $("abl-result").textContent = "";
}

const ablationSpec = () => [...document.querySelectorAll("#abl-parts input:checked")].map((b) => b.value).join(",");

export async function readAblation() {
  const current = ask(sides[0], "ablation");
  const a = await api("ablate", { model: sides[0].model.id, spec: ablationSpec(), text: $("text").value });
  if (!current()) return;
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
  const q = new URLSearchParams({ model: sides[0].model.id, spec: ablationSpec(), token: TOKEN });
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

export function wireAblation() {
  $("abl-eval").addEventListener("click", evaluateAblation);
}
