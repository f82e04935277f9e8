// 2. Read a string: each predicted character coloured by a side's surprise at
// it, the totals, and the next-character distribution at the chosen position.
import { api, guarded } from "./api.js";
import { bars } from "./charts.js";
import { $, el, fmt, fmtP, inkOn, shown, surpriseColour } from "./dom.js";
import { ask, page, sideEl, sides } from "./state.js";

// `pick(i)` is called when a box is clicked: position i becomes the one shown.
export function renderRead(side, pick) {
  const s = side.score;
  sideEl(side, "read-chars").replaceChildren(...s.rows.map((r, i) => {
    const t = r.surprise === null ? 1 : r.surprise / 6, bg = surpriseColour(r.surprise);
    const box = el("div", { class: `char${i === page.pos ? " selected" : ""}`, "data-p": r.p, "data-surprise": r.surprise,
                            title: `after ${JSON.stringify(r.after)}: p = ${r.p}, −ln p = ${r.surprise}` },
      el("span", { class: "c", text: r.next === null ? "⏎" : shown(r.next) }), el("span", { class: "p", text: `p ${fmtP(r.p)}` }));
    box.style.background = bg; box.style.color = inkOn(t);
    box.addEventListener("click", () => pick(i));
    return box;
  }));
  for (const [id, v, d] of [["read-total", s.total, 4], ["read-mean", s.mean, 4], ["read-ppl", s.perplexity, 2]]) {
    sideEl(side, id).textContent = fmt(v, d); sideEl(side, id).dataset.value = v;
  }
  sideEl(side, "read-n").textContent = s.tokens;
  sideEl(side, "read-legend").replaceChildren(el("span", { text: "surprise −ln p: " }), ...[0, 1, 2, 3, 4, 5, 6].map((v) => {
    const key = el("span", { class: "key", text: v === 6 ? "6+" : String(v) });
    key.style.background = surpriseColour(v); key.style.color = inkOn(v / 6);
    return key;
  }));
  sideEl(side, "read-seen").textContent = s.in_training_data;
}

export async function renderNext(side) {
  const topk = $("next-topk").value;
  const temp = $("next-temp").value;
  sideEl(side, "next-temp-value").textContent = Number(temp).toFixed(2);
  const current = ask(side, "next");
  const d = await api("next", { model: side.model.id, text: $("text").value, pos: page.pos, temperature: temp, top_k: topk });
  if (!current()) return;
  const context = d.context.map(shown).join("");
  sideEl(side, "next-title").textContent = `After "${context}": what comes next (the truth: ${shown(d.next)})`;
  bars(sideEl(side, "next-bars"), d.vocab, d.probs, d.next);
}

// The temperature and top-k reshape the distribution on every side.
export function wireRead() {
  const reshape = () => guarded(() => Promise.all(sides.map(renderNext)));
  $("next-temp").addEventListener("input", reshape);
  $("next-topk").addEventListener("change", reshape);
}
