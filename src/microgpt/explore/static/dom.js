// Small helpers every view draws with: elements, SVG, number formats, colours.

export const $ = (id) => document.getElementById(id);

// The SVG namespace, as the HTML parser assigns it: so the page (and a report
// made of it) holds no URL of any kind.
const SVGNS = (() => { const t = document.createElement("template"); t.innerHTML = "<svg></svg>"; return t.content.firstChild.namespaceURI; })();

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else if (k === "class") node.className = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVGNS, tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k === "text") node.textContent = v; else node.setAttribute(k, v);
  }
  for (const c of children) node.append(c);
  return node;
}

export const fmt = (x, d = 4) => (x === null || x === undefined ? "∞" : Number(x).toFixed(d));
export const num = (x) => (Number.isInteger(x) ? x.toFixed(1) : String(x)); // as Python prints a float
export const fmtP = (p) => (p >= 1e-4 ? p.toFixed(4) : p.toExponential(1));
export const shown = (t) => (t === "BOS" ? "⏎" : t === " " ? "␣" : t === "\n" ? "↵" : t);

// Sequential colour ramps: pale for little, dark for much (t in 0..1).
export function ramp(t, stops) {
  t = Math.max(0, Math.min(1, t));
  const i = Math.min(stops.length - 2, Math.floor(t * (stops.length - 1)));
  const f = t * (stops.length - 1) - i;
  const mix = stops[i].map((a, j) => Math.round(a + (stops[i + 1][j] - a) * f));
  return `rgb(${mix.join(",")})`;
}
export const HEAT = [[255, 250, 225], [254, 217, 118], [253, 141, 60], [227, 26, 28], [128, 0, 38]];
export const BLUE = [[247, 251, 255], [158, 202, 225], [66, 146, 198], [8, 69, 148]];
export const surpriseColour = (s) => ramp(s === null ? 1 : s / 6, HEAT);
export const inkOn = (t) => (t > 0.55 ? "#fff" : "#1d2330");
