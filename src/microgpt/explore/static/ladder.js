// The ladder (explore --ladder): the six rungs' table, their claims and loss
// curves, and the string read by each GPT rung.
import { api } from "./api.js";
import { lineChart } from "./charts.js";
import { legend, surpriseScale } from "./colours.js";
import { $, el, fmt } from "./dom.js";
import { surpriseBox } from "./read.js";
import { ask, page } from "./state.js";

export async function loadLadder() {
  const lad = page.ladder = await api("ladder");
  if (!lad.table) return;
  $("ladder-tab").hidden = false;
  $("ladder-path").textContent = lad.path;
  const cols = [["rung", "rung"], ["idea", "new idea"], ["params", "params"], ["steps", "steps"], ["val_loss", "val loss"], ["val_ppl", "ppl"], ["seconds", "seconds"]];
  const cell = (k, v) => k === "rung" ? `train${v}` : v === null || v === undefined ? "—" : k === "val_loss" ? v.toFixed(4)
    : k === "val_ppl" ? v.toFixed(3) : k === "seconds" ? v.toFixed(1) : typeof v === "number" ? v.toLocaleString("en") : v;
  $("ladder-table").replaceChildren(el("tr", {}, ...cols.map(([, h]) => el("th", { text: h }))),
    ...lad.table.map((r) => el("tr", { "data-rung": r.rung }, ...cols.map(([k]) => el("td", { class: k === "idea" ? "" : "num", text: cell(k, r[k]) })))));
  $("ladder-claims").replaceChildren(...lad.claims.map((c) => el("li", { class: c.holds === false ? "fails" : "", text: c.line })));
  const colours = ["#888", "#8250df", "#1a7f37", "#d94801", "#2456a6", "#0a3069"];
  lineChart($("ladder-loss"), lad.runs.filter((r) => r.steps.length > 1).map((r, i) => ({ label: r.label, x: r.steps, y: r.smoothed, colour: colours[(i + 1) % colours.length] })));
  $("ladder-compare").hidden = lad.models.length < 2;
  if (page.view === "ladder") await readLadder();
}

export async function readLadder() {
  const lad = page.ladder, text = $("text").value;
  if (!lad || !lad.table) return;
  const current = ask(page, "ladder");
  const reads = await Promise.all(lad.models.map((id) => api("score", { model: id, text })));
  if (!current()) return;
  $("ladder-reads").replaceChildren(...reads.map((s, k) => el("div", { class: "ladder-read", "data-model": lad.models[k], "data-total": s.total },
    el("p", { text: `${lad.models[k]}: total NLL ${fmt(s.total)}, mean ${fmt(s.mean)}` }),
    el("div", { class: "chars" }, ...s.rows.map(surpriseBox)))), legend(surpriseScale));
}
