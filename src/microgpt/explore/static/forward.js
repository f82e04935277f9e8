// 4. Inside the forward pass: a side's residual stream at each point, read
// through the logit lens, and which MLP neurons fired, at the chosen position.
import { BLUE, HEAT, el, ramp, shown } from "./dom.js";
import { page, sideEl } from "./state.js";

// `pick(i)` is called when a position's button is clicked.
export function renderForward(side, pick) {
  const t = side.trace, p = t.positions[page.pos];
  sideEl(side, "fwd-positions").replaceChildren(...t.positions.map((q, i) => {
    const b = el("button", { class: i === page.pos ? "active" : "", text: `${i}: ${shown(q.token)} → ${shown(q.next)}` });
    b.addEventListener("click", () => pick(i));
    return b;
  }));
  const head = el("tr", {}, ...["point", "the vector (blue −, red +)", "‖x‖", "RMSNorm scale", "logit lens: top predictions"].map((h) => el("th", { text: h })));
  const big = Math.max(...p.stream.flatMap((pt) => pt.vector.map(Math.abs)), 1e-12);
  const rows = p.stream.map((pt) => el("tr", { "data-point": pt.name },
    el("td", { class: "mono", text: pt.name }), el("td", {}, vectorStrip(pt.vector, big)), el("td", { class: "num", text: pt.norm.toFixed(3) }),
    el("td", { class: "num", text: pt.norm_scale === null ? "—" : pt.norm_scale.toFixed(3) }),
    el("td", { class: "mono", text: pt.lens.map((x) => `${shown(x.token)} ${x.p.toFixed(3)}`).join("   ") })));
  sideEl(side, "fwd-stream").replaceChildren(head, ...rows);
  sideEl(side, "fwd-mlp").replaceChildren(...p.mlp.map((m, l) => {
    const top = Math.max(...m.hidden, 1e-12);
    const strip = el("div", { class: "neurons" }, ...m.hidden.map((v, j) => {
      const cell = el("div", { class: "neuron", title: `neuron ${j}: ${v.toFixed(4)}` });
      if (v > 0) cell.style.background = ramp(0.15 + 0.85 * v / top, HEAT);
      return cell;
    }));
    return el("div", {}, el("p", { text: `layer ${l}: ${m.active.length} of ${m.hidden.length} neurons fired` }), strip);
  }));
}

function vectorStrip(vector, big) {
  const strip = el("div", { class: "neurons vector" });
  for (const [j, v] of vector.entries()) {
    const cell = el("div", { class: "neuron", title: `x[${j}] = ${v.toFixed(4)}` });
    cell.style.background = ramp(Math.abs(v) / big, v < 0 ? BLUE : HEAT);
    strip.append(cell);
  }
  return strip;
}
