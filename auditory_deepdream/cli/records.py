"""The dream record: a JSON beside every output that says how to make it again, bit for bit.

A record is named after the whole output name (``out.flac`` → ``out.flac.dream.json``), so
two outputs never share one. It holds the *request*, everything that decides the output
(the input, the model, the objective in machine-readable form, the options, the excerpt),
and what the dream measured. ``dream --replay RECORD`` rebuilds the request, and a batch
skips a file whose output exists beside a record of the same request.

Reading and checking a record needs no TensorFlow; :func:`objective_spec` and
:func:`build_objective` convert between an objective and its record, once the model is loaded.
"""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import DreamError

__all__ = ["RECORD_SUFFIX", "record_path", "objective_spec", "build_objective", "dream_request", "read_record",
           "already_dreamed"]

RECORD_SUFFIX = ".dream.json"
_REQUEST = ("input", "input_file", "model", "objective", "options", "excerpt")


def record_path(output) -> Path:
    """Where the record of ``output`` lies: its whole name plus ``.dream.json``."""
    output = Path(output)
    return output.with_name(output.name + RECORD_SUFFIX)


def objective_spec(objective) -> dict:
    """The machine-readable form of an objective the CLI builds (a layer, a filter, or weighted classes or tags).

    Returns
    -------
    dict
        ``{"kind": "layer", "layer"}``, ``{"kind": "filter", "layer", "filter"}``, or
        ``{"kind": "class" | "tag", "targets": {name: weight}}`` (an unnamed class by its
        index, as a string); ``text`` is the objective in words.
    """
    from ..dreamer.objectives import ClassLogit, FilterObjective, LayerObjective, Scaled, Sum

    text = str(objective)
    if isinstance(objective, LayerObjective):
        return {"kind": "layer", "layer": objective.layer, "text": text}
    if isinstance(objective, FilterObjective):
        return {"kind": "filter", "layer": objective.layer, "filter": int(objective.index), "text": text}
    terms = objective.terms if isinstance(objective, Sum) else (objective,)
    targets, noun = {}, "class"
    for term in terms:
        weight = 1.0
        if isinstance(term, Scaled):
            term, weight = term.term, float(term.weight)
        if not isinstance(term, ClassLogit):
            raise DreamError(f"The objective {text!r} cannot be recorded; the CLI records layers, filters, "
                             "and weighted classes or tags.")
        noun = term.noun
        targets[str(term.label if term.label is not None else term.index)] = weight
    return {"kind": noun, "targets": targets, "text": text}


def build_objective(spec: dict, *, classes):
    """The objective a record's ``objective`` describes, on a model with these ``classes``."""
    from ..dreamer.objectives import class_objective, make_objective

    if spec["kind"] in ("layer", "filter"):
        return make_objective(spec["kind"], layer=spec["layer"], index=int(spec.get("filter", 0)))
    terms = []
    for name, weight in spec["targets"].items():
        target = name if name in (classes or ()) else int(name)
        term = class_objective(target, classes=classes, noun=spec["kind"])
        terms.append(term if weight == 1.0 else weight * term)
    return sum(terms[1:], terms[0])


def dream_request(*, src, model, spec: dict, options, excerpt) -> dict:
    """What decides an output: the input (and its size and time), model, objective, options and excerpt."""
    stat = Path(src).stat()
    return {"input": str(Path(src).resolve()), "input_file": {"bytes": stat.st_size, "modified_ns": stat.st_mtime_ns},
            "model": str(model), "objective": spec, "options": options.to_dict(), "excerpt": excerpt}


def _same(a, b) -> bool:
    return json.loads(json.dumps(a)) == json.loads(json.dumps(b))


def already_dreamed(output, request: dict) -> bool:
    """Whether ``output`` exists beside a record of the same request (a batch then skips it)."""
    output, path = Path(output), record_path(output)
    if not (output.is_file() and path.is_file()):
        return False
    try:
        record = json.loads(path.read_text())
    except (OSError, json.JSONDecodeError):
        return False
    return isinstance(record, dict) and all(_same(record.get(key), request[key]) for key in _REQUEST)


def read_record(path) -> dict:
    """A dream record, checked: the fields ``--replay`` needs, each of the right kind.

    Raises
    ------
    DreamError
        The file is missing or not a dream record.
    """
    from ..options import DreamOptions

    path = Path(path)
    if not path.is_file():
        raise DreamError(f"--replay {path}: no such file. Give the .dream.json written beside a dream "
                         "(e.g. out.wav.dream.json).")
    try:
        record = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DreamError(f"--replay {path}: not a dream record ({exc}).") from None
    spec = record.get("objective") if isinstance(record, dict) else None
    if not isinstance(spec, dict) or spec.get("kind") not in ("layer", "filter", "class", "tag") \
            or not all(key in record for key in ("input", "output", "model", "options")):
        raise DreamError(f"--replay {path}: not a dream record of this version (it needs input, output, model, "
                         "options and an objective with its kind); dream again to write one.")
    if spec["kind"] in ("class", "tag") and not (isinstance(spec.get("targets"), dict) and spec["targets"]):
        raise DreamError(f"--replay {path}: its {spec['kind']} objective names no targets.")
    if spec["kind"] in ("layer", "filter") and not spec.get("layer"):
        raise DreamError(f"--replay {path}: its {spec['kind']} objective names no layer.")
    try:
        record["options"] = DreamOptions.from_dict(record["options"])
    except (TypeError, ValueError) as exc:
        raise DreamError(f"--replay {path}: its options cannot be read ({exc}).") from None
    return record
