"""The model card: what a trained model is, what it was trained on, how well it does.

:func:`export_model` writes a model directory (``model.keras``, ``settings.json``,
``card.json``, ``card.md``, ``confusion.png``); :func:`model_card` builds the card's
dict and :func:`card_markdown` renders it for people.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras

from ..atomic import write_text_atomic
from ..dataset import FeatureStore
from ..models import save_model_dir
from .config import TrainConfig, TrainResult
from .evaluate import evaluate, plot_confusion

__all__ = ["export_model", "model_card", "card_markdown"]

_TEST_KEYS = ("loss", "accuracy", "n", "per_class_accuracy", "confusion", "note_accuracy", "n_notes",
              "min_audio_fraction", "all_segments")


def _strip_optimizer(model: keras.Model) -> keras.Model:
    """A copy without optimizer state (a third of the file size) for shipping."""
    bare = keras.models.clone_model(model)
    bare.set_weights(model.get_weights())
    return bare


def _data_description(store: FeatureStore) -> dict:
    splits = store.index["split"].value_counts().to_dict()
    described = ", ".join(f"{k}={v}" for k, v in sorted(store.meta.items())
                          if k in ("preset", "sources", "soundfonts") and isinstance(v, (str, int, list)))
    return {"store": str(store.path), "n_train": int(splits.get("train", 0)),
            "n_valid": int(splits.get("valid", 0)), "n_test": int(splits.get("test", 0)),
            "description": store.meta.get("description", described)}


def model_card(result: TrainResult, *, store: FeatureStore, command: str, name: str,
               config: TrainConfig | None = None, heldout: FeatureStore | None = None) -> dict:
    """The card of a trained model as a JSON-ready dict (scores the held-out store if given)."""
    card = {
        "name": name,
        "builder": result.builder,
        "classes": result.classes,
        "hyperparameters": result.hp,
        "seed": config.seed if config else None,
        "train_config": config.to_dict() if config else None,
        "command": command,
        "audio_settings": result.settings.to_dict(),
        "data": _data_description(store),
        "test": {k: result.test_eval[k] for k in _TEST_KEYS},
        "best_epoch": result.best_epoch,
        "epochs_run": int(len(result.history)),
        "train_seconds": round(result.seconds, 1),
        "n_parameters": int(result.model.count_params()),
        "input": "log-mel dB, shape (batch, n_mels, frames, 1); any number of frames",
    }
    if heldout is not None:
        held = evaluate(result.model, heldout, settings=result.settings, classes=result.classes, split=None,
                        min_audio_fraction=config.min_audio_fraction if config else 0.0)
        card["heldout"] = {"store": str(heldout.path), **held}
    return card


def _scores_in_words(scores: dict) -> str:
    """The note-vote and every-segment accuracies of an :func:`evaluate` result, in words."""
    if "all_segments" not in scores:
        return ""
    frac = scores.get("min_audio_fraction", 0.0)
    scope = f"segments with at least {frac:.0%} real note" if frac > 0 else "every segment"
    return (f"scored on {scope}. Note-level vote: {scores['note_accuracy']:.3f} over {scores['n_notes']} notes; "
            f"every segment, padding-dominated tails included: {scores['all_segments']['accuracy']:.3f} "
            f"({scores['all_segments']['n']} segments)")


def _heldout_line(card: dict) -> str:
    held = card.get("heldout")
    if not held:
        return "not measured (no held-out store given)"
    return (f"**{held['accuracy']:.3f}** on {held['n']} segments from `{held['store']}` "
            f"({held['skipped']} segments of families the model does not know were skipped); "
            f"{_scores_in_words(held)}")


def _table(header: tuple[str, str], rows) -> str:
    lines = [f"| {header[0]} | {header[1]} |", "|---|---|"]
    return "\n".join(lines + [f"| {k} | {v} |" for k, v in rows])


def card_markdown(card: dict) -> str:
    """Render a card (from :func:`model_card`) as Markdown."""
    test, data = card["test"], card["data"]
    summary = [
        f"- **Classes** ({len(card['classes'])}): {', '.join(card['classes'])}",
        f"- **Data**: `{data['store']}`: {data['n_train']} train / {data['n_valid']} valid / "
        f"{data['n_test']} test segments ({data['description']}); splits by source note.",
        f"- **Test accuracy** (held-out notes of the training SoundFonts): **{test['accuracy']:.3f}** "
        f"(loss {test['loss']:.3f}, {test['n']} segments); {_scores_in_words(test)}",
        f"- **Held-out SoundFont accuracy**: {_heldout_line(card)}",
        f"- **Best epoch**: {card['best_epoch']} of {card['epochs_run']}; "
        f"training time {card['train_seconds']:.0f} s",
        f"- **Seed**: {card['seed']}",
        f"- **Parameters**: {card['n_parameters']}",
    ]
    sections = [
        f"# Model card: {card['name']}",
        f"Instrument-family classifier ({card['builder']} builder) for Auditory DeepDreamer.",
        "\n".join(summary),
        f"Reproduce:\n\n```\n{card['command']}\n```",
        "## Per-family test accuracy\n\n" + _table(
            ("family", "accuracy"), ((k, f"{v:.3f}") for k, v in test["per_class_accuracy"].items())),
        "## Hyper-parameters\n\n" + _table(("name", "value"), sorted(card["hyperparameters"].items())),
        f"## Audio settings\n\n```\n{json.dumps(card['audio_settings'], indent=1)}\n```",
        "![confusion matrix](confusion.png)",
    ]
    return "\n\n".join(sections) + "\n"


def export_model(result: TrainResult, path, *, store: FeatureStore, command: str, name: str = "model",
                 config: TrainConfig | None = None, heldout: FeatureStore | None = None) -> dict:
    """Write a model directory: ``model.keras``, ``settings.json``, ``card.json``, ``card.md``
    and ``confusion.png``.

    Parameters
    ----------
    result : TrainResult
    path : path-like
        Model directory (created).
    store : FeatureStore
        The training store (described in the card).
    command : str
        The exact command that reproduces the model.
    name : str
        The model's name in the card.
    config : TrainConfig, optional
        The training configuration (seed, curation), recorded in the card.
    heldout : FeatureStore, optional
        A store rendered from a SoundFont left out of training; its accuracy goes in the card.

    Returns
    -------
    dict
        The model card.
    """
    path = Path(path)
    card = model_card(result, store=store, command=command, name=name, config=config, heldout=heldout)
    save_model_dir(_strip_optimizer(result.model), path, settings=result.settings, card=card)
    plot_confusion(card["test"]["confusion"], result.classes, path / "confusion.png",
                   title=f"{name}: test accuracy {card['test']['accuracy']:.3f}")
    write_text_atomic(path / "card.md", card_markdown(card))
    return card
