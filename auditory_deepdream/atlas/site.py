"""The atlas as a static site that works from ``file://`` with no network.

``index.html`` lists the layers (a strip of each layer's change pictures), the clips and the
measure of meaning; ``<layer>.html`` shows the layer's grid of every filter and the filter view
(its dream on each clip, the outputs it raises, its natural examples). Each page carries its
data inline, and ``atlas.js`` switches filters by swapping in pictures and players read ahead: no request
leaves the folder, no script comes from a CDN. A filter's address is ``<layer>.html#f<index>``.
Pages hold no time stamps, so a resumed build writes the same bytes as an uninterrupted one.
"""

from __future__ import annotations

import html
import json
from importlib import resources
from pathlib import Path

from ..atomic import write_text_atomic

__all__ = ["write_site", "page_name"]

_HERE = ' class="here" aria-current="page"'


def page_name(layer: str) -> str:
    """The file name of ``layer``'s page."""
    return "layer-" + "".join(c if c.isalnum() or c in "-_" else "_" for c in layer) + ".html"


def _asset(name: str) -> str:
    return resources.files("auditory_deepdream.atlas").joinpath("static", name).read_text()


def _page(title: str, body: str, *, data: dict | None = None) -> str:
    script = "" if data is None else (
        "<script>window.ATLAS = " + json.dumps(data, separators=(",", ":")).replace("</", "<\\/") + ";</script>\n")
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
            "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
            f"<title>{html.escape(title)}</title>\n<link rel=\"stylesheet\" href=\"atlas.css\">\n</head>\n"
            f"<body>\n{body}\n{script}<script src=\"atlas.js\"></script>\n</body></html>\n")


def _meaning_table(meaning: dict) -> str:
    rows = "".join(
        f"<tr><td>{html.escape(name)}</td><td>{r['filters']}</td><td>{r['agreement']:.2f}</td>"
        f"<td>{r['baseline_mean']:.2f}</td><td>{r['baseline_p95']:.2f}</td><td>{r['p_value']:.3f}</td></tr>"
        for name, r in [*meaning["layers"].items(), ("all layers", meaning["overall"])])
    return ("<h2>Do a filter's dream and its natural examples agree?</h2>\n<p>For each filter: the family "
            "whose logit its dream raises most, and the family most of its natural examples belong to. "
            "<em>Agreement</em> is how often the two are the same; the <em>baseline</em> is the same "
            f"families with the filters shuffled within the layer ({meaning['permutations']} shuffles: mean and "
            "95th percentile), and <em>p</em> the share of shuffles that agree at least as often.</p>\n"
            "<table class=\"meaning\"><tr><th>layer</th><th>filters</th><th>agreement</th><th>baseline</th>"
            f"<th>baseline 95 %</th><th>p</th></tr>{rows}</table>")


