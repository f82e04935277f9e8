"""How long the site's Train page takes, against the command line, on this machine.

    MICROGPT_PYODIDE_DIR=.../package python scripts/time_site.py [STEPS]

Builds the site with the local Pyodide core, serves it on 127.0.0.1, opens
train.html in headless Chromium and times: the first load until Start is
enabled (Pyodide and the wheel loaded), then the default run (STEPS, default
1000, engine fused) as the page's own `trained N steps in Xs` line says. Then
`microgpt train` natively, before and after the page (the machine may be busy:
both are shown), and the ratio of the page's training time to the natives' mean.
"""

import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import microgpt

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from site_support import CHROMIUM, CHROMIUM_FLAGS, Tab, build, serve

TRAINED = re.compile(r"^trained \d+ steps in ([\d.]+)s")


def trained_seconds(lines):
    return next(float(m.group(1)) for line in lines if (m := TRAINED.match(line)))


def native(steps, folder):
    done = subprocess.run([sys.executable, "-m", "microgpt", "train", "--steps", str(steps), "--out",
                           str(folder / "native.json")], capture_output=True, text=True, check=True)
    return trained_seconds(done.stdout.splitlines())


def main():
    from playwright.sync_api import sync_playwright

    steps = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        model = microgpt.train(steps=2).save(tmp / "tiny.json")
        build(tmp / "site", [model])
        before = native(steps, tmp)
        with serve(tmp / "site") as url, sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            started = time.perf_counter()
            tab = Tab(browser, url + "train.html")
            tab.page.wait_for_selector("#train-start:not([disabled])", timeout=120_000)
            interactive = time.perf_counter() - started
            tab.page.fill("input[name=steps]", str(steps))
            tab.page.click("#train-start")
            tab.page.wait_for_function("() => document.getElementById('train-status').textContent"
                                       ".startsWith('done')", timeout=1_200_000)
            page = trained_seconds(tab.page.locator("#train-log").text_content().splitlines())
            tab.check()
            browser.close()
        after = native(steps, tmp)
    mean = (before + after) / 2
    print(f"first load to interactive: {interactive:.1f} s")
    print(f"{steps} steps, engine fused: page {page:.1f} s; native {before:.1f} s before, {after:.1f} s after; "
          f"ratio {page / mean:.2f}x")


if __name__ == "__main__":
    if not os.environ.get("MICROGPT_PYODIDE_DIR"):
        sys.exit("time_site.py: set MICROGPT_PYODIDE_DIR to the unpacked Pyodide core (npm pack pyodide@314.0.8)")
    main()
