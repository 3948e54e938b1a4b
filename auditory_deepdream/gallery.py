"""A static gallery of the executed notebooks: ``docs/`` HTML a reader can open anywhere.

:func:`build_gallery` turns every committed, executed notebook into one self-contained HTML
page (nbconvert's lab template) and writes an ``index.html`` that lists them. Nothing is
executed: the pages show the outputs committed in the notebooks, so a notebook must have
been run first. Widget state saved in a notebook's metadata (nbclient's
``store_widget_state``) is embedded, so the widgets (notebook 05's auditioner) are drawn
and play in the page, with no kernel. The widget renderer (``@jupyter-widgets/html-manager``)
and require.js ship with the package (``data/gallery_vendor``, versions and licences in its
``NOTICE.md``); they are copied to :data:`VENDOR` beside the pages, which load them by
relative path, so the gallery works offline, from ``file://`` too. MathJax, which nbconvert's
template loads from a CDN, is left out (no notebook here typesets LaTeX), and so is the
Mermaid loader: a page asks for nothing beyond its own folder.

Three things are refused, before any page is written:

* a notebook whose code cells have no outputs at all (it was never executed),
* uncompressed WAV audio anywhere in a notebook's outputs or widget state: a gallery page
  must stay small enough to load, so audio is embedded compressed (MP3) with
  :mod:`auditory_deepdream.players`, and
* an image linked by a local path (``![matrix](confusion.png)`` in a markdown cell or a
  markdown output, ``<img src="...">`` in HTML) that is not there, resolved against the
  notebook's folder as Jupyter does.

Links between notebooks (``[next](05_audition.ipynb#Section)``) are rewritten to the
pages (``05_audition.html#Section``), and linked local images are copied to :data:`IMAGES`
and the pages point at the copies. Run it as ``auditory-deepdream gallery``.
"""

from __future__ import annotations

import hashlib
import html
import json
import os
import re
import shutil
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

from .atomic import atomic_path
from .errors import GalleryError

__all__ = ["GalleryError", "DEFAULT_TITLE", "EXECUTE_HINT", "IMAGES", "SHARED_CSS", "VENDOR", "build_gallery",
           "format_size"]

DEFAULT_TITLE = "Auditory DeepDreamer — notebook gallery"

#: nbconvert's lab page without its MathJax and Mermaid loaders, scripts from a CDN that no notebook
#: here needs (no LaTeX, no diagram).
_TEMPLATE = "gallery.html.j2"
_TEMPLATE_SOURCE = ("{%- extends 'index.html.j2' -%}\n"
                    "{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}\n"
                    "{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}\n")

#: How to execute a notebook in place, with its widget state saved (what the gallery needs).
EXECUTE_HINT = ("jupyter nbconvert --to notebook --execute --inplace "
                "--ExecutePreprocessor.store_widget_state=True {path}")

_WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
#: The stylesheet every page shares (nbconvert's lab template CSS, written once).
SHARED_CSS = "lab.css"
#: Folder of the gallery's copy of the widget renderer and require.js (and their NOTICE.md).
VENDOR = "vendor"
#: Folder of the copies of local images the notebooks link to.
IMAGES = "images"
ATLAS_DIR = "atlas"  # atlases built into the gallery folder (auditory-deepdream atlas --out docs/atlas/NAME)
_VENDORED = ("embed-amd.js", "require.js", "NOTICE.md")
_HEAD_STYLE = re.compile(r'<style type="text/css">(.*?)</style>', re.DOTALL)
# A data URL or a mime-bundle key of uncompressed WAV audio.
_WAV_DATA = re.compile(r"data:audio/(?:x-)?wave?[;,]", re.IGNORECASE)
_WAV_MIME = re.compile(r"^audio/(?:x-)?wave?$", re.IGNORECASE)
_HREF = re.compile(r"""(\bhref\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_IMG_SRC = re.compile(r"""(<img\b[^>]*?\bsrc\s*=\s*)(["'])(.*?)\2""", re.IGNORECASE | re.DOTALL)
_UUID_REF = re.compile(r"""(\bid="|getElementById\(')([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})("|'\))""")
_HEADING = re.compile(r"^\s{0,3}(#{1,6})\s+(.*?)\s*#*\s*$")
_BLOCK_START = re.compile(r"^\s{0,3}(?:#{1,6}\s|```|~~~|[-*+]\s|\d+[.)]\s|>|\||<|\$\$)")



@dataclass(frozen=True)
class _Entry:
    number: str
    title: str
    summary_html: str
    page: Path


def build_gallery(notebooks="notebooks", *, out="docs", title: str = DEFAULT_TITLE) -> list[Path]:
    """Convert every executed notebook in a folder to an HTML page and write an index.

    Parameters
    ----------
    notebooks : path-like, default "notebooks"
        Folder of ``*.ipynb`` files (not searched recursively). They are converted in sorted
        order, as committed: none is executed.
    out : path-like, default "docs"
        Folder the pages go to (created). Each notebook ``<stem>.ipynb`` becomes
        ``<stem>.html``, and ``index.html`` lists them; the widget renderer and require.js
        go to ``out/vendor`` (:data:`VENDOR`), copies of linked local images to
        ``out/images`` (:data:`IMAGES`, named ``<name>-<12 hex digits of their SHA-256>``).
        Every file is written atomically; a rerun overwrites these files, and any other file
        in ``out`` is left alone, an earlier image that no page shows any more included.
    title : str, default :data:`DEFAULT_TITLE`
        Heading and ``<title>`` of the index page.

    Returns
    -------
    list of pathlib.Path
        The pages written, in notebook order, then the copied images (sorted), the vendored
        files, :data:`SHARED_CSS` (the stylesheet the pages share) and ``index.html``.

    Raises
    ------
    GalleryError
        If nbconvert is missing, the folder holds no notebook, or a notebook cannot be read,
        was not executed (no code cell has an output), embeds WAV audio or links to a local
        image that does not exist. Every notebook is checked before any file is written, so a
        refusal leaves ``out`` as it was.

    Notes
    -----
    A notebook's widget state (``metadata.widgets["application/vnd.jupyter.widget-state+json"]``,
    saved when it is executed with ``store_widget_state``) is embedded in its page with the
    scripts that draw the widgets: ``@jupyter-widgets/html-manager``'s ``embed-amd.js`` and
    require.js, from ``vendor/`` by relative path, so the widgets of ipywidgets itself are
    drawn with no network (a widget library of another package would still be fetched from
    jsDelivr by the renderer).
    """
    folder = Path(notebooks)  # checked before nbconvert's slow import: a typo is refused at once
    if not folder.is_dir():
        raise GalleryError(f"notebook folder {folder} does not exist; give --notebooks a folder of executed "
                           "notebooks (default: notebooks)")
    paths = sorted(folder.glob("*.ipynb"))
    if not paths:
        raise GalleryError(f"no *.ipynb notebook in {folder}; give --notebooks a folder of executed notebooks")
    try:
        import nbformat
        from jinja2 import DictLoader
        from nbconvert import HTMLExporter
    except ImportError as exc:
        raise GalleryError(
            f"building the notebook gallery needs nbconvert ({exc}); install it with "
            "pip install -e \".[notebooks]\"") from exc
    out = Path(out)
    pages = {path.name: f"{path.stem}.html" for path in paths}

    exporter = HTMLExporter(template_name="lab", template_file=_TEMPLATE,
                            extra_loaders=[DictLoader({_TEMPLATE: _TEMPLATE_SOURCE})])
    # the package's copies, by relative path: nbconvert's defaults are CDN URLs, dead offline
    exporter.require_js_url = f"{VENDOR}/require.js"
    exporter.widget_renderer_url = f"{VENDOR}/embed-amd.js"
    # Check and convert every notebook before writing anything.
    rendered, refused, images = [], [], {}
    for path in paths:
        try:
            nb = nbformat.read(path, as_version=4)
        except Exception as exc:  # nbformat raises several types for a broken file
            raise GalleryError(f"cannot read notebook {path}: {exc}") from exc
        heading, summary = _heading_and_summary(nb)
        number = _number(path.stem)
        page_title = _strip_number(heading, number) if heading else path.stem
        name = f"{number} · {page_title}" if number and heading else page_title
        try:
            _check_notebook(nb, path)
            body, _ = exporter.from_notebook_node(
                nb, resources={"metadata": {"name": name, "path": str(path.parent)}})
            body, linked = _copy_local_images(body, nb, path)
        except GalleryError as exc:
            refused.append((path, exc))
            continue
        images.update(linked)
        body = _add_back_link(_rewrite_links(_stable_ids(body), folder=path.parent, out=out))
        body = _snapshot_auditioner(body, atlases=_atlases(out))
        rendered.append((path, body, number, page_title, summary))
    if refused:
        (_, first), others = refused[0], [path.name for path, _ in refused[1:]]
        if others:
            raise GalleryError(f"{first} (refused too: {', '.join(others)})") from first
        raise first

    written, entries, shared = [], [], None
    for path, body, number, page_title, summary in rendered:
        css, rest = _template_css(body)
        if css and shared in (None, css):  # the template's CSS, the same on every page: one file
            shared, body = css, rest
        page = _write(out / pages[path.name], body)
        written.append(page)
        entries.append(_Entry(number, page_title, _inline_markdown(summary), page))
    written += [_copy(source, out / target) for target, source in sorted(images.items())]
    vendored = resources.files("auditory_deepdream") / "data" / "gallery_vendor"
    written += [_copy(Path(str(vendored / name)), out / VENDOR / name) for name in _VENDORED]
    if shared is not None:
        written.append(_write(out / SHARED_CSS, shared))
    written.append(_write(out / "index.html", _index(title, entries, atlases=_atlases(out))))
    return written


def _atlases(out: Path) -> list[str]:
    """Relative links to the atlases built under ``out/atlas/`` (``auditory-deepdream atlas``)."""
    return sorted(f"{ATLAS_DIR}/{p.parent.name}/index.html" for p in (out / ATLAS_DIR).glob("*/index.html"))


_SNAPSHOT_CSS = ("<style>.auditioner-layer, .auditioner-filter, .auditioner-steps, .auditioner-step_size, "
                 ".auditioner-objective, .auditioner-family, .auditioner-sound_path { pointer-events: none; "
                 "opacity: .45; } .auditioner-snapshot { font: 14px system-ui, sans-serif; background: #fff6d6; "
                 "border: 1px solid #e0c46c; padding: 6px 10px; margin: 4px 0; }</style>")
_SNAPSHOT_JS = """<script>
(function () {  // the saved auditioner has no kernel: say so beside it, once its controls are drawn
  var tries = 0, timer = setInterval(function () {
    var control = document.querySelector(".auditioner-layer");
    if (control || ++tries > 100) { clearInterval(timer); }
    if (!control) { return; }
    var box = control.closest(".widget-vbox") || control.parentNode, note = document.createElement("div");
    note.className = "auditioner-snapshot";
    note.innerHTML = %s;
    box.parentNode.insertBefore(note, box);
  }, 100);
}());
</script>"""


def _snapshot_auditioner(page: str, *, atlases: list[str]) -> str:
    """Grey out a saved auditioner's controls and say, with links to the atlases, that it is a snapshot."""
    if "auditioner-" not in page:
        return page
    links = ", ".join(f'<a href="{html.escape(a)}">the atlas of {html.escape(a.split("/")[1])}</a>' for a in atlases)
    text = ("A snapshot of the auditioner as it was saved: with no kernel here its controls do nothing. "
            + (f"Every filter's dream, to browse and hear: {links}." if links else
               "Run the notebook to move its sliders, or build an atlas (auditory-deepdream atlas)."))
    page = page.replace("</head>", _SNAPSHOT_CSS + "\n</head>", 1)
    return page.replace("</body>", (_SNAPSHOT_JS % json.dumps(text)) + "\n</body>", 1)


def _check_notebook(nb, path: Path) -> None:
    """Refuse a notebook that was never executed or that embeds WAV audio."""
    code = [cell for cell in nb.cells if cell.cell_type == "code"]
    if code and not any(cell.get("outputs") for cell in code):
        raise GalleryError(
            f"notebook {path} has no outputs: execute it first, for example with "
            f"{EXECUTE_HINT.format(path=path)}, then build the gallery")
    for index, cell in enumerate(code):
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if any(_WAV_MIME.match(mime) for mime in data) or _WAV_DATA.search(json.dumps(data)):
                raise GalleryError(
                    f"notebook {path}, code cell {index + 1}, embeds uncompressed WAV audio: audio must be "
                    "embedded compressed with auditory_deepdream.players; re-run the notebook after "
                    "switching its players, then build the gallery")
    state = nb.metadata.get("widgets", {}).get(_WIDGET_STATE, {}).get("state", {})
    for model_id, model in state.items():
        values = model.get("state", {})
        wav_widget = (model.get("model_name") == "AudioModel"
                      and _WAV_MIME.match(f"audio/{values.get('format', '')}"))
        if wav_widget or _WAV_DATA.search(json.dumps(model)):
            raise GalleryError(
                f"notebook {path} saves uncompressed WAV audio in its widget state (widget {model_id}, "
                f"{model.get('model_name')}): audio must be embedded compressed with "
                "auditory_deepdream.players; re-run the notebook after switching its players, then "
                "build the gallery")


def _heading_and_summary(nb) -> tuple[str, str]:
    """The first markdown heading and the first paragraph after it ("" where missing)."""
    text = "\n\n".join(cell.source for cell in nb.cells if cell.cell_type == "markdown")
    lines = text.splitlines()
    heading, start = "", len(lines)
    for i, line in enumerate(lines):
        match = _HEADING.match(line)
        if match:
            heading, start = match.group(2), i + 1
            break
    paragraph = []
    for line in lines[start:]:
        if not line.strip():
            if paragraph:
                break
            continue
        if _BLOCK_START.match(line):
            if paragraph:
                break
            continue  # a list, table, code or sub-heading before any paragraph: not a summary
        paragraph.append(line.strip())
    return heading, " ".join(paragraph)


def _number(stem: str) -> str:
    match = re.match(r"\d+", stem)
    return match.group(0) if match else ""


def _strip_number(heading: str, number: str) -> str:
    """``"05 · Audition filters"`` -> ``"Audition filters"`` (the index shows the number)."""
    if not number:
        return heading
    stripped = re.sub(rf"^0*{int(number)}\s*[·.:\-–—|]\s*", "", heading)
    return stripped or heading


def _inline_markdown(text: str) -> str:
    """Escaped HTML of one markdown paragraph: code, bold and italics kept, links as their text."""
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)
    parts = re.split(r"(`[^`]*`)", text)
    rendered = []
    for part in parts:
        if len(part) > 1 and part.startswith("`") and part.endswith("`"):
            rendered.append(f"<code>{html.escape(part[1:-1])}</code>")
            continue
        part = html.escape(part, quote=False)
        part = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: f"<strong>{m.group(1) or m.group(2)}</strong>", part)
        part = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])|(?<!\w)_(?!\s)(.+?)(?<!\s)_(?!\w)",
                      lambda m: f"<em>{m.group(1) or m.group(2)}</em>", part)
        rendered.append(part)
    return "".join(rendered)


