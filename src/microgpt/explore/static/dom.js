// Small helpers every view draws with: elements, SVG, number formats (colours: colours.js).

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
// A probability to three significant digits, however small: 0.123, 0.0123, 1.48e-4.
export const fmtP = (p) => (p >= 1e-3 ? p.toPrecision(3) : p.toExponential(2).replace("e+", "e"));
export const shown = (t) => (t === "BOS" ? "⏎" : t === " " ? "␣" : t === "\n" ? "↵" : t);
