// Train: a run started from the page (one at a time), its loss, samples and
// attention drawn as the server streams them; the saved model joins the menus.
import { api, guarded, post, showError } from "./api.js";
import { heatmap, lineChart } from "./charts.js";
import { $, el } from "./dom.js";
import { refreshModels } from "./models.js";
import { page } from "./state.js";

export async function loadSession() {
  const s = page.session = await api("session");
  $("train-none").hidden = s.data.length > 0;
  $("train-form").hidden = s.data.length === 0;
  $("train-out-dir").textContent = `in ${s.out_dir}`;
  $("train-data").replaceChildren(...s.data.map((d) => el("option", { value: d, text: d })));
  $("train-engine").replaceChildren(...s.engines.available.map((e) => el("option", { value: e, text: e })));
  $("train-engine").value = s.engines.default;
}

async function startRun(event) {
  event.preventDefault();
  const form = Object.fromEntries(new FormData($("train-form")).entries());
  form.as_text = form.as_text === "on";
  const started = await post("live/start", form);
  page.live = { events: [], started, drawn: 0 };
  $("train-start").disabled = true; $("train-stop").disabled = false;
  $("train-status").textContent = `training ${started.params.toLocaleString("en")} parameters for ${started.steps} steps → ${started.out}`;
  const source = new EventSource("/api/live/events");
  source.onmessage = (m) => liveEvent(JSON.parse(m.data));
  source.addEventListener("end", () => source.close());
  source.onerror = () => source.close();
}

function liveEvent(e) {
  const live = page.live;
  if (e.type === "step") {
    live.events.push(e);
    if (e.samples) {
      $("train-samples").replaceChildren(...e.samples.map((t) => el("li", { text: t })));
      $("train-attn-title").textContent = `Attention (layer 0) over "${e.watch}" at step ${e.step}`;
      $("train-attn").replaceChildren(...e.attention.map((rows, h) => {
        const full = rows.map((r) => e.tokens.map((_, j) => (j < r.length ? r[j] : null)));
        return el("div", { class: "panel" }, el("h2", { text: `head ${h}` }), heatmap(full, e.tokens, e.tokens));
      }));
    }
    if (!live.pending) {  // draw at most a few times a second, however fast the steps come
      live.pending = true;
      setTimeout(() => { live.pending = false; drawLive(); }, 200);
    }
  } else if (e.type === "saved") {
    drawLive();
    $("train-status").textContent = `${e.stopped ? "stopped" : "done"} at step ${e.step}` +
      (e.val_loss !== null ? `, validation loss ${e.val_loss.toFixed(4)}` : "") + `: saved ${e.path}; it is in the model menu above`;
    $("train-status").dataset.saved = e.path;
    finishRun();
    guarded(refreshModels);
  } else if (e.type === "failed") {
    showError(`the run failed: ${e.error}`);
    finishRun();
  }
}

function drawLive() {
  const ev = page.live.events;
  lineChart($("train-loss"), [
    { label: "loss (per step)", x: ev.map((e) => e.step), y: ev.map((e) => e.loss), colour: "#2456a6", faint: true },
    { label: "moving mean", x: ev.map((e) => e.step), y: ev.map((e) => e.smoothed), colour: "#2456a6" }]);
  const last = ev[ev.length - 1];
  if (last) $("train-loss").dataset.steps = String(last.step);
}

function finishRun() { $("train-start").disabled = false; $("train-stop").disabled = true; }

export function wireTrain() {
  $("train-form").addEventListener("submit", (e) => guarded(() => startRun(e)));
  $("train-stop").addEventListener("click", () => guarded(async () => { await post("live/stop", {}); $("train-stop").disabled = true; }));
}
