// Asking the server, and telling the user how it went. Every number on the
// page comes from the JSON API (docs/explore.md), which calls the library;
// nothing about the model is computed in the page.
import { $ } from "./dom.js";
import { PythonWorker } from "./pyworker.js";

// A report (microgpt report) carries every answer in the page itself; the
// explorer's page asks its server.
export const BUNDLE = (() => { const b = document.getElementById("bundle"); return b ? JSON.parse(b.textContent) : null; })();

// The name a report stores an answer under (report.py's `key` builds the same).
function answerKey(path, params) {
  const given = Object.entries(params).filter(([, v]) => v !== null && v !== undefined && v !== "")
    .map(([k, v]) => [k, String(v)]).sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  return JSON.stringify([path, given]);
}

// The site (microgpt site) has no server: its explore.html asks a worker running
// this package, which hands the same path and query to the server's own dispatch
// (site/explore_bridge.py), over the site's models and, with ?trained=NAME, the
// model the Train page kept in this tab (sessionStorage "microgpt.trained:NAME"), shown first.
export const IN_SITE = document.body.dataset.backend === "worker";
let sitePython = null;

function siteWorker() {
  if (!sitePython) {
    sitePython = (async () => {
      const python = new PythonWorker("worker.js");
      const site = await (await fetch("site.json")).json();
      const files = await Promise.all(site.models.map(async (m) => [m.split("/").pop(), await (await fetch(m)).text()]));
      const trained = new URLSearchParams(location.search).get("trained");
      if (trained) {
        const text = sessionStorage.getItem(`microgpt.trained:${trained}`);
        if (text === null) throw new Error(`no model ${trained} was trained in this tab: train it on the Train page`);
        files.unshift([trained.endsWith(".json") ? trained : `${trained}.json`, text]);
      }
      await python.call("explore_bridge:load", [files]);
      return python;
    })();
  }
  return sitePython;
}

export async function api(path, params = {}) {
  if (BUNDLE) {
    const answer = BUNDLE[answerKey(path, params)];
    if (answer === undefined) throw new Error("this report holds a snapshot: for other strings and settings, open the model with 'microgpt explore'");
    return answer;
  }
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== null && v !== undefined && v !== "") q.set(k, v);
  if (IN_SITE) {
    const answer = await (await siteWorker()).call("explore_bridge:answer", [`/api/${path}?${q}`]);
    if (answer.status !== 200) throw new Error(answer.body.error || `status ${answer.status}`);
    return answer.body;
  }
  const res = await fetch(`/api/${path}?${q}`);
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

// The session's token: in the URL `microgpt explore` printed, and nowhere else.
export const TOKEN = new URLSearchParams(location.search).get("token") || "";

// The only requests that change anything (a training run) carry the session's token.
export async function post(path, form) {
  if (!TOKEN) throw new Error("this page was opened without its token: open the URL `microgpt explore` printed");
  const res = await fetch(`/api/${path}`, { method: "POST", body: JSON.stringify(form),
    headers: { "Content-Type": "application/json", "X-Explore-Token": TOKEN } });
  const body = await res.json();
  if (!res.ok) throw new Error(body.error || `HTTP ${res.status}`);
  return body;
}

export function showError(message) {
  const box = $("error");
  box.hidden = !message;
  box.textContent = message || "";
}

// "computing…" stays up until the last of the computations under way ends;
// #status[data-busy] counts them (a test waits for 0 to know the page is settled).
let busy = 0;
function setBusy(change) {
  busy += change;
  $("status").textContent = busy ? "computing…" : "";
  $("status").dataset.busy = String(busy);
}

// Run fn, showing an error it throws as one line.
export async function guarded(fn) {
  setBusy(+1);
  try { showError(""); await fn(); }
  catch (e) { showError(e.message); }
  finally { setBusy(-1); }
}
