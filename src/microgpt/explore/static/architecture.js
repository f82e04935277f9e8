// The model's own diagram, from its configuration (the card's `architecture`):
// each block with its widths and parameter count, the stream flowing down, a ⊕
// where a block's output is added back to it. A click on a block opens the
// view that shows it at work; on an attention block (or one of its heads),
// the stages of that layer's attention beside it.
import { el, svg } from "./dom.js";
import { sideEl } from "./state.js";

const ARCH_W = 410, ARCH_BOX = 330, ARCH_LEFT = 50, ARCH_H = 44, ARCH_GAP = 16, ARCH_RAIL = 26;
const ARCH_FILL = { wte: "#e8f0fb", wpe: "#e8f0fb", norm: "#f3f4f6", attention: "#fff1dc", mlp: "#e7f6ea", lm_head: "#efe8fb" };

const paramCount = (n) => n.toLocaleString("en");

// `chosen` is the layer and head the stages show; `onHead(layer, head)` is called
// when an attention block or a head is clicked.
export function renderArchitecture(side, chosen, onHead) {
  const a = side.card.architecture, blocks = a.blocks;
  const [wte, wpe, ...rest] = blocks;
  const layers = rest.filter((b) => b.kind === "attention").length;
  const height = 2 * ARCH_H + 14 + 3 * ARCH_GAP + rest.length * (ARCH_H + ARCH_GAP) + layers * 2 * ARCH_GAP + 40;
  const s = svg("svg", { width: ARCH_W, height, viewBox: `0 0 ${ARCH_W} ${height}`, "data-testid": "arch-svg" });
  s.append(svg("defs", {}, svg("marker", { id: "arch-arrow", viewBox: "0 0 8 8", refX: 7, refY: 4, markerWidth: 6, markerHeight: 6, orient: "auto" },
    svg("path", { d: "M0,0 L8,4 L0,8 z", fill: "#9aa3b2" }))));
  const arrow = (y1, y2) => s.append(svg("line", { x1: ARCH_LEFT + ARCH_BOX / 2, x2: ARCH_LEFT + ARCH_BOX / 2, y1, y2, stroke: "#9aa3b2", "marker-end": "url(#arch-arrow)" }));

  // The two embeddings side by side, added.
  const half = (ARCH_BOX - 10) / 2;
  let y = 6;
  s.append(blockBox(wte, ARCH_LEFT, y, half, 3), blockBox(wpe, ARCH_LEFT + half + 10, y, half, 3));
  y += ARCH_H + 14;
  for (const cx of [ARCH_LEFT + half / 2, ARCH_LEFT + half + 10 + half / 2]) {  // both into the sum
    s.append(svg("path", { d: `M${cx} ${y - 4} V${y + 2} H${ARCH_LEFT + ARCH_BOX / 2} V${y + ARCH_GAP - 8}`, fill: "none", stroke: "#9aa3b2" }));
  }
  y = plusSign(s, ARCH_LEFT + ARCH_BOX / 2, y + ARCH_GAP, "wte[token] + wpe[position]");
  arrow(y, y + ARCH_GAP - 2);
  y += ARCH_GAP;
  let layer = null, railTop = 0;
  for (const b of rest) {
    if (b.layer !== layer && b.layer !== null) {  // a new layer: its frame's label
      layer = b.layer;
      s.append(svg("text", { x: ARCH_LEFT + ARCH_BOX, y: y + 11, "text-anchor": "end", "font-size": 11, "font-weight": 600, fill: "#5b6475", text: `layer ${layer}` }));
      y += ARCH_GAP;
    }
    if (b.kind === "norm" && b.layer !== null) railTop = y;  // the residual leaves the stream before the norm
    const g = blockBox(b, ARCH_LEFT, y, ARCH_BOX);
    if (b.kind === "attention") {
      if (b.layer === chosen.layer) g.querySelector("rect").setAttribute("stroke-width", 2.5);
      g.append(headSquares(b, a.n_head, ARCH_LEFT + 8, y + ARCH_H - 17, chosen, onHead));
      g.addEventListener("click", () => onHead(b.layer, b.layer === chosen.layer ? chosen.head : 0));
    }
    s.append(g);
    y += ARCH_H;
    if (b.kind === "attention" || b.kind === "mlp") {  // ⊕: the block's output added to the stream it read
      s.append(svg("path", { d: `M${ARCH_LEFT + ARCH_BOX / 2} ${railTop - ARCH_GAP / 2} H${ARCH_LEFT - ARCH_RAIL} V${y + ARCH_GAP} H${ARCH_LEFT + ARCH_BOX / 2 - 9}`,
                             fill: "none", stroke: "#9aa3b2", "stroke-dasharray": "4 3" }));
      y = plusSign(s, ARCH_LEFT + ARCH_BOX / 2, y + ARCH_GAP, "");
    }
    arrow(y, y + ARCH_GAP - 2);
    y += ARCH_GAP;
  }
  s.append(svg("text", { x: ARCH_LEFT + ARCH_BOX / 2, y: y + 12, "text-anchor": "middle", "font-size": 12, text: "next-token logits → softmax" }));
  sideEl(side, "arch-diagram").replaceChildren(s);
  const total = blocks.reduce((t, b) => t + b.params, 0);
  sideEl(side, "arch-total").replaceChildren(el("span", { text: "parameters, all blocks: " }),
    el("b", { "data-testid": "arch-total", text: paramCount(total) }),
    el("span", { text: total === a.params ? " (the model's count)" : ` (the model has ${paramCount(a.params)})` }));
}

