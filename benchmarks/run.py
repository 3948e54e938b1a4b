#!/usr/bin/env python3
"""Run one benchmark scenario and write its JSON to ``benchmarks/results/`` (or ``--out``).

Usage::

    python benchmarks/run.py SCENARIO [--quick] [--out DIR] [scenario options]
    python benchmarks/run.py SCENARIO --help

``--quick`` is a smoke run of a few minutes at most; it writes ``NAME_quick.json`` so that
it never replaces a committed result. ``benchmarks/README.md`` says which command made
every file in ``results/``.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as a script: the package and its benchmarks import from the checkout
    sys.path.insert(0, str(ROOT))

#: modules of this package: the docstring is the help, ``add_arguments(parser)`` the options, ``run(args)`` the work
SCENARIOS = ("speed", "music", "training", "scaling", "quality", "long_files", "cli_batch", "chords", "tags",
             "atlas")


def scenario(name: str):
    return importlib.import_module(f"benchmarks.{name}")


def build_parser() -> argparse.ArgumentParser:
    from benchmarks._common import RESULTS

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="scenario", required=True, metavar="SCENARIO")
    for name in SCENARIOS:
        module = scenario(name)
        p = sub.add_parser(name, help=module.__doc__.splitlines()[0], description=module.__doc__,
                           formatter_class=argparse.RawDescriptionHelpFormatter)
        p.add_argument("--quick", action="store_true", help="a smoke run: smaller inputs, fewer repeats")
        p.add_argument("--out", default=str(RESULTS), help="folder of the result JSON (default: benchmarks/results)")
        module.add_arguments(p)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    Path(args.out).mkdir(parents=True, exist_ok=True)
    scenario(args.scenario).run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
