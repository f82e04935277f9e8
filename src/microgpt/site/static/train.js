// The Train page: the form, the live log and loss chart, the trained model's links.
// Python (worker.js -> microgpt/site/train_bridge.py) does all the work; this module
// shows the lines `microgpt train` prints and draws the losses those lines carry.

import { Python } from "./python.js";

const $ = (id) => document.getElementById(id);
const form = $("train-form");
const STEP_LINE = /^step\s+(\d+) \/\s+(\d+) \| loss (\S+)/;  // progress.py's piped line
let python = new Python();
let run = null;  // the run going on: {losses, total, started, stepsAt, snapshot}
let stopping = false;  // a Stop is loading Python again (and restoring the run's last save)

function setStatus(text) {
  $("train-status").textContent = text;
}

async function start() {
  await python.ready;
  const defaults = await python.call("train_bridge:settings");
  for (const [key, value] of Object.entries(defaults)) {
    if (key === "engines" || !form.elements[key]) continue;
    if (key === "engine") {
      form.elements.engine.replaceChildren(...defaults.engines.map((e) => new Option(e, e)));
    }
    form.elements[key].value = value;
  }
  $("train-start").disabled = false;
  setStatus("ready");
}

function settings() {
  const chosen = {};
  for (const key of ["steps", "n_embd", "n_layer", "n_head", "lr", "seed", "engine"]) {
    chosen[key] = form.elements[key].value;
  }
  return chosen;
}

// The data as a path in the worker's file system (null: the bundled names).
async function dataPath() {
  const kind = form.elements.data.value;
  if (kind === "file") {
    const file = $("train-file").files[0];
    if (!file) throw new Error("choose a file first (or pick the bundled names)");
    return python.call("uploads:put", [file.name, await file.text()]);
  }
  if (kind === "pasted") return python.call("uploads:put", ["pasted.txt", $("train-text").value]);
  return null;
}

// What train_bridge.train emits: a line the command printed, or a checkpoint it saved
// ({snapshot: {name, steps, text}}, every 100 steps and at the end): what a Stop keeps.
function onEvent(event) {
  if (event.snapshot) {
    if (run) run.snapshot = event.snapshot;
    return;
  }
  addLine(event);
}

function addLine({ line, stream }) {
  const log = $("train-log");
  const atBottom = log.scrollTop + log.clientHeight >= log.scrollHeight - 4;
  if (stream === "stderr") {
    const span = document.createElement("span");
    span.className = "stderr";
    span.textContent = line + "\n";
    log.append(span);
  } else {
    log.append(line + "\n");
  }
  if (atBottom) log.scrollTop = log.scrollHeight;
  const step = STEP_LINE.exec(line);
  if (step && run) {
    run.total = Number(step[2]);
    run.losses.push(Number(step[3]));
    run.stepsAt ??= performance.now();
    const seconds = (performance.now() - run.stepsAt) / 1000;
    const rate = seconds > 0 ? (run.losses.length - 1) / seconds : 0;
    setStatus(`training: step ${step[1]} of ${step[2]}, ${rate.toFixed(1)} steps/s`);
    if (!run.drawing) {
      const drawn = run;  // the run may end (run = null) before the frame comes
      drawn.drawing = true;
      requestAnimationFrame(() => { drawn.drawing = false; drawChart(drawn); });
    }
  }
}

function drawChart({ losses, total }) {
  const canvas = $("train-chart");
  const g = canvas.getContext("2d");
  const { width, height } = canvas;
  g.clearRect(0, 0, width, height);
  if (!losses.length) return;
  const top = Math.max(...losses), bottom = Math.min(...losses, 0);
  const x = (i) => 40 + (width - 50) * (i / Math.max(total - 1, 1));
  const y = (v) => 10 + (height - 30) * (1 - (v - bottom) / (top - bottom || 1));
  g.strokeStyle = "#999";
  g.fillStyle = "#555";
  g.font = "11px sans-serif";
  g.strokeRect(40, 10, width - 50, height - 30);
  g.fillText(top.toFixed(2), 2, 14);
  g.fillText(bottom.toFixed(2), 2, height - 20);
  g.fillText(`step ${losses.length} of ${total}`, width - 110, height - 5);
  g.strokeStyle = "#1565c0";
  g.beginPath();
  losses.forEach((v, i) => (i ? g.lineTo(x(i), y(v)) : g.moveTo(x(i), y(v))));
  g.stroke();
}

async function train(event) {
  event.preventDefault();
  $("train-start").disabled = true;
  $("train-done").hidden = true;
  $("train-log").replaceChildren();
  $("train-samples").replaceChildren();
  run = { losses: [], total: 0, started: performance.now(), stepsAt: null, drawing: false, snapshot: null };
  drawChart(run);
  try {
    const data = await dataPath();
    $("train-stop").disabled = false;
    setStatus("training…");
    const result = await python.call("train_bridge:train", [settings(), data], onEvent);
    const seconds = ((performance.now() - run.started) / 1000).toFixed(1);
    drawChart(run);
    if (result.model) {
      await offerModel(result.model);
      setStatus(`done in ${seconds} s`);
    } else {
      setStatus(`stopped with exit status ${result.code} (see the log)`);
    }
  } catch (e) {
    if (e.message !== "stopped") setStatus(`error: ${e.message}`);
  } finally {
    $("train-stop").disabled = true;
    $("train-start").disabled = stopping;
    run = null;
  }
}

async function offerModel(path) {
  const text = await python.call("train_bridge:read_model", [path]);
  const name = path.split("/").pop();
  const download = $("train-download");
  URL.revokeObjectURL(download.href);
  download.href = URL.createObjectURL(new Blob([text], { type: "application/json" }));
  download.download = name;
  const explore = $("train-explore");
  try {  // the explorer page has its own worker: the model goes over in this tab's storage
    sessionStorage.setItem(`microgpt.trained:${name}`, text);
    explore.href = `explore.html?trained=${encodeURIComponent(name)}`;
    explore.hidden = false;
  } catch {
    explore.hidden = true;  // too large for the tab's storage: download it instead
  }
  $("train-done").hidden = false;
  const samples = $("train-samples");
  samples.replaceChildren(`$ microgpt sample ${name}\n`);
  await python.call("train_bridge:sample", [path], ({ line, stream }) => {
    if (stream === "stdout") samples.append(line + "\n");
  });
}

// Python in a worker cannot be interrupted: Stop ends the worker (its files too) and
// starts another; the model the run saved last came over as a snapshot and goes back in.
async function stop() {
  const at = run ? run.losses.length : 0, kept = run ? run.snapshot : null;
  stopping = true;
  $("train-start").disabled = true;
  python.terminate();
  python = new Python();
  const saved = kept ? `kept the model saved at step ${kept.steps}` : "nothing was saved yet (a run saves every 100 steps)";
  setStatus(`stopped at step ${at}; ${saved}. Loading Python again…`);
  try {
    await python.ready;
    if (kept) await offerModel(await python.call("train_bridge:restore", [kept.name, kept.text]));
    setStatus(`stopped at step ${at}; ${saved}. Ready.`);
  } catch (e) {
    setStatus(`error: ${e.message}`);
  } finally {
    stopping = false;
    $("train-start").disabled = false;
  }
}

form.addEventListener("submit", train);
$("train-stop").addEventListener("click", stop);
start().catch((e) => setStatus(`error: ${e.message}`));
