// 2. Read a string: each predicted character with its p and its surprise
// −ln p, coloured by the surprise (colours.js), the totals, and the
// next-character distribution at the chosen position.
import { api, guarded } from "./api.js";
import { bars } from "./charts.js";
import { legend, surpriseOf, surpriseScale } from "./colours.js";
import { $, el, fmt, fmtP, shown } from "./dom.js";
import { ask, page, sideEl, sides } from "./state.js";

// One prediction of /api/score's rows as a box: the character, its p, its surprise.
export function surpriseBox(r) {
  const s = surpriseOf(r), next = r.next === null ? "⏎" : shown(r.next);
  const box = el("div", { class: "char", "data-p": r.p, "data-surprise": r.surprise,
                          title: `after ${JSON.stringify(r.after)}: p = ${r.p}, the model's probability of ${next === "⏎" ? "the end" : JSON.stringify(r.next)} here; ` +
                                 `surprise −ln p = ${fmt(r.surprise, 4)} nats, the box's colour` },
    el("span", { class: "c", text: next }), el("span", { class: "p", text: `p ${fmtP(r.p)}` }),
    el("span", { class: "p", text: `${fmt(r.surprise, 2)} nats` }));
  box.style.background = surpriseScale.colour(s); box.style.color = surpriseScale.ink(s);
  return box;
}

// `pick(i)` is called when a box is clicked: position i becomes the one shown.
export function renderRead(side, pick) {
  const s = side.score;
  sideEl(side, "read-chars").replaceChildren(...s.rows.map((r, i) => {
    const box = surpriseBox(r);
    box.classList.toggle("selected", i === page.pos);
    box.addEventListener("click", () => pick(i));
    return box;
  }));
  for (const [id, v, d] of [["read-total", s.total, 4], ["read-mean", s.mean, 4], ["read-ppl", s.perplexity, 2]]) {
    sideEl(side, id).textContent = fmt(v, d); sideEl(side, id).dataset.value = v;
  }
  sideEl(side, "read-n").textContent = s.tokens;
  sideEl(side, "read-legend").replaceChildren(legend(surpriseScale));
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
  const reshaped = `temperature ${Number(temp).toFixed(2)}${topk ? `, top-k ${topk}` : ""}`;
  sideEl(side, "next-title").textContent = `After "${context}": what comes next (the truth: ${shown(d.next)}), p at ${reshaped}`;
  bars(sideEl(side, "next-bars"), d.vocab, d.probs, d.next);
}

// The temperature and top-k reshape the distribution on every side.
export function wireRead() {
  const reshape = () => guarded(() => Promise.all(sides.map(renderNext)));
  $("next-temp").addEventListener("input", reshape);
  $("next-topk").addEventListener("change", reshape);
}
