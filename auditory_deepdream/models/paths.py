"""Where models are: bundled model names, model directories and their cards (no TensorFlow)."""

from __future__ import annotations

import json
from importlib import resources
from pathlib import Path

__all__ = ["bundled_model_dir", "model_dir", "read_card"]


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
