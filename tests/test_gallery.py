"""The static notebook gallery: ``build_gallery`` and ``auditory-deepdream gallery``.

A tiny notebook is built here with nbformat (a heading and a paragraph, an MP3 player, a
link to another notebook, and the saved state of an ipywidgets IntSlider made by
ipywidgets' own embedding code), converted without a kernel, and its page and the index
are checked. Refusals (a notebook never executed, WAV audio in an output or in widget
state, a missing local image, no nbconvert) are checked to name the notebook and to write
nothing. Two browser tests (``-m browser``) open pages in the system's headless Chromium from
``file://`` with every other request refused: the tiny page's players load and its slider is
drawn, and in the gallery of the committed notebooks notebook 05's auditioner is drawn from its
saved state and no image of any page is broken.
"""

import base64
import hashlib
import io
import json
import re
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

pytest.importorskip("nbconvert", reason="the gallery needs nbconvert: pip install -e '.[notebooks]'")
import ipywidgets
import ipywidgets._version
import ipywidgets.embed
import matplotlib.image as matplotlib_image
import nbformat
from browser_support import find_chromium, offline_page, require_browser_stack
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook, new_output

from auditory_deepdream import cli
from auditory_deepdream.errors import AuditoryDeepDreamError
from auditory_deepdream.gallery import GalleryError, build_gallery

REPO = Path(__file__).resolve().parents[1]
VENDORED = REPO / "auditory_deepdream" / "data" / "gallery_vendor"
# what every build writes after the pages and the copied images, in order
SHARED = ["vendor/embed-amd.js", "vendor/require.js", "vendor/NOTICE.md", "lab.css", "index.html"]
CLIP_SECONDS = 1.0  # length of the tone every test player encodes
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"


def _tone(seconds=CLIP_SECONDS, sr=22050):
    t = np.arange(int(seconds * sr)) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


def _encoded(fmt):
    buf = io.BytesIO()
    sf.write(buf, _tone(), 22050, format=fmt)
    return buf.getvalue()


def _player(fmt="MP3", mime="audio/mpeg"):
    data = base64.b64encode(_encoded(fmt)).decode()
    return f'<div><audio controls src="data:{mime};base64,{data}"></audio></div>'


def _widget(widget):
    """The saved state of ``widget`` and its view output, as nbclient stores them."""
    # only this widget's models (the manager holds every live widget of the process)
    embedded = ipywidgets.embed.embed_data(views=[widget], state=ipywidgets.embed.dependency_state([widget]))
    (view,) = embedded["view_specs"]
    return embedded["manager_state"], view


def _notebook(*, outputs=True, player=None, widget=None):
    nb = new_notebook()
    nb.cells = [
        new_markdown_cell("# 01 · Tiny *test* notebook\n\nA **tiny** paragraph with `code` & <b>html</b>.\n\n"
                          "Not the summary.\n\n[next](02_x.ipynb#Part) and [self](./01_x.ipynb) and "
                          "[away](https://example.org/y.ipynb)"),
        new_code_cell("play()", outputs=[new_output("display_data", data={
            "text/html": player or _player(), "text/plain": "<player>"})] if outputs else []),
        new_code_cell("1 + 1", outputs=[new_output("execute_result", data={"text/plain": "2"},
                                                   execution_count=2)] if outputs else []),
    ]
    if widget is not None:
        state, view = _widget(widget)
        nb.cells.append(new_code_cell("widget", outputs=[new_output("display_data", data={
            WIDGET_VIEW: view, "text/plain": "IntSlider(value=3)"})]))
        nb.metadata["widgets"] = {WIDGET_STATE: state}
    return nb


def _write(folder, name, nb):
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, folder / name)
    return folder / name


@pytest.fixture
def tiny(tmp_path):
    _write(tmp_path / "nb", "01_x.ipynb", _notebook(widget=ipywidgets.IntSlider(3)))
    return tmp_path / "nb"


