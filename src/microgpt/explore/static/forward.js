// 4. Inside the forward pass: a side's residual stream at each point, read
// through the logit lens, and which MLP neurons fired, at the chosen position.
// A coordinate is signed (blue −, white 0, red +); an activation is not.
import { activationScale, legend, streamScale } from "./colours.js";
import { el, fmt, shown } from "./dom.js";
import { page, sideEl } from "./state.js";

const HEADS = [
  ["point", "where in the model the residual stream is read"],
  ["the vector", "each coordinate of the stream, coloured by its sign and size; hover for its value"],
  ["‖x‖", "the vector's length, √(x₁² + … + xₙ²)"],
  ["RMSNorm scale", "1/rms: what the RMSNorm that reads this vector multiplies it by (— where no norm reads it)"],
  ["logit lens: top predictions", "the next-token probabilities if lm_head read the stream here"],
];

// `pick(i)` is called when a position's button is clicked.
export function renderForward(side, pick) {
  const t = side.trace, p = t.positions[page.pos], n = side.model.config.n_embd;
  sideEl(side, "fwd-positions").replaceChildren(...t.positions.map((q, i) => {
    const b = el("button", { class: i === page.pos ? "active" : "", text: `${i}: ${shown(q.token)} → ${shown(q.next)}` });
    b.addEventListener("click", () => pick(i));
    return b;
  }));
  const head = el("tr", {}, ...HEADS.map(([h, why]) => el("th", { text: h, title: why })));
  const big = Math.max(...p.stream.flatMap((pt) => pt.vector.map(Math.abs)), 1e-12), scale = streamScale(big);
  const rows = p.stream.map((pt) => el("tr", { "data-point": pt.name },
    el("td", { class: "mono", text: pt.name }), el("td", {}, vectorStrip(pt.vector, scale)),
    el("td", { class: "num norm", text: pt.norm.toFixed(3), title: `‖x‖ = √(sum of x²) = ${pt.norm}` }),
    el("td", { class: "num", text: pt.norm_scale === null ? "—" : pt.norm_scale.toFixed(3),
               title: pt.norm_scale === null ? "no RMSNorm reads this point" : `1/rms = ${pt.norm_scale}` }),
    el("td", { class: "mono", text: pt.lens.map((x) => `${shown(x.token)} ${x.p.toFixed(3)}`).join("   "), title: "token and its p" })));
  sideEl(side, "fwd-stream").replaceChildren(head, ...rows);
  sideEl(side, "fwd-stream-legend").replaceChildren(legend(scale));
  sideEl(side, "fwd-norm-note").textContent = `‖x‖ is the vector's length. RMSNorm divides a vector by its rms, ` +
    `√(mean of x²) = ‖x‖/√n, so right after a norm (embed.norm) the rms is 1 and ‖x‖ = √n_embd: √${n} = ${fmt(Math.sqrt(n), 3)} ` +
    `(a hair under, for the 1e-5 the norm adds under the root). The RMSNorm scale is 1/rms, the factor the next norm ` +
    `multiplies the vector by: 1.000 for a vector already normalised.`;
  sideEl(side, "fwd-mlp").replaceChildren(...p.mlp.map((m, l) => {
    const top = Math.max(...m.hidden, 1e-12), act = activationScale(top);
    const strip = el("div", { class: "neurons" }, ...m.hidden.map((v, j) => {
      const cell = el("div", { class: "neuron", title: `neuron ${j}: activation ${v.toFixed(4)}` });
      if (v > 0) cell.style.background = act.colour(v);
      return cell;
    }));
    return el("div", {}, el("p", { text: `layer ${l}: ${m.active.length} of ${m.hidden.length} neurons fired` }), strip, legend(act));
  }));
}

function vectorStrip(vector, scale) {
  const strip = el("div", { class: "neurons vector" });
  for (const [j, v] of vector.entries()) {
    const cell = el("div", { class: "neuron", title: `x[${j}] = ${v.toFixed(4)}` });
    cell.style.background = scale.colour(v);
    strip.append(cell);
  }
  return strip;
}