def write_site(out: Path, *, model: str, dreamer, clips: list, records: list, examples: dict | None,
               meaning: dict | None, config) -> dict:
    """Write ``index.html``, one page per layer, ``atlas.js`` and ``atlas.css`` into ``out``.

    Parameters
    ----------
    out : Path
    model : str
        The model's name or path, as given.
    dreamer : Dreamer
    clips : list of str
        Clip names (their files are ``clips/<name>.mp3`` and ``.png``).
    records : list of dict
        Unit records (:func:`~.dreams.dream_unit`), in layer order.
    examples : dict or None
        ``top`` (layer -> per filter the store rows) and ``rows`` (row -> example); None without a store.
    meaning : dict or None
        :func:`~.meaning.agreement`'s report.
    config : AtlasConfig

    Returns
    -------
    summary : dict
        ``layers`` (name -> filters) and ``pages``.
    """
    layers: dict = {}
    for rec in records:
        layers.setdefault(rec["layer"], []).extend(rec["filters"])
    names = list(layers)
    kind = dreamer.card.get("kind", "classifier")
    outputs = "tags" if kind == "tagger" else "classes"
    write_text_atomic(out / "atlas.js", _asset("atlas.js"))
    write_text_atomic(out / "atlas.css", _asset("atlas.css"))
    for i, layer in enumerate(names):
        filters = layers[layer]
        if examples is not None:
            for f in filters:
                f["examples"] = [dict(examples["rows"][str(r)], row=int(r)) for r in examples["top"][layer][f["index"]]]
        nav = " · ".join(f"<a href=\"{page_name(n)}\"{_HERE if n == layer else ''}>{html.escape(n)}</a>"
                         for n in names)
        body = (
            f"<header><a href=\"index.html\">Atlas of {html.escape(model)}</a> › <b>{html.escape(layer)}</b> "
            f"({len(filters)} filters)<nav>{nav}</nav></header>\n<main class=\"layer\">\n<section id=\"view\">\n"
            "<div class=\"controls\"><button id=\"prev\" title=\"previous filter (←)\">◀</button>"
            f"<input id=\"slider\" type=\"range\" min=\"0\" max=\"{len(filters) - 1}\" value=\"0\" "
            "aria-label=\"filter\"><button id=\"next\" title=\"next filter (→)\">▶</button> "
            "<span id=\"which\"></span> <a id=\"cite\" href=\"#\">link to this filter</a></div>\n"
            "<p class=\"keys\">Keys: ← → filter, Home End first and last, [ ] previous and next layer, "
            "space plays the first dream.</p>\n"
            "<div id=\"clips\"></div>\n"
            f"<h3>What the dream raises in the model's {outputs}</h3><ol id=\"raises\"></ol>\n"
            "<h3>Natural examples: the store segments that excite this filter most</h3>"
            "<div id=\"examples\"></div>\n</section>\n"
            "<section id=\"grid\" aria-label=\"every filter of the layer\"></section>\n</main>")
        data = {"model": model, "layer": layer, "prev": page_name(names[i - 1]) if i else None,
                "next": page_name(names[i + 1]) if i + 1 < len(names) else None, "clips": clips,
                "filters": filters, "examples": examples is not None,
                "note": ("Change pictures: the dream's spectrogram minus the input's, with the common level change "
                         "(the dream is matched in loudness to its clip) taken out: red where the dream raised a "
                         "band more than that, blue where it cut more; full colour at the ± dB shown beside each "
                         "(fitted to that change).")}
        write_text_atomic(out / page_name(layer), _page(f"{layer} · atlas of {model}", body, data=data))

    strips = "".join(
        f"<li><a href=\"{page_name(n)}\"><b>{html.escape(n)}</b> ({len(layers[n])} filters)</a><div class=\"strip\">"
        + "".join(f"<a href=\"{page_name(n)}#f{f['index']}\"><img src=\"{f['clips'][clips[0]]['change']}\" "
                  f"alt=\"{html.escape(n)} filter {f['index']}\" title=\"filter {f['index']}\"></a>"
                  for f in layers[n][:16]) + "</div></li>" for n in names)
    clip_list = "".join(f"<figure><img src=\"clips/{c}.png\" alt=\"{html.escape(c)} spectrogram\">"
                        f"<figcaption>{html.escape(c)}</figcaption><audio controls preload=\"none\" "
                        f"src=\"clips/{c}.mp3\"></audio></figure>" for c in clips)
    total = sum(len(v) for v in layers.values())
    examples_line = ("" if examples is None else
                     f"<p>Natural examples: the {config.top_k} of {examples['segments_searched']} segments of the "
                     f"store <code>{html.escape(examples['store'])}</code> with the highest mean activation.</p>")
    body = (f"<header><b>Atlas of {html.escape(model)}</b>: {len(names)} convolution layers, {total} filters"
            "</header>\n<main>\n<p>Every filter of the model, dreamed on each clip below with the same ascent "
            f"({config.steps} steps of {config.step_size:g} dB, seed {config.seed}). Open a layer to see all its "
            "filters at once; click a picture to hear that filter's dream. Red marks the bands a dream raised, "
            "blue those it cut, beyond the common level change of its loudness match.</p>\n" + examples_line
            + f"<h2>Clips</h2><div class=\"clips\">{clip_list}</div>\n<h2>Layers</h2><ul class=\"layers\">{strips}</ul>\n"
            + (_meaning_table(meaning) if meaning else "") + "\n</main>")
    write_text_atomic(out / "index.html", _page(f"Atlas of {model}", body))
    return {"layers": {n: len(layers[n]) for n in names}, "pages": len(names) + 1}
