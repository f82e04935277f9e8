// 7. Backprop node by node: the worked example L = a*b + a, its graph drawn
// with each node's gradient as backward() reaches it, one step per click.
import { api, guarded } from "./api.js";
import { $, num, svg } from "./dom.js";
import { ask, page } from "./state.js";

export async function loadBackprop() {
  const current = ask(page, "backprop");
  const graph = await api("backprop", { a: $("bp-a").value, b: $("bp-b").value });
  if (!current()) return;
  page.backprop = graph;
  page.bpStep = 0;
  renderBackprop();
}

function renderBackprop() {
  const g = page.backprop, step = g.steps[Math.min(page.bpStep, g.steps.length) - 1];
  const where = { a: [90, 70], b: [90, 210], c: [300, 140], L: [500, 100] };
  const s = svg("svg", { width: 620, height: 280, viewBox: "0 0 620 280", "data-testid": "bp-svg" });
  s.append(svg("defs", {}, svg("marker", { id: "arrow", viewBox: "0 0 10 10", refX: 10, refY: 5, markerWidth: 7, markerHeight: 7, orient: "auto" }, svg("path", { d: "M0,0L10,5L0,10z", fill: "#9aa3b2" }))));
  for (const e of g.edges) {
    const [x1, y1] = where[e.from], [x2, y2] = where[e.to];
    const hot = step && step.node === e.to;
    s.append(svg("line", { x1: x1 + 62, y1, x2: x2 - 62, y2, stroke: hot ? "#d94801" : "#9aa3b2", "stroke-width": hot ? 2.5 : 1.5, "marker-end": "url(#arrow)" }));
    s.append(svg("text", { x: (x1 + x2) / 2, y: (y1 + y2) / 2 - 6, "text-anchor": "middle", "font-size": 11, fill: "#5b6475", text: `local ${e.local_grad}` }));
  }
  for (const n of g.nodes) {
    const [x, y] = where[n.name], grad = step ? step.grads[n.name] : null, active = step && step.node === n.name;
    s.append(svg("rect", { x: x - 62, y: y - 30, width: 124, height: 60, rx: 8, fill: active ? "#fff1c5" : "#fff", stroke: active ? "#d94801" : "#2456a6" }));
    s.append(svg("text", { x, y: y - 10, "text-anchor": "middle", "font-size": 14, "font-weight": 600, text: `${n.name}${n.op ? ` (${n.op})` : ""} = ${num(n.data)}` }));
    s.append(svg("text", { x, y: y + 14, "text-anchor": "middle", "font-size": 13, "data-testid": `bp-grad-${n.name}`, text: `grad ${grad === null ? "·" : num(grad)}` }));
  }
  $("bp-graph").replaceChildren(s);
  $("bp-says").textContent = page.bpStep === 0 ? `Press Step backward. The walk visits ${g.order.join(" → ")}.`
    : `step ${page.bpStep} of ${g.steps.length}, at ${step.node}: ${step.says}` + (page.bpStep === g.steps.length ? ` · done: a.grad = ${num(step.grads.a)}, b.grad = ${num(step.grads.b)}` : "");
  $("bp-step").disabled = page.bpStep >= g.steps.length;
}

export function wireBackprop() {
  $("bp-step").addEventListener("click", () => { page.bpStep++; renderBackprop(); });
  $("bp-reset").addEventListener("click", () => guarded(loadBackprop));
  for (const id of ["bp-a", "bp-b"]) $(id).addEventListener("change", () => guarded(loadBackprop));
}
