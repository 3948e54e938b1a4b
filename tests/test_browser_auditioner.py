"""The filter auditioner in a real browser: JupyterLab, headless Chromium, notebook 05.

JupyterLab is served on loopback (the README's ``python -m jupyter lab`` from this environment,
isolated from the user's Jupyter settings, see ``browser_support``), the system Chromium opens
``notebooks/05_audition.ipynb`` (a copy), clears it and runs every cell from the Run menu (cells
run in the browser are trusted, so the live widget renders, not its text fallback), then moves the
auditioner's filter slider with the keyboard. The players' ``blob:`` URLs are new on every update,
so the test compares what they hold: SHA-256 of the bytes behind the image's and the players'
``src``, computed in the page. The spectrogram and the dream must change, the input must not, and
the page must log no JavaScript error.

Needs Chromium (``apt-get install chromium``) and ``pip install -e ".[notebooks,test]"``; without
them the test is skipped, except under CI (``$CI`` set), where it fails and says what to install.
No browser is ever downloaded: playwright drives the system Chromium.
"""

from __future__ import annotations

import os
import re
import shutil
import time
from pathlib import Path

import pytest
from browser_support import JupyterLab, find_chromium, require_browser_stack

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "05_audition.ipynb"

# Console messages of type "error" that are not a failure. Empty on purpose: a clean JupyterLab
# 4 + ipywidgets 8 page logs none (only "debug" lines about the workspace and the kernel's
# WebSocket). Add a pattern here only for a documented, harmless message, with the reason.
BENIGN_CONSOLE_ERRORS: tuple[re.Pattern, ...] = ()

# The bytes behind an element's src (a blob: or data: URL), hashed in the page.
HASH_SRC = """async (selector) => {
    const el = document.querySelector(selector);
    if (!el || !el.src) return null;
    const bytes = await (await fetch(el.src)).arrayBuffer();
    const digest = await crypto.subtle.digest("SHA-256", bytes);
    const hex = Array.from(new Uint8Array(digest), b => b.toString(16).padStart(2, "0")).join("");
    return {src: el.src, size: bytes.byteLength, sha256: hex};
}"""

# Every code cell has an execution count: the whole notebook ran (after "Clear Outputs of All
# Cells" the prompts read "[ ]:"). textContent, not innerText: off-screen cells are not rendered.
ALL_CELLS_RAN = """() => {
    const prompts = [...document.querySelectorAll(".jp-NotebookPanel .jp-CodeCell .jp-InputPrompt")];
    return prompts.length > 0 && prompts.every(p => /\\[\\d+\\]/.test(p.textContent));
}"""

# An <audio> that the browser has decoded far enough to know its duration (no media error).
PLAYER_LOADED = """(selector) => {
    const a = document.querySelector(selector);
    return !!a && !!a.src && !a.error && a.readyState >= 1 && a.duration > 0;
}"""
IMAGE_LOADED = """(selector) => {
    const img = document.querySelector(selector);
    return !!img && !!img.src && img.complete && img.naturalWidth > 0;
}"""

# Handles the widget sets with add_class (auditory_deepdream/widgets.py): "auditioner-<control>".
IMAGE, INPUT, DREAM = "img.auditioner-image", "audio.auditioner-before", "audio.auditioner-after"
SLIDER = ".auditioner-filter"




