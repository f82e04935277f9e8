// The exercises page: each exercise's stub in a code editor (CodeMirror,
// vendored in vendor/), and Check, which runs the grader of `microgpt exercise
// check` in a worker (site/exercise_bridge.py) and shows its report. The page
// keeps the grader's time budget itself: a worker that runs past it is
// terminated and a fresh one writes the report from what the first one told
// (the same report the command writes when its child is stopped). Each check
// runs in a worker no student code has run in, as each of the command's runs
// is a fresh process: after a check its worker is replaced, the next one
// loading while the report is read.
import { PythonWorker } from "./explore/pyworker.js";
import { EditorView, bracketMatching, indentUnit, indentWithTab, keymap, lineNumbers, minimalSetup, python } from "./vendor/codemirror.js";

const $ = (id) => document.getElementById(id);
const saved = (n) => `microgpt-exercise-${n}`;  // localStorage: the student's text for exercise n
let site = null, current = null, grader = new PythonWorker("worker.js");

const editor = new EditorView({
  parent: $("editor"),
  extensions: [minimalSetup, lineNumbers(), bracketMatching(), indentUnit.of("    "), keymap.of([indentWithTab]), python(),
    EditorView.updateListener.of((u) => { if (u.docChanged && current) localStorage.setItem(saved(current.n), u.state.doc.toString()); })],
});

function setText(text) {
  editor.dispatch({ changes: { from: 0, to: editor.state.doc.length, insert: text } });
}

function choose(n) {
  current = site.exercises.find((e) => e.n === n);
  $("teaches").textContent = `${current.file}: ${current.teaches}`;
  const kept = localStorage.getItem(saved(n));
  const chosen = current;
  current = null;  // showing the kept text (or the stub) is not an edit
  setText(kept === null ? chosen.stub : kept);
  current = chosen;
  showReport("", null);
}

function showReport(text, passed) {
  $("report").textContent = text;
  if (passed === null) delete $("report").dataset.passed; else $("report").dataset.passed = String(passed);
}

async function check() {
  const n = current.n, source = editor.state.doc.toString(), worker = grader, events = [];
  $("check").disabled = true;
  $("ex-status").textContent = "checking…";
  showReport("", null);
  let timer = null, startClock = null;
  // The clock starts when the grader starts (the worker may still be loading Python before that).
  const stopped = new Promise((resolve) => { startClock = () => { timer = setTimeout(() => resolve(null), site.exercise_budget * 1000); }; });
  const run = worker.call("exercise_bridge:check", [n, source], (e) => { if (e.running) startClock(); else events.push(e); });
  try {
    let result = await Promise.race([run, stopped]);
    if (result === null) {  // past the budget: this worker is lost to the student's loop; a fresh one reports
      worker.terminate("the check ran past its time budget");
      grader = new PythonWorker("worker.js");
      result = await grader.call("exercise_bridge:stopped", [n, events]);
    }
    showReport(result.text, result.passed);
  } catch (e) {
    showReport(`microgpt exercise: error: ${e.message}`, false);
  } finally {
    if (grader === worker) {  // the student's code ran in it: the next check gets a fresh one
      worker.terminate("replaced after a check");
      grader = new PythonWorker("worker.js");
    }
    clearTimeout(timer);
    $("ex-status").textContent = "";
    $("check").disabled = false;
  }
}

async function openFile() {
  const file = $("open-file").files[0];
  if (!file) return;
  $("check").disabled = true;  // until the editor holds the file: a check now would grade the old text
  try { setText(await file.text()); } finally { $("open-file").value = ""; $("check").disabled = false; }
}

async function start() {
  site = await (await fetch("site.json")).json();
  $("budget").textContent = String(site.exercise_budget);
  for (const e of site.exercises) $("exercise").append(new Option(`${e.n}. ${e.title}`, String(e.n)));
  const asked = Number(new URLSearchParams(location.search).get("n")) || 1;
  $("exercise").value = String(asked);
  choose(Number($("exercise").value) || 1);
  $("exercise").addEventListener("change", () => choose(Number($("exercise").value)));
  $("check").addEventListener("click", check);
  $("open-file").addEventListener("change", openFile);
  $("check").disabled = false;
}

start().catch((e) => showReport(`the page could not start: ${e.message}`, false));
