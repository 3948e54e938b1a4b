"""The ``auditory-deepdream`` command.

Each sub-command is a thin wrapper over one package function. The sub-commands are
listed in :data:`COMMANDS`, one ``add_*`` function per sub-command, grouped in modules
by the pipeline stage they drive. Heavy modules (TensorFlow) are imported only inside the
handler that needs them, so ``--help`` is quick. TensorFlow's C++ and absl log lines are kept
off stderr (:mod:`auditory_deepdream.quiet`), and so are Python warnings, unless ``--verbose`` is given.
"""

from __future__ import annotations

import argparse
import logging
import sys
import warnings

from ..errors import AuditoryDeepDreamError
from ..quiet import let_tensorflow_speak
from . import atlas, classify, data, dream, gallery, train

__all__ = ["COMMANDS", "build_parser", "main"]

# In the order ``--help`` lists them: the README's pipeline, then the dream commands, then classify,
# then the notebook gallery.
COMMANDS = (
    dream.add_quickstart,
    dream.add_examples,
    data.add_render_soundfont,
    data.add_build_dataset,
    train.add_train,
    train.add_ensemble,
    train.add_search,
    dream.add_dream,
    dream.add_layers,
    atlas.add_atlas,
    classify.add_classify,
    gallery.add_gallery,
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="auditory-deepdream",
        description="Turn trained audio CNNs into sound effects. Run a sub-command with "
                    "--help for its options.")
    parser.add_argument("--verbose", action="store_true",
                        help="show TensorFlow's log lines on stderr (oneDNN, absl, CPU features), hidden by default")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in COMMANDS:
        add(sub)
    return parser


def main(argv=None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    args.argv = argv
    if args.verbose:
        let_tensorflow_speak()
    else:
        logging.getLogger("absl").setLevel(logging.ERROR)  # absl's Python warnings, as its C++ lines
    try:
        with warnings.catch_warnings():
            if not args.verbose:  # a library's warning (librosa, NumPy, Keras) is not the user's to act on
                warnings.simplefilter("ignore")
            args.func(args)
    except AuditoryDeepDreamError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0
