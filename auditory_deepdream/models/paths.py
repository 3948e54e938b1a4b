"""Where models are: bundled model names, model directories and their cards (no TensorFlow).

:func:`describe` tells what a model name or folder holds (its classes, its layers, its
kind) from the files alone, so the CLI can check a class, tag or layer name in a second,
before TensorFlow loads.
"""

from __future__ import annotations

import importlib
import json
from importlib import resources
from pathlib import Path

__all__ = ["NAMED_ENSEMBLES", "PRETRAINED", "bundled_model_dir", "model_dir", "read_card", "describe", "model_names"]

PRETRAINED = {
    "musicnn-mtt": {"network": "MTT_musicnn", "architecture": "musicnn", "dataset": "MagnaTagATune"},
    "musicnn-msd": {"network": "MSD_musicnn", "architecture": "musicnn", "dataset": "Million Song Dataset"},
    "vgg-mtt": {"network": "MTT_vgg", "architecture": "vgg", "dataset": "MagnaTagATune"},
    "vgg-msd": {"network": "MSD_vgg", "architecture": "vgg", "dataset": "Million Song Dataset"},
}
"""musicnn's pre-trained taggers by name: their checkpoint, architecture and training data."""

NAMED_ENSEMBLES = {"vgg-both": ("vgg-mtt", "vgg-msd")}
"""Taggers that dream as one by name, lead first: ``vgg-both`` is one architecture trained on two sets
of songs (MTT and MSD), answering in MTT's tags (:mod:`.tag_names` maps MSD's)."""


def bundled_model_dir(name: str) -> Path:
    """Path of a model shipped inside the package (``auditory_deepdream/data/models/<name>``)."""
    return Path(str(resources.files("auditory_deepdream") / "data" / "models" / name))


def model_dir(name_or_path) -> Path:
    """The path of ``name_or_path``: as given if it exists, else the bundled model of that name."""
    path = Path(name_or_path)
    if not path.exists() and bundled_model_dir(str(name_or_path)).exists():
        path = bundled_model_dir(str(name_or_path))
    return path


def read_card(folder) -> dict | None:
    """The ``card.json`` of a model (or ensemble) folder, or ``None`` if it has none."""
    card_file = Path(folder) / "card.json"
    return json.loads(card_file.read_text()) if card_file.is_file() else None


def model_names() -> list[str]:
    """Every model loadable by name: the bundled ones, then musicnn's taggers and their named ensembles."""
    root = bundled_model_dir("")
    bundled = sorted(p.name for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
    return bundled + list(PRETRAINED) + list(NAMED_ENSEMBLES)


def describe(name_or_path) -> dict | None:
    """What a model holds, read from its files without TensorFlow.

    Parameters
    ----------
    name_or_path : str or path-like
        A bundled model or musicnn tagger name, a model directory, or an ensemble folder.

    Returns
    -------
    dict or None
        ``kind`` (``"classifier"`` or ``"tagger"``), ``classes`` (output names, in order) and
        ``layers`` (``[{"name", "type", "filters", "bands"}, ...]``, those a dream can
        target; empty when the card does not list them); an ensemble's are its lead
        member's layers. None when nothing is there to describe.
    """
    if str(name_or_path) in NAMED_ENSEMBLES and not Path(name_or_path).exists():
        return describe(NAMED_ENSEMBLES[str(name_or_path)][0])
    if str(name_or_path) in PRETRAINED and not Path(name_or_path).exists():
        labels = importlib.import_module("musicnn.configuration")  # plain Python: tag lists, no TensorFlow
        key = "MTT_LABELS" if PRETRAINED[str(name_or_path)]["dataset"] == "MagnaTagATune" else "MSD_LABELS"
        return {"kind": "tagger", "classes": list(getattr(labels, key)), "layers": []}
    path = model_dir(name_or_path)
    folder = path.parent if path.suffix == ".keras" else path
    lead = None
    if (folder / "ensemble.json").is_file():
        try:
            lead = folder / str(json.loads((folder / "ensemble.json").read_text())["members"][0])
        except (json.JSONDecodeError, KeyError, IndexError, TypeError):
            lead = None  # the loader names what is wrong with it
    elif not (folder / "model.keras").is_file() and not path.is_file():
        return None
    lead_card = (read_card(lead) or {}) if lead is not None else {}
    card = read_card(folder) or lead_card
    return {"kind": card.get("kind", "classifier"), "classes": list(card.get("classes") or []),
            "layers": card.get("layers") or lead_card.get("layers") or []}
