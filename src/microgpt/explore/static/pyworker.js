// Python in a Web Worker, for the pages of the site (`microgpt site`): the
// site's worker.js runs this package in Pyodide and answers
// {id, call: "MODULE:FUNCTION", args} with {id, result} or {id, error}, and
// {id, event} while a call runs. A worker computes; the page only asks, so it
// never freezes. `microgpt explore` and a report never start one.
export class PythonWorker {
  constructor(url) {
    this.worker = new Worker(url, { type: "module" });
    this.pending = new Map();
    this.nextId = 1;
    this.ready = new Promise((resolve, reject) => { this.loaded = { resolve, reject }; });
    this.ready.catch(() => {});  // a load that fails is reported through each call, not as an unhandled rejection
    this.worker.onmessage = ({ data }) => this.receive(data);
    this.worker.onerror = (e) => { e.preventDefault(); this.fail(`Python's worker failed: ${e.message || "it did not start"}`); };
  }

  receive(message) {
    if (message.ready) { this.loaded.resolve(); return; }
    if (message.id === null) { this.fail(message.error); return; }
    const waiting = this.pending.get(message.id);
    if (!waiting) return;
    if ("event" in message) { if (waiting.onEvent) waiting.onEvent(message.event); return; }
    this.pending.delete(message.id);
    if ("error" in message) waiting.reject(new Error(message.error));
    else waiting.resolve(message.result);
  }

  fail(why) {
    this.loaded.reject(new Error(why));
    for (const waiting of this.pending.values()) waiting.reject(new Error(why));
    this.pending.clear();
  }

  // MODULE:FUNCTION(...args) in the worker; onEvent(event) for each event it emits while it runs.
  call(name, args = [], onEvent = null) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ id, call: name, args });
    });
  }

  // Stop it now, whatever it is running (a worker cannot be interrupted otherwise).
  terminate(why) {
    this.worker.terminate();
    this.fail(why);
  }
}
