// microgpt explore: the page's entry. It wires the tabs, the string box and
// each view's controls, then loads the models. Each view draws in its own
// module; state.js keeps each side's state apart.
import { readAblation, wireAblation } from "./ablation.js";
import { BUNDLE, guarded, showError } from "./api.js";
import { loadBackprop, wireBackprop } from "./backprop.js";
import { $ } from "./dom.js";
import { renderEmbeddings } from "./embeddings.js";
import { loadLadder, readLadder } from "./ladder.js";
import { chooseModel, loadModels, readString, unfit } from "./models.js";
import { wireRead } from "./read.js";
import { wireSampling } from "./sampling.js";
import { wireStages } from "./stages.js";
import { page, sides } from "./state.js";
import { loadSession, wireTrain } from "./train.js";

function showView(name) {
  page.view = name;
  for (const b of document.querySelectorAll("#tabs button")) b.classList.toggle("active", b.dataset.view === name);
  for (const v of document.querySelectorAll(".view")) v.classList.toggle("active", v.id === `view-${name}`);
  if (name === "embeddings") guarded(() => Promise.all(sides.map(renderEmbeddings)));
  if (name === "ablation") guarded(readAblation);
  if (name === "ladder") guarded(readLadder);
  if (name === "backprop" && !page.backprop) guarded(loadBackprop);
}

function wire() {
  for (const b of document.querySelectorAll("#tabs button")) b.addEventListener("click", () => showView(b.dataset.view));
  if (BUNDLE) {
    $("text-choice").addEventListener("change", () => { $("text").value = $("text-choice").value; page.pos = null; guarded(readString); });
    $("report-note").hidden = false;
  }
  let timer = null;
  $("text").addEventListener("input", () => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      const why = unfit($("text").value);
      if (why) { showError(why); return; }
      page.pos = null;
      guarded(readString);
    }, 150);
  });
  $("ladder-compare").addEventListener("click", () => guarded(async () => {
    const ids = page.ladder.models;
    $("model").value = ids[0]; $("compare").value = ids[ids.length - 1];
    await chooseModel(0, ids[0]); await chooseModel(1, ids[ids.length - 1]);
    showView("read");
  }));
  wireRead(); wireSampling(); wireBackprop(); wireAblation(); wireTrain(); wireStages();
}

// A module runs once the document is parsed, so every element is there.
wire();
guarded(async () => {
  await loadModels();
  if (BUNDLE) return;
  await loadSession(); await loadLadder();
  if (page.ladder.table) showView("ladder");  // explore --ladder: the page opens on it
});
