"""The atlas: its build against the one-filter-at-a-time loop, and switching as a reader meets it.

Parts (``--parts``, default all):

- ``build``: ``auditory_deepdream.atlas.build_atlas`` of ``--model`` (every convolution layer, the bundled clips or
  ``--clips``, ``--store`` for natural examples) timed whole, beside the loop it replaces: each
  filter of each layer dreamed on each clip by its own ``dream()`` call, as the auditioner did
  for layers it did not batch. With ``--quick`` the loop runs on the first layer only and its
  per-filter time is projected to every filter (the JSON says so); ``--quick`` builds the first two
  layers only. The measure of meaning
  (agreement of dreamed and exemplified families, with its permutation baseline) is copied in.
- ``browser``: the built atlas opened from ``file://`` in the system Chromium (playwright, every
  request outside the folder aborted); 20 key presses and 20 slider moves on the largest layer's
  page, each timed from its input event to the new pictures decoded and sounds loaded (the page
  records this, ``window.atlasSwitches``) and from before the key press to the same moment as
  the test driver sees it.
- ``jupyter``: the auditioner in JupyterLab (as ``tests/test_browser_auditioner.py`` runs it): a
  cached move (filter slider, a layer already dreamed) from key press to new picture and sound,
  the first visit to an undreamed layer from choice to the busy line, and how many times the
  picture changes on a layer change that clamps the filter (one refresh).

Writes ``atlas_<model>.json`` (``--name`` for another name); a run of some ``--parts`` replaces those
parts of an existing file and keeps the others (``env_of_part`` says on what each was measured).
"""

from __future__ import annotations

import statistics
import tempfile
import time
from pathlib import Path

from benchmarks._common import environment, result_path, write_result

PARTS = ("build", "browser", "jupyter")


def add_arguments(p):
    p.add_argument("--model", default="default", help="model to build the atlas of (default: default)")
    p.add_argument("--clips", nargs="+", help="clips to dream on (default: the bundled notes)")
    p.add_argument("--store", help="a dataset store for natural examples (none by default)")
    p.add_argument("--atlas-out", help="keep the atlas in this folder (default: a temporary one)")
    p.add_argument("--parts", nargs="+", choices=PARTS, default=list(PARTS))
    p.add_argument("--loop", choices=("all", "first-layer", "none"), default="all",
                   help="the one-filter-at-a-time loop over every layer, the first layer only (projected to "
                        "every filter), or none (default: all; --quick: first-layer)")
    p.add_argument("--switches", type=int, default=20, help="key presses and slider moves each (default: 20)")
    p.add_argument("--name", help="result name (default: atlas_<model>)")


def one_filter_at_a_time(model, clips, *, layers: dict, config) -> dict:
    """Seconds of a ``dream()`` call per filter and clip, over every filter of ``layers``."""
    from auditory_deepdream.atlas.build import _load_clips
    from auditory_deepdream.dreamer import Dreamer, dream, filter_objective

    dreamer = Dreamer.load(model)
    audio = _load_clips(clips, settings=dreamer.settings, seconds=config.clip_seconds)
    t = time.perf_counter()
    n = 0
    for layer, count in layers.items():
        for k in range(count):
            for y in audio.values():
                dream(y, model=dreamer, objective=filter_objective(layer, k), options=config.dream_options(),
                      progress=False)
                n += 1
    seconds = time.perf_counter() - t
    return {"seconds": round(seconds, 2), "dreams": n, "per_dream_s": round(seconds / n, 4),
            "layers": layers}


def build_part(args, out: Path) -> dict:
    from auditory_deepdream.atlas import AtlasConfig, build_atlas
    from auditory_deepdream.atlas.build import default_clips

    config = AtlasConfig()
    clips = [Path(c) for c in (args.clips or default_clips())]
    layers = None
    if args.quick:  # the first two convolution layers
        from auditory_deepdream import models
        from auditory_deepdream.dreamer import Dreamer

        dreamer = Dreamer.load(args.model)
        layers = [n for n in models.conv_layer_names(dreamer.model) if n in dreamer.info.layer_filters][:2]
    t = time.perf_counter()
    build = build_atlas(args.model, out, clips=clips, store=args.store, config=config, layers=layers,
                        progress=True)
    wall = time.perf_counter() - t
    layers = build.timings["site"]["layers"]
    result = {"atlas_build_s": round(wall, 2), "stages_s": {k: v for k, v in build.timings.items() if k != "site"},
              "filters": sum(layers.values()), "layers": layers, "clips": [c.name for c in clips],
              "files": build.files, "megabytes": round(build.bytes / 1e6, 2), "meaning": build.meaning,
              "store": args.store}
    if args.loop != "none":
        first = dict(list(layers.items())[:1]) if args.quick or args.loop == "first-layer" else layers
        loop = one_filter_at_a_time(args.model, clips, layers=first, config=config)
        projected = loop["per_dream_s"] * sum(layers.values()) * len(clips)
        loop["projected_every_filter_s"] = round(projected, 2)
        loop["measured"] = "every filter" if first == layers else "the first layer only, projected to every filter"
        # the atlas's dreams alone against the loop, and the whole build (examples, pictures, site) against it
        result["one_filter_at_a_time"] = loop
        result["ratio_loop_over_atlas_dreams"] = round(projected / max(build.timings["dreams_s"], 1e-9), 2)
        result["ratio_loop_over_atlas_build"] = round(projected / wall, 2)
    return result


