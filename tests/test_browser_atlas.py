"""The committed atlases (docs/atlas/default, docs/atlas/vgg-mtt) opened offline in Chromium from ``file://``.

Every page renders with no request leaving the folder and no script error; every picture a page
shows or can switch to loads; every player a page shows or can switch to decodes; a filter's
address (``#f<index>``) opens that filter, and the keys and slider switch filters.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from browser_support import find_chromium, offline_page, require_browser_stack

ATLASES = sorted(p.parent for p in (Path(__file__).resolve().parents[1] / "docs" / "atlas").glob("*/index.html"))

# every picture and sound a page holds or names in its data, loaded in the page; failures listed
CHECK_ALL = """async () => {
    const data = window.ATLAS;
    const pics = new Set([...document.images].map(i => i.getAttribute("src")));
    const sounds = new Set([...document.querySelectorAll("audio[src]")].map(a => a.getAttribute("src")));
    if (data) {
        for (const f of data.filters) {
            for (const c of Object.values(f.clips)) { pics.add(c.change); sounds.add(c.sound); }
            for (const e of (f.examples || [])) sounds.add(e.sound);
        }
    }
    const picture = (src) => new Promise((ok) => {
        const i = new Image(); i.onload = () => ok(i.naturalWidth > 0 ? null : src); i.onerror = () => ok(src); i.src = src;
    });
    const sound = (src) => new Promise((ok) => {
        const a = new Audio(); a.preload = "auto";
        a.onloadeddata = () => ok(a.duration > 0 ? null : src); a.onerror = () => ok(src); a.src = src;
    });
    const failed = [];
    const all = [...[...pics].map(s => [picture, s]), ...[...sounds].map(s => [sound, s])];
    for (let k = 0; k < all.length; k += 48) {
        const part = await Promise.all(all.slice(k, k + 48).map(([fn, s]) => fn(s)));
        failed.push(...part.filter(Boolean));
    }
    return {pictures: pics.size, sounds: sounds.size, failed};
}"""


def test_both_atlases_are_committed():
    assert [p.name for p in ATLASES] == ["default", "vgg-mtt"]


@pytest.mark.browser
@pytest.mark.parametrize("atlas", ATLASES, ids=[p.name for p in ATLASES])
def test_the_committed_atlas_works_offline_from_disk(atlas):
    require_browser_stack()
    from playwright.sync_api import sync_playwright

    pages = sorted(atlas.glob("*.html"))
    assert (atlas / "index.html") in pages and len(pages) >= 5
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=["--no-sandbox"])
        try:
            totals = {"pictures": 0, "sounds": 0}
            for path in pages:
                page, blocked, errors = offline_page(browser)
                page.goto(path.as_uri())
                page.wait_for_load_state("load")
                checked = page.evaluate(CHECK_ALL)
                assert checked["failed"] == [], f"{path.name}: {checked['failed'][:5]}"
                assert blocked == [] and errors == [], (path.name, blocked, errors)
                totals["pictures"] += checked["pictures"]
                totals["sounds"] += checked["sounds"]
                page.close()
            assert totals["pictures"] > 100 and totals["sounds"] > 100

            layer = next(p for p in pages if p.name.startswith("layer-"))
            page, blocked, errors = offline_page(browser)
            page.goto(layer.as_uri() + "#f5")
            page.wait_for_function("window.atlasSwitches && window.atlasSwitches.length >= 1")
            assert page.locator("#which").text_content().startswith("filter 5 ")
            page.locator("body").press("ArrowRight")
            page.wait_for_function("location.hash === '#f6'")
            src = page.locator("#clips img.change").first.get_attribute("src")
            assert src.endswith(f"f0006_{page.evaluate('window.ATLAS.clips[0]')}.png")
            page.locator("#slider").focus()
            page.keyboard.press("Home")
            page.wait_for_function("location.hash === '#f0'")
            assert blocked == [] and errors == []
        finally:
            browser.close()
