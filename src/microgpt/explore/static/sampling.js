// 5. Sampling step by step: a sample the server drew, with the distribution
// at every step, shown one step at a time. The sides draw with the same seed
// and settings, and step together.
import { api, guarded } from "./api.js";
import { bars } from "./charts.js";
import { $, fmtP } from "./dom.js";
import { ask, page, sideEl, sides } from "./state.js";

export async function drawSample(side) {
  const current = ask(side, "sample");
  const sample = await api("sample", { model: side.model.id, seed: $("smp-seed").value, temperature: $("smp-temp").value,
                                       top_k: $("smp-topk").value, top_p: $("smp-topp").value,
                                       prefix: $("smp-prefix").value });
  if (!current()) return;
  side.sample = sample; side.shown = 0;
  renderSample(side);
}

// How the distribution drawn from was reshaped, in the order sampling applies
// the steps, and how many tokens kept any probability.
function settings(s) {
  if (Number(s.temperature) === 0) return "temperature 0 (greedy)";
  return [`temperature ${s.temperature}`, s.top_k ? `top-k ${s.top_k}` : "", s.top_p ? `top-p ${s.top_p}` : ""]
    .filter(Boolean).join(", then ");
}

function shape(s, st) {
  if (st.forced) return "a prefix token: not drawn (the bars are the plain distribution, at temperature 1)";
  if (Number(s.temperature) === 0) return "temperature 0 (greedy): the most likely token is taken (the bars are at temperature 1)";
  const kept = st.probs.filter((p) => p > 0).length;
  return `${settings(s)}: ${kept} token${kept === 1 ? "" : "s"} kept`;
}

export function renderSample(side) {
  const s = side.sample, text = sideEl(side, "smp-text"), info = sideEl(side, "smp-info"), plot = sideEl(side, "smp-bars");
  const shaped = sideEl(side, "smp-shape");
  shaped.textContent = s && side.shown > 0 ? shape(s, s.steps[side.shown - 1]) : "";
  if (!s) { text.textContent = ""; info.textContent = "Press Draw, then Step or Play."; plot.replaceChildren(); return; }
  const taken = s.steps.slice(0, side.shown);
  text.textContent = (side.model.is_text ? s.prefix : "") + taken.filter((st) => st.choice !== "BOS").map((st) => st.choice).join("");
  text.dataset.done = String(side.shown === s.steps.length);
  if (side.shown === 0) { info.textContent = `${s.steps.length} steps ready (seed ${s.seed}, ${settings(s)}).`; plot.replaceChildren(); return; }
  const st = s.steps[side.shown - 1];
  info.textContent = `step ${side.shown} of ${s.steps.length}: ${st.forced ? "the prefix gives" : "drew"} ` +
    `${st.choice === "BOS" ? "the end" : JSON.stringify(st.choice)} (p = ${fmtP(st.p)})` + (side.shown === s.steps.length ? ` · done: ${JSON.stringify(s.text)}` : "");
  bars(plot, s.vocab, st.probs, st.choice);
}

// One more step on a side; false when it has none left.
function stepSample(side) {
  if (side.sample && side.shown < side.sample.steps.length) { side.shown++; renderSample(side); return true; }
  return false;
}

export function wireSampling() {
  const drawAll = () => Promise.all(sides.map(drawSample));
  const drawn = () => sides.every((side) => side.sample);
  const over = () => sides.every((side) => side.sample && side.shown === side.sample.steps.length);
  const step = () => sides.map(stepSample).some(Boolean);
  $("smp-new").addEventListener("click", () => guarded(drawAll));
  $("smp-step").addEventListener("click", () => guarded(async () => { if (!drawn()) await drawAll(); step(); }));
  $("smp-reset").addEventListener("click", () => {
    clearInterval(page.player);
    for (const side of sides) { side.shown = 0; renderSample(side); }
  });
  $("smp-play").addEventListener("click", () => guarded(async () => {
    if (!drawn() || over()) await drawAll();
    clearInterval(page.player);
    page.player = setInterval(() => { if (!step()) clearInterval(page.player); }, 350);
  }));
}
