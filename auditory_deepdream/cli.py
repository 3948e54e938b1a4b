"""The ``auditory-deepdream`` command.

Each sub-command is a thin wrapper over one package function; heavy modules
(TensorFlow) are imported only inside the handler that needs them, so ``--help`` is quick.
"""

from __future__ import annotations

import argparse
import sys

from .errors import AuditoryDeepDreamError

__all__ = ["main", "build_parser"]


# ----------------------------------------------------------------------- quickstart
def _add_quickstart(sub):
    p = sub.add_parser(
        "quickstart",
        help="dream a bundled instrument clip with the bundled model (the README's first command)",
        description="Load a bundled real instrument clip, dream it with the bundled default "
                    "model, and write a WAV and a before/after spectrogram PNG.")
    p.add_argument("--out", default="out/quickstart", help="output folder (default: out/quickstart)")
    p.add_argument("--clip", default="cello_C3", help="bundled clip name (default: cello_C3)")
    p.set_defaults(func=_run_quickstart)


def _run_quickstart(args):
    from .quickstart import run_quickstart

    paths = run_quickstart(out_dir=args.out, clip=args.clip)
    for kind, path in paths.items():
        print(f"{kind}: {path}")


# ------------------------------------------------------------------ dataset (issue 3)
# (render-soundfont, build-dataset)

# ----------------------------------------------------------------- training (issue 4)
# (train, search)

# ------------------------------------------------------------------ dreamer (issue 5)
# (dream, layers)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditory-deepdream",
        description="Turn trained audio CNNs into sound effects. Run a sub-command with "
                    "--help for its options.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name, value in list(globals().items()):
        if name.startswith("_add_") and callable(value):
            value(sub)
    return parser


def main(argv=None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except AuditoryDeepDreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