def _poll(what: str, probe, *, timeout: float, interval: float = 0.5):
    """Call ``probe()`` until it returns something truthy; fail after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


@pytest.mark.browser
def test_auditioner_slider_changes_the_dream_in_a_real_browser(tmp_path):
    require_browser_stack()
    from playwright.sync_api import sync_playwright

    # the repository's layout, as a reader's clone has it: the notebook reads the committed atlas (../docs/atlas)
    root = tmp_path / "root"
    (root / "notebooks").mkdir(parents=True)
    shutil.copy(NOTEBOOK, root / "notebooks" / NOTEBOOK.name)
    (root / "docs").symlink_to(NOTEBOOK.parents[1] / "docs", target_is_directory=True)
    # a small dream budget unless the caller chose one: this test checks the wiring, not the sound
    env = {} if "AUDITORY_DEEPDREAM_SMOKE" in os.environ else {"AUDITORY_DEEPDREAM_SMOKE": "1"}
    errors: list[str] = []
    started = time.monotonic()

    with JupyterLab(root, tmp_path / "jupyter", env=env) as lab, sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), headless=True,
                                     args=["--no-sandbox", "--autoplay-policy=no-user-gesture-required"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.set_default_timeout(60_000)

        def on_console(msg):
            if msg.type == "error" and not any(p.search(msg.text) for p in BENIGN_CONSOLE_ERRORS):
                errors.append(f"console.error: {msg.text} ({msg.location})")

        page.on("console", on_console)
        page.on("pageerror", lambda exc: errors.append(f"page error: {exc}"))
        try:
            page.goto(lab.url(f"lab/tree/notebooks/{NOTEBOOK.name}"))
            page.wait_for_selector(".jp-NotebookPanel .jp-CodeCell")
            # the notebook's kernel started without asking (status bar: "Python 3 (ipykernel) | Idle")
            page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for(timeout=90_000)

            # Edit → Clear Outputs of All Cells, then Run → Run All Cells, as a reader would
            page.locator(".lm-MenuBar-itemLabel", has_text="Edit").click()
            page.get_by_role("menuitem", name="Clear Outputs of All Cells").click()
            page.wait_for_function("() => !document.querySelector('.jp-NotebookPanel .jp-OutputArea-output')")
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").click()
            page.get_by_role("menuitem", name=re.compile(r"^Run All Cells")).click()
            page.wait_for_function(ALL_CELLS_RAN, timeout=240_000, polling=500)

            # the live widget, not its text fallback: image and both players loaded
            for selector, loaded in ((IMAGE, IMAGE_LOADED), (INPUT, PLAYER_LOADED), (DREAM, PLAYER_LOADED)):
                page.wait_for_function(loaded, arg=selector)
            readout = page.locator(f"{SLIDER} .widget-readout")
            assert readout.text_content().strip() == "0"
            before = {s: page.evaluate(HASH_SRC, s) for s in (IMAGE, INPUT, DREAM)}
            assert all(before.values()), before

            # move the filter slider one step with the keyboard
            handle = page.locator(f"{SLIDER} .noUi-handle")
            handle.scroll_into_view_if_needed()
            handle.focus()
            page.keyboard.press("ArrowRight")

            def changed(selector):
                def probe():
                    now = page.evaluate(HASH_SRC, selector)
                    return now if now and now["sha256"] != before[selector]["sha256"] else None
                return probe

            # the first move may dream a whole layer; later ones come from the cache
            after_image = _poll("a new spectrogram", changed(IMAGE), timeout=120)
            after_dream = _poll("a new dream", changed(DREAM), timeout=60)
            page.wait_for_function(IMAGE_LOADED, arg=IMAGE)
            page.wait_for_function(PLAYER_LOADED, arg=DREAM)
            page.get_by_text(re.compile(r"\|\s*Idle\s*$")).first.wait_for()
            after_input = page.evaluate(HASH_SRC, INPUT)

            assert readout.text_content().strip() == "1"
            assert after_image["sha256"] != before[IMAGE]["sha256"]
            assert after_dream["sha256"] != before[DREAM]["sha256"]
            assert after_input["sha256"] == before[INPUT]["sha256"], "the input player changed"
            page.wait_for_function(PLAYER_LOADED, arg=INPUT)
            assert not errors, "JavaScript errors in the page:\n" + "\n".join(errors)
        except BaseException:
            shot = tmp_path / "auditioner-failure.png"
            try:  # the notebook scrolls inside JupyterLab: bring the auditioner's cell into view first
                cell = page.locator(".jp-CodeCell", has_text="Auditioner(").first
                cell.scroll_into_view_if_needed(timeout=3_000)
            except Exception:
                pass
            try:
                page.screenshot(path=str(shot))
                print(f"\nscreenshot of the failing page: {shot}")
            except Exception as exc:  # the page may be gone; the log below still helps
                print(f"\nno screenshot ({exc})")
            if errors:
                print("JavaScript errors:\n" + "\n".join(errors))
            print(f"JupyterLab log ({lab.log_path}), last lines:\n{lab.log_tail()}")
            raise
        finally:
            browser.close()
    print(f"\nbrowser test: {time.monotonic() - started:.1f} s")
