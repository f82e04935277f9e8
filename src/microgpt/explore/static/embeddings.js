// 6. Embeddings: a side's token embeddings (wte) on their two principal
// components, and how alike its position embeddings (wpe) are: a cosine is
// signed, so its heatmap is blue below 0, white at 0 and red above (colours.js).
import { api } from "./api.js";
import { heatmap } from "./charts.js";
import { cosineScale, legend } from "./colours.js";
import { el, shown, svg } from "./dom.js";
import { ask, sideEl } from "./state.js";

export async function renderEmbeddings(side) {
  const current = ask(side, "embeddings");
  const e = await api("embeddings", { model: side.model.id });
  if (!current()) return;
  sideEl(side, "emb-explained").textContent = `The two axes explain ${(100 * e.explained[0]).toFixed(1)}% and ${(100 * e.explained[1]).toFixed(1)}% of the variance.`;
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
  sideEl(side, "emb-wte").replaceChildren(s, el("p", { class: "note", text: "green: vowels (and y) · orange: BOS · blue: the rest" }));
  const n = e.wpe_similarity.length, labels = [...Array(n).keys()].map(String);
  const cell = Math.max(6, Math.min(22, Math.floor(420 / n)));
  sideEl(side, "emb-wpe").replaceChildren(heatmap(e.wpe_similarity, labels, labels, { cell, scale: cosineScale }), legend(cosineScale));
}