def test_a_page_plays_links_and_embeds_widget_state(tiny, tmp_path):
    out = tmp_path / "docs"
    written = build_gallery(tiny, out=out)
    assert written == [out / "01_x.html"] + [out / name for name in SHARED]
    page = (out / "01_x.html").read_text(encoding="utf-8")
    # the template's stylesheet is written once and linked, not repeated in every page
    assert '<link rel="stylesheet" href="lab.css">' in page and '<style type="text/css">' not in page
    assert "--jp-" in (out / "lab.css").read_text(encoding="utf-8")
    assert "data:audio/mpeg;base64," in page
    assert 'href="02_x.html#Part"' in page and 'href="01_x.html"' in page
    assert 'href="https://example.org/y.ipynb"' in page  # not ours: left alone
    assert ".ipynb\"" not in page.replace("https://example.org/y.ipynb\"", "")
    # the saved state, the view and the renderer that draws it without a kernel
    match = re.search(rf'<script type="{re.escape(WIDGET_STATE)}">\s*(.*?)\s*</script>', page, re.DOTALL)
    assert match, "widget state is not embedded"
    state = json.loads(match.group(1))["state"]
    assert any(m["model_name"] == "IntSliderModel" and m["state"]["value"] == 3 for m in state.values())
    assert f'<script type="{WIDGET_VIEW}">' in page
    # the renderer and require.js are the gallery's own copies, by relative path; MathJax is left out
    assert "var widgetRendererSrc = 'vendor/embed-amd.js';" in page
    assert '<script src="vendor/require.js"></script>' in page
    assert not set(re.findall(r"https?://([\w.-]+)/", page)) & {"cdn.jsdelivr.net", "unpkg.com", "cdnjs.cloudflare.com"}
    assert [u for u in re.findall(r'<script[^>]*\bsrc="([^"]*)"', page) if "//" in u] == []
    assert "mathjax" not in page.lower()
    for name in ("embed-amd.js", "require.js", "NOTICE.md"):
        assert (out / "vendor" / name).read_bytes() == (VENDORED / name).read_bytes()
    assert '<a href="index.html">' in page


def test_the_index_lists_number_title_summary_size_and_link(tiny, tmp_path):
    build_gallery(tiny, out=tmp_path / "docs", title="My gallery")
    index = (tmp_path / "docs" / "index.html").read_text(encoding="utf-8")
    assert "<title>My gallery</title>" in index and "<h1>My gallery</h1>" in index
    assert '<span class="num">01</span>' in index
    assert '<a href="01_x.html">Tiny *test* notebook</a>' in index  # the heading's number is not repeated
    assert ("A <strong>tiny</strong> paragraph with <code>code</code> &amp; &lt;b&gt;html&lt;/b&gt;."
            in index)
    assert "Not the summary" not in index
    assert re.search(r"01_x\.html</a> · \d+\.\d kB", index)
    assert "http" not in index  # no external assets


def test_a_rerun_overwrites_and_leaves_other_files_alone(tiny, tmp_path):
    out = tmp_path / "docs"
    out.mkdir()
    (out / "CNAME").write_text("keep me")
    (out / "01_x.html").write_text("stale")
    build_gallery(tiny, out=out)
    first = (out / "01_x.html").read_text(encoding="utf-8")
    assert first != "stale"
    build_gallery(tiny, out=out)
    assert (out / "01_x.html").read_text(encoding="utf-8") == first
    assert (out / "CNAME").read_text() == "keep me"
    assert sorted(p.name for p in out.iterdir()) == ["01_x.html", "CNAME", "index.html", "lab.css", "vendor"]  # no temporaries
    assert sorted(p.name for p in (out / "vendor").iterdir()) == ["NOTICE.md", "embed-amd.js", "require.js"]


def test_an_unexecuted_notebook_is_refused_by_name_and_nothing_is_written(tiny, tmp_path):
    _write(tiny, "00_fresh.ipynb", _notebook(outputs=False))
    with pytest.raises(GalleryError, match=r"00_fresh\.ipynb has no outputs: execute it first") as exc:
        build_gallery(tiny, out=tmp_path / "docs")
    assert isinstance(exc.value, AuditoryDeepDreamError) and "--execute" in str(exc.value)
    assert not (tmp_path / "docs").exists()


def test_every_refused_notebook_is_named_at_once(tiny, tmp_path):
    _write(tiny, "00_fresh.ipynb", _notebook(outputs=False))
    _write(tiny, "02_wav.ipynb", _notebook(player=_player("WAV", "audio/wav")))
    with pytest.raises(GalleryError, match=r"00_fresh\.ipynb has no outputs.*\(refused too: 02_wav\.ipynb\)$"):
        build_gallery(tiny, out=tmp_path / "docs")


