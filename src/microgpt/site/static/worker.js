// The one Web Worker every page of the site runs Python in (a module worker:
// new Worker("worker.js", {type: "module"})). It loads Pyodide from the URL
// site.json names, unpacks this package's wheel into site-packages (no package
// index, no network beyond the site itself), then answers each message
//   {id, call: "MODULE:FUNCTION", args: [...]}
// with {id, result} or {id, error: "one line"}, calling microgpt.site.MODULE's
// FUNCTION through microgpt/site/calls.py; events a call emits while it runs
// come as {id, event}. Before any of that, it posts {ready: true} once loaded,
// or {id: null, error} if loading failed.

const ready = (async () => {
  const site = await (await fetch("site.json")).json();
  const base = new URL(site.pyodide, self.location.href).href;
  const { loadPyodide } = await import(base + "pyodide.mjs");
  const pyodide = await loadPyodide({ indexURL: base });
  const wheel = await fetch(site.wheel);
  if (!wheel.ok) throw new Error(`${site.wheel}: ${wheel.status} ${wheel.statusText}`);
  pyodide.unpackArchive(await wheel.arrayBuffer(), "wheel");
  return pyodide.pyimport("microgpt.site.calls");
})();

ready.then(
  () => self.postMessage({ ready: true }),
  (e) => self.postMessage({ id: null, error: `Python did not load: ${String(e.message || e).split("\n")[0]}` }),
);

self.onmessage = async ({ data }) => {
  const { id, call, args } = data;
  let calls;
  try {
    calls = await ready;
  } catch (e) {
    self.postMessage({ id, error: "Python did not load" });
    return;
  }
  const post = (text) => self.postMessage({ id, event: JSON.parse(text) });
  self.postMessage({ id, ...JSON.parse(calls.call(call, JSON.stringify(args || []), post)) });
};