def browser_part(out: Path, *, switches: int) -> dict:
    import sys

    from playwright.sync_api import sync_playwright

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
    from browser_support import find_chromium, offline_page

    pages = sorted(out.glob("layer-*.html"), key=lambda p: p.stat().st_size)
    page_file = pages[-1]  # the largest layer
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=find_chromium(), headless=True, args=["--no-sandbox"])
        page, blocked, errors = offline_page(browser, viewport={"width": 1400, "height": 1000})
        page.goto(page_file.as_uri())
        page.wait_for_function("window.atlasSwitches && window.atlasSwitches.length >= 1")
        driver = []

        def switch(action):
            n = page.evaluate("window.atlasSwitches.length")
            t = time.perf_counter()
            action()
            page.wait_for_function(f"window.atlasSwitches.length > {n}")
            driver.append((time.perf_counter() - t) * 1000)

        page.locator("body").focus()
        for _ in range(switches):
            switch(lambda: page.keyboard.press("ArrowRight"))
        page.locator("#slider").focus()
        for _ in range(switches):
            switch(lambda: page.keyboard.press("ArrowRight"))
        records = page.evaluate("window.atlasSwitches")[1:]
        browser.close()
    recorded = [s["ms"] for s in records]
    keys, slider = recorded[:switches], recorded[switches:]
    parts = {f"{k}_median": round(statistics.median(s[k] for s in records), 1)
             for k in ("pictures_ms", "sounds_metadata_ms", "sounds_loaded_ms")}
    return {"page": page_file.name, "switches": len(recorded), **parts,
            "median_ms": round(statistics.median(recorded), 1), "max_ms": round(max(recorded), 1),
            "keys_median_ms": round(statistics.median(keys), 1), "slider_median_ms": round(statistics.median(slider), 1),
            "driver_median_ms": round(statistics.median(driver), 1),
            "measured": "in the page, from the input event's timestamp to the new change pictures decoded (img.decode) "
                        "and the new dreams' audio loaded (loadeddata); driver_*: from before playwright's key press "
                        "to the page's record, as the test driver sees it",
            "blocked_requests": blocked, "page_errors": errors}


def run(args) -> None:
    from auditory_deepdream.settings import AudioSettings  # noqa: F401  (the package, before the parts)

    import json
    import os

    parts = args.parts
    name = args.name or f"atlas_{Path(str(args.model)).name}"
    path = result_path(args, name)
    env = environment() | {"load_average_at_start": [round(x, 2) for x in os.getloadavg()]}
    # a run of some parts replaces those parts of an earlier result of the same model and keeps the others
    old = json.loads(path.read_text()) if path.exists() else {}
    if old.get("model") != args.model or old.get("quick") != args.quick:
        old = {}
    kept = {k: old[k] for k in PARTS if k in old and k not in parts}
    env_of_part = {k: v for k, v in old.get("env_of_part", {}).items() if k in kept}
    env_of_part.update({k: env for k in parts})
    result = {"model": args.model, "parts": [k for k in PARTS if k in parts or k in kept], "quick": args.quick,
              "env": env, "env_of_part": env_of_part, **kept}
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(args.atlas_out).resolve() if args.atlas_out else Path(tmp) / "atlas"
        if "build" in parts or not (out / "index.html").exists():
            result["build"] = build_part(args, out)
            write_result(path, result)  # each part is kept as soon as it is measured
        if "browser" in parts:
            result["browser"] = browser_part(out, switches=5 if args.quick else args.switches)
            write_result(path, result)
        if "jupyter" in parts:
            from benchmarks.atlas_jupyter import measure

            result["jupyter"] = measure(moves=3 if args.quick else 10)
            write_result(path, result)