// A block's box: its name, then its widths and its parameter count (on a third line, when narrow).
function blockBox(b, x, y, width, lines = 2) {
  const what = b.layer === null ? b.kind : `layer${b.layer}.${b.kind}`;
  const g = svg("g", { class: "arch-block", "data-block": what, "data-view": b.view, tabindex: 0, role: "button" });
  g.append(svg("rect", { x, y, width, height: ARCH_H - 4 + (lines - 2) * 14, rx: 5, fill: ARCH_FILL[b.kind], stroke: "#8b95a7" }));
  g.append(svg("text", { x: x + 8, y: y + 15, "font-size": 12, "font-weight": 600, text: b.label }));
  const params = svg("text", { x: x + width - 8, y: y + (b.kind === "attention" ? 15 : 17 + 14 * (lines - 1)), "text-anchor": "end", "font-size": 11,
                               fill: "#5b6475", "data-testid": "arch-params", "data-params": b.params, text: `${paramCount(b.params)} params` });
  g.append(params);
  if (b.kind !== "attention") g.append(svg("text", { x: x + 8, y: y + 31, "font-size": 11, fill: "#5b6475", text: b.widths }));
  g.append(svg("title", { text: b.matrices.length ? b.matrices.map((m) => `${m.name} ${m.shape.join("×")}`).join(", ") : "no parameters: x / rms(x)" }));
  const open = () => { if (b.kind !== "attention") document.querySelector(`#tabs button[data-view="${b.view}"]`).click(); };
  g.addEventListener("click", open);
  g.addEventListener("keydown", (e) => { if (e.key === "Enter") g.dispatchEvent(new MouseEvent("click")); });
  return g;
}

// One small square per head; the chosen one filled.
function headSquares(b, n, x, y, chosen, onHead) {
  const g = svg("g", {});
  const size = Math.min(22, (ARCH_BOX - 90) / n - 3);
  for (let h = 0; h < n; h++) {
    const on = b.layer === chosen.layer && h === chosen.head;
    const r = svg("rect", { x: x + h * (size + 3), y, width: size, height: 10, rx: 2, fill: on ? "#d97706" : "#fff", stroke: "#d97706",
                            "data-head": `${b.layer}.${h}`, class: "arch-head" }, svg("title", { text: `layer ${b.layer}, head ${h}` }));
    r.addEventListener("click", (e) => { e.stopPropagation(); onHead(b.layer, h); });
    g.append(r);
  }
  g.append(svg("text", { x: ARCH_LEFT + ARCH_BOX - 8, y: y + 9, "text-anchor": "end", "font-size": 10, fill: "#5b6475", text: `${b.widths}` }));
  return g;
}

function plusSign(s, cx, cy, label) {
  s.append(svg("circle", { cx, cy, r: 8, fill: "#fff", stroke: "#9aa3b2" }),
           svg("text", { x: cx, y: cy + 4, "text-anchor": "middle", "font-size": 13, text: "+" }));
  if (label) s.append(svg("text", { x: cx + 14, y: cy + 4, "font-size": 11, fill: "#5b6475", text: label }));
  return cy + 8;
}
