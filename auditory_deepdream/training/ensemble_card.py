"""An ensemble folder with its own card: members trained apart, scored together.

:func:`export_ensemble` copies trained model directories into one ensemble folder
(:mod:`auditory_deepdream.ensembles`), scores the averaged model on the store's test split
and on a held-out store, and writes the ensemble's ``card.json``, ``card.md`` and
``confusion.png`` beside ``ensemble.json``. The card keeps the lead member's training
data, augmentation and selection tables (the members share one recipe) and adds a table
of the members and, if given, the leave-one-SoundFont-out comparison that chose to
average them.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from ..atomic import write_json_atomic, write_text_atomic
from ..dataset import FeatureStore
from ..models.ensembles import member_folders, write_ensemble_file
from ..errors import ModelError
from ..models import load_model, read_card
from .card import _TEST_KEYS, _data_description, card_markdown
from .evaluate import evaluate, plot_confusion

__all__ = ["export_ensemble", "ensemble_card"]

# what an ensemble's card takes from its lead member's: the recipe the members share
_FROM_LEAD = ("builder", "classes", "hyperparameters", "train_config", "audio_settings", "input", "training_data",
              "ablation", "search")


def _member_row(folder: str, card: dict) -> dict:
    held = card.get("heldout") or {}
    return {"folder": folder, "seed": card.get("seed"), "command": card.get("command"),
            "best_epoch": card.get("best_epoch"), "epochs_run": card.get("epochs_run"),
            "train_seconds": card.get("train_seconds"), "n_parameters": card.get("n_parameters"),
            "test_note_accuracy": (card.get("test") or {}).get("note_accuracy"),
            "heldout_note_accuracy": held.get("note_accuracy"), "heldout_accuracy": held.get("accuracy")}


def ensemble_card(folder, *, store: FeatureStore, command: str, name: str, heldout: FeatureStore | None = None,
                  selection: dict | None = None, min_audio_fraction: float = 0.5) -> dict:
    """The card of an ensemble folder (its members already in place) as a JSON-ready dict.

    Parameters
    ----------
    folder : path-like
        An ensemble folder: ``ensemble.json`` and the member model directories.
    store : FeatureStore
        The members' training store; its ``test`` split is scored.
    command, name : str
        The command that made the ensemble, and its name.
    heldout : FeatureStore, optional
        A store from a SoundFont no member trained on; scored whole.
    selection : dict, optional
        The JSON of the ensemble selection (``benchmarks/results/ensemble_selection.json``), shown as the reason to average.
    min_audio_fraction : float
        Segments scored, as :func:`~auditory_deepdream.training.evaluate` (0.5, as training's cards).
    """
    folder = Path(folder)
    model, settings, lead = load_model(folder)
    members = [(d.name, read_card(d) or {}) for d in member_folders(folder)]  # load_model read their models
    classes = list(lead["classes"])
    card = {k: lead[k] for k in _FROM_LEAD if k in lead}
    test = evaluate(model, store, settings=settings, classes=classes, split="test",
                    min_audio_fraction=min_audio_fraction)
    card.update({
        "name": name,
        "command": command,
        "data": _data_description(store),
        "test": {k: test[k] for k in _TEST_KEYS},
        "n_parameters": int(sum(int(c.get("n_parameters") or 0) for _, c in members)),
        "ensemble": {"combine": "softmax of the members' mean log-probability (normalised geometric mean)",
                     "members": [_member_row(d, c) for d, c in members]},
    })
    if selection:
        card["ensemble_selection"] = selection
    if heldout is not None:
        held = evaluate(model, heldout, settings=settings, classes=classes, split=None,
                        min_audio_fraction=min_audio_fraction)
        card["heldout"] = {"store": str(heldout.path), **held}
    return card


def export_ensemble(member_dirs, out, *, store: FeatureStore, command: str, name: str | None = None,
                    heldout: FeatureStore | None = None, selection: dict | None = None) -> dict:
    """Write an ensemble folder from trained model directories, with its card.

    The folder is built beside ``out`` and moved into place at the end, so a killed run
    leaves no half-written ensemble (an existing ``out`` is replaced only then).

    Parameters
    ----------
    member_dirs : sequence of path-like
        Two or more model directories (``model.keras``, ``settings.json``, ``card.json``),
        the lead first: trained on the same families with the same audio settings.
    out : path-like
        The ensemble folder to write; members are copied in as ``member0``, ``member1`` ...
    store, heldout, selection
        As :func:`ensemble_card`.
    command : str
        The command that made it (kept in the card).
    name : str, optional
        The ensemble's name (default: the folder's).

    Returns
    -------
    dict
        The card.

    Raises
    ------
    ModelError
        Fewer than two members, a member directory without a model, or members whose
        classes differ. :class:`~auditory_deepdream.errors.SettingsMismatchError` for
        members (or stores) with other audio settings.
    """
    member_dirs = [Path(d) for d in member_dirs]
    if len(member_dirs) < 2:
        raise ModelError(f"An ensemble needs at least two model directories, got {len(member_dirs)}.")
    for d in member_dirs:
        if not (d / "model.keras").is_file():
            raise ModelError(f"{d} is not a model directory (no model.keras); pass folders written by "
                             "`auditory-deepdream train`.")
    out = Path(out)
    name = name or out.name
    out.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{out.name}-", dir=out.parent))
    try:
        names = [f"member{i}" for i in range(len(member_dirs))]
        for d, n in zip(member_dirs, names):
            shutil.copytree(d, work / n)
        write_ensemble_file(work, names, note=f"{name}: {len(names)} members averaged; see card.md")
        card = ensemble_card(work, store=store, command=command, name=name, heldout=heldout, selection=selection)
        (work / "settings.json").write_bytes((work / names[0] / "settings.json").read_bytes())
        write_json_atomic(work / "card.json", card)
        plot_confusion(card["test"]["confusion"], card["classes"], work / "confusion.png",
                       title=f"{name}: test accuracy {card['test']['accuracy']:.3f}")
        write_text_atomic(work / "card.md", card_markdown(card))
        if out.exists():
            old = Path(tempfile.mkdtemp(prefix=f".{out.name}-old-", dir=out.parent))
            out.rename(old / out.name)
            work.rename(out)
            shutil.rmtree(old)
        else:
            work.rename(out)
    finally:
        if work.exists():
            shutil.rmtree(work)
    return card
