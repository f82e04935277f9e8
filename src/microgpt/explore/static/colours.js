// The page's colour maps, in one place, and the legend each heatmap carries.
// A map is a piecewise-linear ramp through a few stops, each channel rounded
// (docs/explore.md, "Colours", gives the formula; the browser tests recompute it).
// A signed quantity (a cosine, a coordinate of the residual stream, a change in
// surprise) gets the diverging map: blue below 0, white at 0, red above, and
// symmetric, so −x and +x are equally strong. A quantity that is never negative
// (an attention weight, a surprise, a neuron's activation) gets a sequential
// map: pale for little, dark for much.
import { el, svg } from "./dom.js";

// The colour at t in 0..1 along `stops` ([r, g, b] each).
export function ramp(t, stops) {
  t = Math.max(0, Math.min(1, t));
  const i = Math.min(stops.length - 2, Math.floor(t * (stops.length - 1)));
  const f = t * (stops.length - 1) - i;
  const mix = stops[i].map((a, j) => Math.round(a + (stops[i + 1][j] - a) * f));
  return `rgb(${mix.join(",")})`;
}

const HEAT = [[255, 250, 225], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];
const BLUE = [[247, 251, 255], [158, 202, 225], [66, 146, 198], [8, 69, 148]];
const SIGNED = [[33, 102, 172], [146, 197, 222], [255, 255, 255], [244, 165, 130], [178, 24, 43]];

// A scale maps a value to a colour, says which ink reads on it, and names its
// three legend labels (left, middle, right) and what its colours mean.
// Sequential: 0 is the pale end, `max` (and beyond) the dark one.
export function sequentialScale(max, stops, labels, caption, name) {
  const t = (v) => v / max;
  return { stops, labels, caption, name, colour: (v) => ramp(t(v), stops), ink: (v) => (t(v) > 0.55 ? "#fff" : "#1d2330") };
}

// Diverging: −max is full blue, 0 white, +max full red.
export function signedScale(max, labels, caption, name) {
  const t = (v) => (v / max + 1) / 2;
  return { stops: SIGNED, labels, caption, name, colour: (v) => ramp(t(v), SIGNED),
           ink: (v) => (Math.abs(v / max) > 0.6 ? "#fff" : "#1d2330") };
}

export const attentionScale = sequentialScale(1, BLUE, ["0", "0.5", "1"],
  "attention weight: white, 0 (not looked at); dark blue, 1 (all of the row's attention)", "weight");
export const surpriseScale = sequentialScale(6, HEAT, ["0", "3", "6+ nats"],
  "surprise −ln p, in nats: pale where the model expected the character, dark red where it did not", "surprise");
export const cosineScale = signedScale(1, ["−1", "0", "+1"],
  "cosine similarity: red, alike (+1); white, unrelated (0); blue, opposite (−1)", "cosine");
export const surpriseOf = (r) => (r.surprise === null ? Infinity : r.surprise);  // p = 0: beyond every scale
export const activationScale = (top) => sequentialScale(top, HEAT, ["0", (top / 2).toFixed(2), top.toFixed(2)],
  "activation after the nonlinearity: grey, did not fire (≤ 0); pale to dark red, fired a little to the most in this layer", "activation");
export const streamScale = (big) => signedScale(big, [`−${big.toFixed(2)}`, "0", `+${big.toFixed(2)}`],
  "each coordinate of the vector: blue below 0, white at 0, red above (the ends: the largest |x| at this position)", "x");

// A gradient bar through the scale's stops with its three labels under it, and its caption.
export function legend(scale) {
  const w = 200, pad = 32, n = 50, bar = svg("svg", { width: w + 2 * pad, height: 34, viewBox: `0 0 ${w + 2 * pad} 34`, class: "legend-bar" });
  for (let k = 0; k < n; k++) bar.append(svg("rect", { x: pad + (k * w) / n, y: 2, width: w / n + 0.5, height: 12, fill: ramp((k + 0.5) / n, scale.stops) }));
  scale.labels.forEach((label, k) => bar.append(svg("text", { x: pad + (k * w) / 2, y: 30, "text-anchor": "middle", "font-size": 11, class: "legend-label", text: label })));
  return el("div", { class: "colour-legend" }, bar, el("span", { class: "note", text: scale.caption }));
}
