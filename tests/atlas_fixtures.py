"""A tiny saved classifier and a tiny store for the atlas tests (TINY settings, TimGM6mb notes)."""

from __future__ import annotations

from pathlib import Path

from training_fixtures import TINY, make_store

from auditory_deepdream import models


def tiny_model_dir(base: Path) -> Path:
    """A quarter-width conv-blocks classifier of the tiny store's four families, saved once."""
    path = Path(base) / "tiny-model"
    if (path / "card.json").is_file():
        return path
    store = make_store(Path(base) / "tiny-store")
    model = models.build_model("conv_blocks", {"width": 0.125}, settings=TINY, n_classes=len(store.classes), seed=0)
    return models.save_model_dir(model, path, settings=TINY, card={"classes": store.classes})


def tiny_store(base: Path) -> Path:
    make_store(Path(base) / "tiny-store")
    return Path(base) / "tiny-store"
