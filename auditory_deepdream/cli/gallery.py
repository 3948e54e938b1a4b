"""The sub-command that builds the static notebook gallery: ``gallery``."""

from __future__ import annotations


def add_gallery(sub):
    p = sub.add_parser(
        "gallery", help="build the static HTML gallery of the executed notebooks",
        description="Convert every executed notebook in --notebooks to one HTML page in --out (nothing is "
                    "executed), with saved widget state embedded so widgets play without a kernel, and write "
                    "an index.html listing them. The widget renderer and require.js are copied to "
                    "--out/vendor and local images the notebooks show to --out/images, so the pages work "
                    "offline, opened from disk too (no script from a CDN). Refuses a notebook that "
                    "was never executed, embeds uncompressed WAV audio or shows a local image that does not "
                    "exist, before writing anything. Other files in --out are left alone.")
    p.add_argument("--notebooks", default="notebooks", metavar="DIR",
                   help="folder of executed *.ipynb notebooks (default: notebooks)")
    p.add_argument("--out", default="docs", metavar="DIR", help="folder the HTML pages go to (default: docs)")
    p.set_defaults(func=_run_gallery)


def _run_gallery(args):
    from ..gallery import build_gallery, format_size

    for path in build_gallery(args.notebooks, out=args.out):
        print(f"wrote {path} ({format_size(path.stat().st_size)})")