def _rewrite_links(page: str, *, folder: Path, out: Path) -> str:
    """Point relative links to sibling notebooks (``x.ipynb#Part``) at their pages (``x.html#Part``),
    and a relative link from the notebook ``folder`` into the gallery's ``out`` folder (the committed
    atlas, ``../docs/atlas/default/index.html``) at the same file from the page."""
    folder, out = Path(folder).resolve(), Path(out).resolve()

    def rewrite(match):
        url = html.unescape(match.group(3))
        parts = urlsplit(url)
        path = parts.path.removeprefix("./")
        if parts.scheme or parts.netloc or not path or path.startswith("/"):
            return match.group(0)
        if path.endswith(".ipynb") and "/" not in path:  # a sibling notebook: its page
            target = path[:-len(".ipynb")] + ".html"
        else:  # anything else: the same file from the page, when it lies inside the gallery folder
            target = os.path.relpath(os.path.normpath(folder / path), out)
            if target.startswith(".."):
                return match.group(0)
            target = Path(target).as_posix()
        new = urlunsplit(("", "", target, parts.query, parts.fragment))
        return f"{match.group(1)}{match.group(2)}{html.escape(new)}{match.group(2)}"

    return _HREF.sub(rewrite, page)


def _copy_local_images(page: str, nb, path: Path) -> tuple[str, dict[str, Path]]:
    """Point every ``<img>`` of a local file at its copy in :data:`IMAGES`.

    Returns the page and ``{copy's path in out: source file}``. A ``src`` with no scheme is a
    path relative to the notebook's folder (what Jupyter shows); ``data:`` and web images are
    left alone. Raises GalleryError naming every missing image, and the cell that shows it.
    """
    linked, missing = {}, []

    def rewrite(match):
        url = html.unescape(match.group(3))
        parts = urlsplit(url)
        if parts.scheme or parts.netloc:
            return match.group(0)
        source = path.parent / unquote(parts.path)
        if not source.is_file():
            missing.append((url, source))
            return match.group(0)
        digest = hashlib.sha256(source.read_bytes()).hexdigest()[:12]
        target = f"{IMAGES}/{source.stem}-{digest}{source.suffix}"
        linked[target] = source
        return f"{match.group(1)}{match.group(2)}{html.escape(target)}{match.group(2)}"

    page = _IMG_SRC.sub(rewrite, page)
    if missing:
        where = [f"{url} ({_cell_showing(nb, url)}; not found at {source})" for url, source in missing]
        raise GalleryError(
            f"notebook {path} shows local images that do not exist: {', '.join(where)}. A page can show "
            "only an image found at its path relative to the notebook's folder, as Jupyter does: link it "
            "by that relative path (for a markdown file from elsewhere, rewrite its image links with "
            "os.path.relpath before displaying it), or embed it with IPython.display.Image, then "
            f"re-execute the notebook ({EXECUTE_HINT.format(path=path)}) and build the gallery")
    return page, linked


