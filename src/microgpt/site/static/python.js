// The pages' side of worker.js: one Python worker, asked with call(name, args).
// call("train_bridge:train", [settings], onEvent) resolves to the function's
// result, or rejects with its one-line error; onEvent gets the events it emits.

export class Python {
  constructor() {
    this.worker = new Worker("worker.js", { type: "module" });
    this.pending = new Map();
    this.next = 1;
    this.ready = new Promise((resolve, reject) => {
      this.worker.onmessage = ({ data }) => {
        if (data.ready) return resolve();
        if (data.id === null) return reject(new Error(data.error));
        const waiting = this.pending.get(data.id);
        if (!waiting) return;
        if ("event" in data) return waiting.onEvent(data.event);
        this.pending.delete(data.id);
        if ("error" in data) waiting.reject(new Error(data.error));
        else waiting.resolve(data.result);
      };
      this.worker.onerror = (e) => reject(new Error(e.message || "the worker failed to start"));
    });
  }

  call(name, args = [], onEvent = () => {}) {
    const id = this.next++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject, onEvent });
      this.worker.postMessage({ id, call: name, args });
    });
  }

  // Ends the worker at once (Python cannot be interrupted mid-call without shared memory).
  terminate() {
    this.worker.terminate();
    for (const waiting of this.pending.values()) waiting.reject(new Error("stopped"));
    this.pending.clear();
  }
}
