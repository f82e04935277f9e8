// 3. Attention: one heatmap per layer and head of a side's model, each row a
// position reading and each column a position it looks at, with the legend of
// their one colour scale (colours.js: white 0 to dark blue 1, as in every head).
import { heatmap } from "./charts.js";
import { attentionScale, legend } from "./colours.js";
import { el, shown } from "./dom.js";
import { sideEl } from "./state.js";

export function renderAttention(side) {
  const t = side.trace, n = t.positions.length, maps = sideEl(side, "attn-maps");
  maps.replaceChildren();
  sideEl(side, "attn-legend").replaceChildren(legend(attentionScale));
  const labels = t.tokens.slice(0, n);
  const layers = t.positions[0].attention.length, heads = t.positions[0].attention[0].length;
  for (let l = 0; l < layers; l++) for (let h = 0; h < heads; h++) {
    const rows = t.positions.map((p) => labels.map((_, j) => (j <= p.pos ? p.attention[l][h][j] : null)));
    const hover = (i, j, v) => { sideEl(side, "attn-hover").textContent = `layer ${l} head ${h}: position ${i} (${shown(labels[i])}) → ${j} (${shown(labels[j])}): weight ${v.toFixed(4)}`; };
    const panel = el("div", { class: "panel", "data-testid": `attn-${l}-${h}` }, el("h2", { text: `layer ${l} · head ${h}` }));
    panel.append(heatmap(rows, labels, labels, { hover, scale: attentionScale }));
    maps.append(panel);
  }
}