@pytest.mark.parametrize("mime", ["audio/wav", "audio/x-wav"])
def test_wav_in_an_output_is_refused(tiny, tmp_path, mime):
    _write(tiny, "02_wav.ipynb", _notebook(player=_player("WAV", mime)))
    with pytest.raises(GalleryError, match=r"02_wav\.ipynb, code cell 1, embeds uncompressed WAV audio.*"
                                           r"auditory_deepdream\.players"):
        build_gallery(tiny, out=tmp_path / "docs")
    assert not (tmp_path / "docs").exists()


def test_wav_in_widget_state_is_refused(tiny, tmp_path):
    _write(tiny, "02_widget.ipynb", _notebook(widget=ipywidgets.Audio(value=_encoded("WAV"), format="wav")))
    with pytest.raises(GalleryError, match=r"02_widget\.ipynb saves uncompressed WAV audio in its widget "
                                           r"state .*AudioModel"):
        build_gallery(tiny, out=tmp_path / "docs")


def test_an_mp3_audio_widget_is_fine(tiny, tmp_path):
    _write(tiny, "02_widget.ipynb", _notebook(widget=ipywidgets.Audio(value=_encoded("MP3"), format="mpeg")))
    build_gallery(tiny, out=tmp_path / "docs")
    assert "AudioModel" in (tmp_path / "docs" / "02_widget.html").read_text(encoding="utf-8")


def _png(path, level):
    """A small PNG, its bytes set by ``level`` (images of different levels differ)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    matplotlib_image.imsave(path, np.full((4, 6), level, dtype=np.float32), vmin=0, vmax=1)
    return path


def _markdown_output(text):
    return new_output("display_data", data={"text/markdown": text, "text/plain": "<Markdown>"})


def test_linked_local_images_are_copied_and_their_links_rewritten(tiny, tmp_path):
    a = _png(tiny / "pics" / "a b.png", 0.2)
    b = _png(tmp_path / "card" / "confusion.png", 0.8)
    nb = _notebook()
    nb.cells.insert(1, new_markdown_cell("![a](pics/a%20b.png) and ![web](https://example.org/w.png)"))
    nb.cells.append(new_code_cell("card()", outputs=[
        _markdown_output("# Card\n\n![matrix](../card/confusion.png)"),
        new_output("display_data", data={"text/html": '<img src="pics/a b.png"><img src="data:image/png;base64,AA==">',
                                         "text/plain": "<HTML>"})]))
    _write(tiny, "01_x.ipynb", nb)
    out = tmp_path / "docs"
    written = build_gallery(tiny, out=out)
    copy_a = f"images/a b-{hashlib.sha256(a.read_bytes()).hexdigest()[:12]}.png"
    copy_b = f"images/confusion-{hashlib.sha256(b.read_bytes()).hexdigest()[:12]}.png"
    assert written == [out / "01_x.html", out / copy_a, out / copy_b] + [out / name for name in SHARED]
    assert (out / copy_a).read_bytes() == a.read_bytes() and (out / copy_b).read_bytes() == b.read_bytes()
    srcs = re.findall(r'<img[^>]*\bsrc="([^"]*)"', (out / "01_x.html").read_text(encoding="utf-8"))
    assert srcs == [copy_a, "https://example.org/w.png", copy_b, copy_a, "data:image/png;base64,AA=="]


def test_a_missing_local_image_is_refused_by_cell_and_nothing_is_written(tiny, tmp_path):
    nb = _notebook()
    nb.cells[1].outputs.append(_markdown_output("![matrix](confusion.png)"))
    nb.cells.append(new_markdown_cell("<img src='gone/x.png'>"))
    _write(tiny, "01_x.ipynb", nb)
    with pytest.raises(GalleryError) as exc:
        build_gallery(tiny, out=tmp_path / "docs")
    message = str(exc.value)
    assert message.startswith(f"notebook {tiny / '01_x.ipynb'} shows local images that do not exist: "
                              f"confusion.png (the output of code cell 1; not found at {tiny / 'confusion.png'}), "
                              f"gone/x.png (markdown cell 2; not found at {tiny / 'gone' / 'x.png'})")
    assert "relative to the notebook's folder" in message and "--execute" in message
    assert not (tmp_path / "docs").exists()


def test_the_vendored_renderer_is_the_release_ipywidgets_names_and_unchanged():
    """NOTICE.md's html-manager version is in ipywidgets' range (``^1.0.1``), and its SHA-256 sums
    are the files'."""
    notice = (VENDORED / "NOTICE.md").read_text(encoding="utf-8")
    rows = {m[0]: (m[1], m[2]) for m in re.findall(r"^\| `([\w.-]+)` \| `[^`]+` \| ([\d.]+) \|.*`([0-9a-f]{64})` \|$",
                                                  notice, re.MULTILINE)}
    assert set(rows) == {"embed-amd.js", "require.js"}
    for name, (_, digest) in rows.items():
        assert hashlib.sha256((VENDORED / name).read_bytes()).hexdigest() == digest, name
    wanted = re.fullmatch(r"\^(\d+)\.(\d+)\.(\d+)", ipywidgets._version.__html_manager_version__)
    assert wanted, ipywidgets._version.__html_manager_version__
    have = tuple(int(x) for x in rows["embed-amd.js"][0].split("."))
    low = tuple(int(x) for x in wanted.groups())
    assert have[0] == low[0] and have >= low, (have, ipywidgets._version.__html_manager_version__)


