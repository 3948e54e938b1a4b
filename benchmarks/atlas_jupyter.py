"""The auditioner in JupyterLab as a reader meets it: cached moves, the first visit to a layer, refreshes.

Part ``jupyter`` of ``benchmarks/run.py atlas``. JupyterLab runs on loopback, isolated from the
user's settings (``tests/browser_support.JupyterLab``); the system Chromium opens a notebook that
makes ``Auditioner(cello, dreamer=Dreamer.load("default")).widget()`` and runs it. A
MutationObserver in the page stamps (``performance.now()``) every new ``src`` of the change
picture and of the dream's player, and every status line that says the auditioner is dreaming.
"""

from __future__ import annotations

import json
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1] / "tests"

CELL = """from auditory_deepdream.audio import example_clip, load_audio
from auditory_deepdream.dreamer import Dreamer
from auditory_deepdream.widgets import Auditioner

dreamer = Dreamer.load("default")
cello = load_audio(example_clip("cello_C3"), settings=dreamer.settings)
auditioner = Auditioner(cello, dreamer=dreamer, steps=10)
auditioner.widget()"""

OBSERVE = """() => {
    window.__stamps = [];
    const stamp = (what) => window.__stamps.push({what, t: performance.now()});
    new MutationObserver((mutations) => {
        for (const m of mutations) {
            const el = m.target.nodeType === 1 ? m.target : m.target.parentElement;
            if (!el) continue;
            if (m.type === "attributes" && el.matches("img.auditioner-image")) stamp("image");
            else if (m.type === "attributes" && el.matches("audio.auditioner-after")) stamp("sound");
            else if (el.closest(".auditioner-status") && /dreaming/.test(el.closest(".auditioner-status").textContent))
                stamp("busy");
        }
    }).observe(document.body, {subtree: true, attributes: true, attributeFilter: ["src"], childList: true,
                               characterData: true});
}"""


def _notebook(path: Path) -> None:
    cell = {"cell_type": "code", "execution_count": None, "metadata": {}, "outputs": [], "source": CELL}
    path.write_text(json.dumps({"cells": [cell], "metadata": {"kernelspec": {
        "name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}},
        "nbformat": 4, "nbformat_minor": 5}))


def measure(*, moves: int = 10) -> dict:
    """Cached moves, the first visit's busy line and the refreshes of a clamping layer change (ms)."""
    sys.path.insert(0, str(TESTS))
    from browser_support import JupyterLab, find_chromium
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "root"
        root.mkdir()
        _notebook(root / "auditioner.ipynb")
        with JupyterLab(root, Path(tmp) / "jupyter") as lab, sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(180_000)
            page.goto(lab.url("lab/tree/auditioner.ipynb"))
            page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
            page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for(timeout=120_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
            page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
            page.wait_for_function("() => { const i = document.querySelector('img.auditioner-image');"
                                   " return i && i.complete && i.naturalWidth > 0; }")
            page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for()
            page.evaluate(OBSERVE)
            now = lambda: page.evaluate("performance.now()")  # noqa: E731

            def stamps_after(t0, whats):
                found = {s["what"]: s["t"] for s in page.evaluate("window.__stamps") if s["t"] > t0}
                return all(w in found for w in whats) and found

            def wait_for(t0, whats, timeout=120):
                deadline = time.monotonic() + timeout
                while time.monotonic() < deadline:
                    found = stamps_after(t0, whats)
                    if found:
                        return found
                    time.sleep(0.01)
                raise SystemExit(f"the auditioner did not show {whats} within {timeout} s")

            handle = page.locator(".auditioner-filter .noUi-handle")
            handle.scroll_into_view_if_needed()
            cached = []
            for i in range(moves):  # stage1_conv1 (8 filters) was dreamed whole when the widget appeared
                handle.focus()
                t0 = now()
                page.keyboard.press("ArrowRight" if (i // 4) % 2 == 0 else "ArrowLeft")  # 0..4, back, ...
                found = wait_for(t0, ("image", "sound"))
                cached.append(max(found["image"], found["sound"]) - t0)
                page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for()
            select = page.locator(".auditioner-layer select")
            t0 = now()
            select.select_option("stage4_conv1")  # 64 filters, never dreamed
            busy = wait_for(t0, ("busy",))["busy"] - t0
            done = wait_for(t0, ("image", "sound"), timeout=300)
            first_visit = max(done["image"], done["sound"]) - t0
            page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for()
            handle.focus()
            page.keyboard.press("End")  # filter 63
            page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for()
            time.sleep(1.0)
            t0 = now()
            select.select_option("stage1_conv1")  # 8 filters: the filter is clamped to 7
            wait_for(t0, ("image",))
            page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for()
            time.sleep(2.0)
            changes = sum(1 for s in page.evaluate("window.__stamps") if s["t"] > t0 and s["what"] == "image")
            readout = page.locator(".auditioner-filter .widget-readout").text_content().strip()
            browser.close()
    return {"cached_move_median_ms": round(statistics.median(cached), 1), "cached_moves_ms": [round(c, 1) for c in cached],
            "first_visit_busy_ms": round(busy, 1), "first_visit_done_ms": round(first_visit, 1),
            "first_visit_layer": "stage4_conv1 (64 filters)",
            "picture_changes_on_clamping_layer_change": changes, "filter_after_clamp": readout,
            "measured": "in the page: from performance.now() just before the key press or the layer choice to the "
                        "MutationObserver's stamp of the new change picture and dream player src (the later of "
                        "the two), or of the status line saying it is dreaming; JupyterLab on loopback, the "
                        "default model, the bundled cello note, 10 steps"}
