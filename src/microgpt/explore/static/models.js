// The model menus and the string: which model each side shows, the string both
// sides read, and redrawing every view that depends on them.
import { buildAblationParts, readAblation } from "./ablation.js";
import { BUNDLE, api, guarded } from "./api.js";
import { renderAttention } from "./attention.js";
import { renderCard } from "./card.js";
import { $, el } from "./dom.js";
import { renderEmbeddings } from "./embeddings.js";
import { renderForward } from "./forward.js";
import { readLadder } from "./ladder.js";
import { renderNext, renderRead } from "./read.js";
import { renderSample } from "./sampling.js";
import { renderStages } from "./stages.js";
import { ask, forget, newSide, page, sides } from "./state.js";

const menuEntry = (m) => el("option", { value: m.id, text: `${m.name} (${m.params.toLocaleString("en")} params)` });

export async function loadModels() {
  page.models = (await api("models")).models;
  const select = $("model"), other = $("compare");
  for (const m of page.models) {
    select.append(menuEntry(m));
    other.append(el("option", { value: m.id, text: m.name }));
  }
  select.addEventListener("change", () => guarded(() => chooseModel(0, select.value)));
  other.addEventListener("change", () => guarded(() => chooseModel(1, other.value)));
  $("compare-label").hidden = Boolean(BUNDLE) || page.models.length < 2;
  await chooseModel(0, page.models[0].id);
}

// Models trained from the page join the menus.
export async function refreshModels() {
  const models = (await api("models")).models;
  for (const m of models.filter((m) => !page.models.some((o) => o.id === m.id))) {
    $("model").append(menuEntry(m));
    $("compare").append(el("option", { value: m.id, text: m.name }));
  }
  page.models = models;
  $("compare-label").hidden = models.length < 2;
}

// Show model `id` on side `index` (side 1: compare with it; "" closes that side).
export async function chooseModel(index, id) {
  if (index === 1) {
    setSecondSide(Boolean(id));
    if (!id) return;
  }
  const side = sides[index];
  forget(side);  // what is on its way for the model shown before is dropped
  side.model = page.models.find((m) => m.id === id);
  side.card = side.score = side.trace = side.sample = null; side.shown = 0;
  const current = ask(side, "card");
  const card = await api("card", { model: id });
  if (!current()) return;
  side.card = card;
  const input = $("text");
  if (BUNDLE && index === 0) {  // a report reads the strings it was made with: the box becomes a menu of them
    const choice = $("text-choice");
    choice.replaceChildren(...BUNDLE.strings[id].map((t) => el("option", { value: t, text: t })));
    input.value = BUNDLE.strings[id][0];
  } else if (!input.value || !fits(input.value)) input.value = defaultString(side);
  for (const t of document.querySelectorAll(`.side[data-side="${index}"] .side-title`)) t.textContent = side.model.name;
  if (index === 0 && !BUNDLE) buildAblationParts(side.model);
  renderCard(side); renderSample(side);
  await readString();
  if (page.view === "embeddings") await renderEmbeddings(side);
}

// Comparing: every view gets a second side, a copy of the first whose ids end in "--b".
function setSecondSide(on) {
  for (const n of document.querySelectorAll('.side[data-side="1"]')) n.remove();
  for (const n of document.querySelectorAll(".sides")) n.classList.toggle("two", on);
  if (sides[1]) forget(sides[1]);
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
  sides.push(newSide(1));
}

function defaultString(side) {
  const m = side.model;
  if (!m.is_text && fits("emma")) return "emma";
  const first = side.card.samples.map((s) => s.text.replace(/\n/g, " ")).find((t) => t.length > 1) || m.vocab[0];
  return first.slice(0, m.is_text ? m.config.block_size + 1 : m.config.block_size - 1);
}

// The page refuses only what the server would refuse, to spare a round trip:
// the string must suit every model shown. Null when it does, else why not.
export function unfit(text) {
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

// Every side reads the string in the box; drawn once all have their answers.
export async function readString() {
  const text = $("text").value;
  const asked = sides.map((side) => ({ side, current: ask(side, "string") }));
  const answers = await Promise.all(asked.map(({ side }) =>
    Promise.all([api("score", { model: side.model.id, text }), api("trace", { model: side.model.id, text })])));
  // A side still shown whose answer is not its newest: a newer reading, or another model, is on its way.
  if (asked.some(({ side, current }) => sides.includes(side) && !current())) return;
  asked.forEach(({ side }, k) => { [side.score, side.trace] = answers[k]; });
  const n = Math.min(...sides.filter((side) => side.trace).map((side) => side.trace.positions.length));
  if (page.pos === null || page.pos >= n) page.pos = n - 1;
  await redraw();
}

// Everything that depends on the string and the chosen position, on every side that has read it.
export async function redraw() {
  const pick = (i) => guarded(async () => { page.pos = i; await redraw(); });
  await Promise.all(sides.filter((side) => side.score && side.trace).map(async (side) => {
    renderRead(side, pick); renderAttention(side); renderForward(side, pick); renderStages(side, pick);
    await renderNext(side);
  }));
  if (page.view === "ablation") await readAblation();
  if (page.view === "ladder") await readLadder();
}