def _cell_showing(nb, url: str) -> str:
    """``"markdown cell 3"`` or ``"the output of code cell 7"``: the first cell whose source or
    outputs hold ``url`` ("an unknown cell" if none does)."""
    counts = {}
    for cell in nb.cells:
        counts[cell.cell_type] = counts.get(cell.cell_type, 0) + 1
        label = f"{cell.cell_type} cell {counts[cell.cell_type]}"
        if url in cell.source:
            return label
        if url in json.dumps(cell.get("outputs", []), ensure_ascii=False):
            return f"the output of {label}"
    return "an unknown cell"


def _stable_ids(page: str) -> str:
    """Number the random ``uuid4`` ids the template gives widget and JavaScript outputs, so a
    rebuild of an unchanged notebook writes the same page."""
    ids = {}

    def number(match):
        new = ids.setdefault(match.group(2), f"output-{len(ids) + 1}")
        return f"{match.group(1)}{new}{match.group(3)}"

    return _UUID_REF.sub(number, page)


def _template_css(page: str) -> tuple[str, str]:
    """The template's stylesheets in ``<head>`` (about 280 kB, the same on every page), and
    the page with a link to :data:`SHARED_CSS` in their place ("" and the page if none)."""
    head_end = page.find("</head>")
    if head_end < 0:
        return "", page
    head, rest = page[:head_end], page[head_end:]
    blocks = list(_HEAD_STYLE.finditer(head))
    if not blocks:
        return "", page
    first = blocks[0].start()
    head = _HEAD_STYLE.sub("", head)
    link = f'<link rel="stylesheet" href="{SHARED_CSS}">'
    head = head[:first] + link + head[first:]
    return "\n".join(b.group(1) for b in blocks), head + rest