def test_missing_or_empty_folder_and_missing_nbconvert(tmp_path, tiny, monkeypatch):
    with pytest.raises(GalleryError, match="does not exist"):
        build_gallery(tmp_path / "nowhere", out=tmp_path / "docs")
    (tmp_path / "empty").mkdir()
    with pytest.raises(GalleryError, match=r"no \*\.ipynb notebook"):
        build_gallery(tmp_path / "empty", out=tmp_path / "docs")
    monkeypatch.setitem(sys.modules, "nbconvert", None)
    with pytest.raises(GalleryError, match=r'pip install -e "\.\[notebooks\]"'):
        build_gallery(tiny, out=tmp_path / "docs")


def test_cli_builds_and_prints_what_it_wrote(tiny, tmp_path, capsys):
    out = tmp_path / "docs"
    assert cli.main(["gallery", "--notebooks", str(tiny), "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert [line.split(" (")[0] for line in printed] == [f"wrote {out / name}" for name in ["01_x.html"] + SHARED]
    assert all(re.search(r"\(\d+(\.\d)? (B|kB|MB)\)$", line) for line in printed)


def test_cli_error_is_one_line_and_exit_code_2(tiny, tmp_path, capsys):
    _write(tiny, "00_fresh.ipynb", _notebook(outputs=False))
    assert cli.main(["gallery", "--notebooks", str(tiny), "--out", str(tmp_path / "docs")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: notebook ") and "00_fresh.ipynb" in err and err.count("\n") == 1


# Every <audio> of the page loaded afresh: load() first (a player may say preload="none"), then wait
# until the browser knows its duration (readyState >= 1, HAVE_METADATA), gets a media error, or
# ``timeoutMs`` passes. el.error is read as "code: message" (null when there is none).
AUDIO_METADATA = """async (timeoutMs) => Promise.all([...document.querySelectorAll("audio")].map(
    el => new Promise(resolve => {
        el.load();
        const deadline = performance.now() + timeoutMs;
        const tick = () => {
            if (el.readyState >= 1 || el.error || performance.now() > deadline) {
                resolve({readyState: el.readyState, duration: el.duration,
                         error: el.error && `${el.error.code}: ${el.error.message}`});
            } else {
                setTimeout(tick, 50);
            }
        };
        tick();
    })))"""



# Every saved widget view is drawn: html-manager puts the widget beside its view <script>.
WIDGETS_DRAWN = """() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
    .every(s => s.parentElement.querySelector(".jupyter-widgets"))"""
# Every <img> once the browser is done with it: its src (cut short) and naturalWidth (0 when broken).
IMAGES = """() => [...document.images].every(i => i.complete)
    && [...document.images].map(i => ({src: i.src.slice(0, 80), width: i.naturalWidth}))"""


def _requests_leaving_file(page) -> list[str]:
    """Every request of ``page`` whose URL is not a file (or inline ``data:``/``blob:``), as it is made:
    stricter than offline_page, which lets loopback through."""
    left: list[str] = []
    page.on("request", lambda request: None if request.url.split(":", 1)[0] in ("file", "data", "blob")
            else left.append(request.url))
    return left


def _launch(pw):
    return pw.chromium.launch(executable_path=find_chromium(), headless=True, args=["--no-sandbox"])


@pytest.mark.browser
def test_every_player_and_widget_of_a_page_loads_offline_in_a_real_browser(tiny, tmp_path):
    """From file://, with every other request refused, the page's MP3 players load and its slider is
    drawn from the saved state by the gallery's own renderer; nothing asks for the network."""
    require_browser_stack()
    from playwright.sync_api import sync_playwright

    build_gallery(tiny, out=tmp_path / "docs")
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            page, blocked, errors = offline_page(browser)
            left = _requests_leaving_file(page)
            page.set_default_timeout(10_000)
            page.goto((tmp_path / "docs" / "01_x.html").as_uri())
            players = page.evaluate(AUDIO_METADATA, 5_000)
            page.wait_for_function(WIDGETS_DRAWN)
            readout = page.locator(".widget-slider .widget-readout").text_content()
        finally:
            browser.close()

    assert players, "the page has no <audio> element"
    for i, player in enumerate(players):
        assert player["error"] is None, f"<audio> {i}: media error {player['error']}"
        assert player["readyState"] >= 1, f"<audio> {i}: no metadata within 5 s ({player})"
        assert abs(player["duration"] - CLIP_SECONDS) <= 0.15, f"<audio> {i}: duration {player['duration']}"
    assert readout.strip() == "3"
    assert not blocked and not left, blocked + left
    assert not errors, "\n".join(errors)


# The auditioner's controls, by the classes auditory_deepdream/widgets.py gives them ("auditioner-<control>"):
# whether the filter slider is drawn, its readout, the spectrogram's width and both players,
# each once the browser knows its duration (or has an error, or 5 s have passed).
AUDITIONER = """async () => {
    const player = (selector) => new Promise(resolve => {
        const el = document.querySelector(selector);
        if (!el) return resolve(null);
        const deadline = performance.now() + 5000;
        const tick = () => (el.readyState >= 1 || el.error || performance.now() > deadline)
            ? resolve({duration: el.duration, error: el.error && `${el.error.code}: ${el.error.message}`})
            : setTimeout(tick, 50);
        tick();
    });
    const image = document.querySelector("img.auditioner-image");
    const readout = document.querySelector(".auditioner-filter .widget-readout");
    return {slider: !!document.querySelector(".auditioner-filter .noUi-handle"),
            filter: readout ? readout.textContent.trim() : "",
            image: image && image.complete ? image.naturalWidth : 0,
            before: await player("audio.auditioner-before"), after: await player("audio.auditioner-after")};
}"""


@pytest.mark.browser
def test_the_repository_gallery_works_offline_in_a_real_browser(tmp_path):
    """The gallery of the committed notebooks, opened from file:// with every other request refused:
    notebook 05's auditioner is drawn from its saved state (sliders, spectrogram, both players), every
    widget of every page is drawn, no image of any page is broken, and no request of any page, the
    index's included, is blocked or leaves file:// at all. Needs notebooks executed with their widget
    state saved (EXECUTE_HINT)."""
    require_browser_stack()
    from playwright.sync_api import sync_playwright

    written = build_gallery(REPO / "notebooks", out=tmp_path / "docs")
    pages = [path for path in written if path.suffix == ".html"]
    assert tmp_path / "docs" / "05_audition.html" in pages
    assert tmp_path / "docs" / "index.html" in pages
    broken, blocked_elsewhere, auditioner = [], [], None
    with sync_playwright() as pw:
        browser = _launch(pw)
        try:
            for path in pages:
                page, blocked, errors = offline_page(browser, viewport={"width": 1400, "height": 1000})
                left = _requests_leaving_file(page)
                page.set_default_timeout(30_000)
                page.goto(path.as_uri())
                page.wait_for_function(WIDGETS_DRAWN)
                images = page.wait_for_function(IMAGES).json_value()
                broken += [f"{path.name}: {image['src']}" for image in images if image["width"] == 0]
                blocked_elsewhere += [f"{path.name}: {url}" for url in dict.fromkeys(blocked + left)]
                assert not errors, f"{path.name}:\n" + "\n".join(errors)
                if path.name == "05_audition.html":
                    auditioner = page.evaluate(AUDITIONER)
                    # a snapshot, said beside it: its controls are greyed out and do nothing
                    note = page.wait_for_selector(".auditioner-snapshot", state="attached")
                    assert "snapshot" in note.text_content()
                    assert page.evaluate("getComputedStyle(document.querySelector('.auditioner-filter'))"
                                         ".pointerEvents") == "none"
                page.close()
        finally:
            browser.close()

    assert not broken, "broken images:\n" + "\n".join(broken)
    assert not blocked_elsewhere, "requests beyond file://:\n" + "\n".join(blocked_elsewhere)
    assert auditioner["slider"] and auditioner["filter"].isdigit(), auditioner
    assert auditioner["image"] > 0, auditioner
    for name in ("before", "after"):
        player = auditioner[name]
        assert player and player["error"] is None and player["duration"] > 0, auditioner




def _repository_wav():
    """The first repository notebook that still embeds WAV audio, or None."""
    wav = re.compile(r'data:audio/(?:x-)?wav|\\"audio/(?:x-)?wav\\"|"format": "wav"')
    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        if wav.search(path.read_text(encoding="utf-8")):
            return path.name
    return None


def test_the_repository_notebooks_build(tmp_path):
    """Every committed notebook gets a page (skipped while one still embeds WAV players)."""
    name = _repository_wav()
    if name:
        pytest.skip(f"notebooks/{name} still embeds WAV audio; the gallery needs MP3 players "
                    "(auditory_deepdream.players) and re-executed notebooks")
    notebooks = sorted((REPO / "notebooks").glob("*.ipynb"))
    out = tmp_path / "docs"
    written = build_gallery(REPO / "notebooks", out=out)
    pages, rest = written[:len(notebooks)], written[len(notebooks):]
    assert [p.name for p in pages] == [f"{p.stem}.html" for p in notebooks]
    assert rest[-len(SHARED):] == [out / name for name in SHARED]
    assert all(p.parent == out / "images" for p in rest[:-len(SHARED)])
    index = (out / "index.html").read_text(encoding="utf-8")
    assert all(f'href="{p.stem}.html"' in index for p in notebooks)
    for page in pages:
        assert "audio/wav" not in page.read_text(encoding="utf-8")


def test_a_saved_auditioner_is_marked_a_snapshot_that_links_to_the_atlases(tmp_path):
    from auditory_deepdream.gallery import _atlases, _snapshot_auditioner

    (tmp_path / "atlas" / "default").mkdir(parents=True)
    (tmp_path / "atlas" / "default" / "index.html").write_text("<html></html>")
    page = "<html><head></head><body><div class='auditioner-filter'></div></body></html>"
    marked = _snapshot_auditioner(page, atlases=_atlases(tmp_path))
    assert "pointer-events: none" in marked and "atlas/default/index.html" in marked and "snapshot" in marked
    assert _snapshot_auditioner("<html><body>no widget</body></html>", atlases=[]) == "<html><body>no widget</body></html>"


def test_a_link_into_the_gallery_folder_points_at_the_same_file_from_the_page(tiny, tmp_path):
    out = tmp_path / "docs"
    (out / "atlas" / "default").mkdir(parents=True)
    nb = nbformat.read(tiny / "01_x.ipynb", as_version=4)
    nb.cells.insert(1, new_markdown_cell("[the atlas](../docs/atlas/default/index.html) and [elsewhere](../other/x.html)"))
    nbformat.write(nb, tiny / "01_x.ipynb")
    build_gallery(tiny, out=out)
    page = (out / "01_x.html").read_text(encoding="utf-8")
    assert 'href="atlas/default/index.html"' in page
    assert 'href="../other/x.html"' in page  # outside the gallery folder: left alone


def test_every_index_summary_is_whole_sentences_that_stand_alone():
    """The index shows each notebook's first paragraph out of context: it must end a sentence and not
    point at what it does not show ("below", "above", a closing colon)."""
    from auditory_deepdream.gallery import _heading_and_summary

    for path in sorted((REPO / "notebooks").glob("*.ipynb")):
        _, summary = _heading_and_summary(nbformat.read(path, as_version=4))
        assert summary.rstrip().endswith((".", ".)")), f"{path.name}: {summary[-80:]!r}"
        assert not re.search(r"\b(below|above)\b", summary, re.IGNORECASE), f"{path.name}: {summary!r}"
        assert ":" not in summary.rstrip()[-3:], f"{path.name}: {summary[-80:]!r}"