def _add_back_link(page: str) -> str:
    """A small link back to the index at the top of a page."""
    nav = ('<nav style="font:14px system-ui,sans-serif;padding:8px 16px;border-bottom:1px solid #ddd">'
           '<a href="index.html">&larr; all notebooks</a></nav>')
    return re.sub(r"(<body\b[^>]*>)", lambda m: m.group(1) + "\n" + nav, page, count=1)


def _write(path: Path, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return path


def _copy(source: Path, path: Path) -> Path:
    with atomic_path(path) as tmp:
        shutil.copyfile(source, tmp)
    return path


def format_size(n: int) -> str:
    """A byte count for people: ``"812 B"``, ``"443.3 kB"``, ``"3.5 MB"``."""
    if n < 1000:
        return f"{n} B"
    if n < 1_000_000:
        return f"{n / 1e3:.1f} kB"
    return f"{n / 1e6:.1f} MB"


_CSS = """
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #222;
       max-width: 52rem; margin: 2rem auto; padding: 0 1rem; }
h1 { font-size: 1.6rem; margin-bottom: .25rem; }
p.lead { color: #555; margin-top: 0; }
ol { list-style: none; padding: 0; }
li { border-top: 1px solid #e3e3e3; padding: 1rem 0; display: flex; gap: 1rem; }
.num { font: 600 1.4rem ui-monospace, monospace; color: #888; min-width: 2.5rem; }
h2 { font-size: 1.15rem; margin: 0 0 .3rem; }
h2 a { color: #0b57a4; text-decoration: none; }
h2 a:hover { text-decoration: underline; }
.summary { margin: 0 0 .3rem; }
.meta { font-size: .85rem; color: #777; }
code { font-size: .9em; background: #f3f3f3; padding: 0 .2em; border-radius: 3px; }
"""


def _index(title: str, entries: list[_Entry], *, atlases=()) -> str:
    items = []
    for entry in entries:
        href = html.escape(entry.page.name)
        items.append(
            f'<li><span class="num">{html.escape(entry.number)}</span><div>'
            f'<h2><a href="{href}">{html.escape(entry.title)}</a></h2>'
            + (f'<p class="summary">{entry.summary_html}</p>' if entry.summary_html else "")
            + f'<p class="meta"><a href="{href}">{href}</a> · {format_size(entry.page.stat().st_size)}</p>'
            f"</div></li>")
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{html.escape(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        f"<h1>{html.escape(title)}</h1>\n"
        "<p class=\"lead\">The executed notebooks, with their outputs, players and widgets; "
        "nothing needs a kernel.</p>\n"
        "<ol>\n" + "\n".join(items) + "\n</ol>\n"
        + ("<h2>Atlases</h2>\n<p class=\"summary\">Every filter of a model dreamed on a few clips, with the "
           "notes that excite it most, to browse offline: "
           + ", ".join(f'<a href="{html.escape(a)}">{html.escape(a.split("/")[1])}</a>' for a in atlases)
           + ".</p>\n" if atlases else "")
        + "</body>\n</html>\n")
