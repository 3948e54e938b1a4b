"""The model card: what a trained model is, what it was trained on, how well it does.

:func:`export_model` writes a model directory (``model.keras``, ``settings.json``,
``card.json``, ``card.md``, ``confusion.png``); :func:`model_card` builds the card's
dict and :func:`card_markdown` renders it for people.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras
import pandas as pd

from ..atomic import write_text_atomic
from ..dataset import FeatureStore
from ..dataset.readers import sample_family, sample_instrument
from ..generator import augmentation_kind
from ..models import save_model_dir
from ..models.storage import layer_table
from .config import TrainConfig, TrainResult
from .evaluate import evaluate, plot_confusion

__all__ = ["export_model", "model_card", "card_markdown"]

_TEST_KEYS = ("loss", "accuracy", "n", "per_class_accuracy", "confusion", "note_accuracy", "n_notes",
              "per_class_note_accuracy", "min_audio_fraction", "all_segments")


def _strip_optimizer(model: keras.Model) -> keras.Model:
    """A copy without optimizer state (a third of the file size) for shipping."""
    bare = keras.models.clone_model(model)
    bare.set_weights(model.get_weights())
    return bare


def _data_description(store: FeatureStore) -> dict:
    splits = store.index["split"].value_counts().to_dict()
    described = ", ".join(f"{k}={v}" for k, v in sorted(store.meta.items())
                          if k in ("preset", "sources", "soundfonts") and isinstance(v, (str, int, list)))
    described = store.meta.get("description", described)
    if store.meta.get("preset") == "small":
        described += " (the 'small' preset is a smoke test of the pipeline: this model is not meant to classify)"
    return {"store": str(store.path), "n_train": int(splits.get("train", 0)),
            "n_valid": int(splits.get("valid", 0)), "n_test": int(splits.get("test", 0)),
            "description": described}


def _training_data(store: FeatureStore, config: TrainConfig | None) -> dict:
    """Where the training notes came from and how they were augmented (from the store's meta)."""
    meta = store.meta
    render = meta.get("render") or {}
    train_rows = store.index[store.index["split"] == "train"]
    kinds = augmentation_kind(train_rows).value_counts().to_dict()
    fit_aug = config.mel_augment() if config is not None else None
    return {
        "soundfonts": meta.get("training_soundfonts"),
        "sample_folders": _sample_folders(meta, train_rows),
        "renderer": render.get("renderer", "tinysoundfont") if render else None,
        "velocities": (f"{render['velocity_draws']} per pitch drawn across {render['velocity_range']}"
                       if render.get("velocity_range") else render.get("velocities")),
        "pitch_step": render.get("pitch_step"),
        "recording_augmentation": (meta.get("config") or {}).get("recording"),
        "train_segments_by_augmentation": {k: int(v) for k, v in kinds.items()},
        "fit_time_augmentation": fit_aug.to_dict() if fit_aug is not None else None,
        "trained_on": list(config.store_augmentations) if config and config.store_augmentations else "all",
    }


def _sample_folders(meta: dict, train_rows) -> list[dict]:
    """The folders of recorded notes the store read (``samples:<family>`` sources), with their training segments."""
    from_samples = train_rows[train_rows["source"] == "samples"] if "source" in train_rows else train_rows.iloc[:0]
    instruments = from_samples.get("instrument", pd.Series(dtype=object))
    out = []
    for src in meta.get("sources") or []:
        family = sample_family(src.get("kind", ""))
        if family is not None:  # read_samples named the folder's notes sample_instrument(folder)
            out.append({"family": family, "path": str(src.get("path")),
                        "train_segments": int((instruments == sample_instrument(src.get("path"))).sum())})
    return out


def model_card(result: TrainResult, *, store: FeatureStore, command: str, name: str,
               config: TrainConfig | None = None, heldout: FeatureStore | None = None,
               selection: dict | None = None) -> dict:
    """The card of a trained model as a JSON-ready dict (scores the held-out store if given).

    ``selection`` may hold ``ablation`` and ``search``: the JSON results of
    the model-selection results in ``benchmarks/results/`` (how the augmentation and the model were chosen; ``benchmarks/README.md`` names the command).
    """
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
        "layers": layer_table(result.model),
        "input": "log-mel dB, shape (batch, n_mels, frames, 1); any number of frames",
        "training_data": _training_data(store, config),
    }
    for key in ("ablation", "search"):
        if selection and selection.get(key):
            card[key] = selection[key]
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


def _three_scores(card: dict) -> str:
    rows = [("test (held-out notes of the training SoundFonts)", card["test"])]
    if card.get("heldout"):
        rows.append((f"held-out SoundFont (`{card['heldout']['store']}`)", card["heldout"]))
    lines = ["| scored on | segments (>= 50% note) | note vote | every segment |", "|---|---|---|---|"]
    lines += [f"| {label} | {s['accuracy']:.3f} ({s['n']}) | {s['note_accuracy']:.3f} ({s['n_notes']}) | "
              f"{s['all_segments']['accuracy']:.3f} ({s['all_segments']['n']}) |" for label, s in rows]
    return "\n".join(lines)


def _per_family(card: dict) -> str:
    test, held = card["test"], card.get("heldout")
    header = "| family | test segments | test notes |" + (" held-out segments | held-out notes |" if held else "")
    lines = [header, "|---|---|---|" + ("---|---|" if held else "")]

    def cell(scores, key, family):
        value = (scores or {}).get(key, {}).get(family)
        return "" if value is None else f"{value:.3f}"

    for family in card["classes"]:
        row = (f"| {family} | {cell(test, 'per_class_accuracy', family)} | "
               f"{cell(test, 'per_class_note_accuracy', family)} |")
        if held:
            row += f" {cell(held, 'per_class_accuracy', family)} | {cell(held, 'per_class_note_accuracy', family)} |"
        lines.append(row)
    return "\n".join(lines)


def _training_section(card: dict) -> str:
    data = card.get("training_data") or {}
    rec = data.get("recording_augmentation")
    fit = data.get("fit_time_augmentation")
    lines = [
        f"- **SoundFonts**: {', '.join(data.get('soundfonts') or []) or 'see the store'}"
        f" (renderer {data.get('renderer') or 'n/a'}; velocities: {data.get('velocities')}; "
        f"every {data.get('pitch_step')} semitone(s))",
        *_sample_folder_lines(data.get("sample_folders") or []),
        "- **Recording augmentation** (stored copies, training split only): "
        + (f"{rec['copies']} copies per note at strength {rec['strength']} (pedalboard: EQ, reverb, compression, "
           "chorus, saturation, pitch in cents, gain)" if rec and rec.get("copies") else "none"),
        f"- **Training segments by kind**: {data.get('train_segments_by_augmentation')}; trained on: "
        f"{data.get('trained_on')}",
        "- **Fit-time augmentation**: " + (
            f"strength {fit['strength']:.3g} times these ranges: level {fit['gain_db']} dB, "
            f"tilt +-{fit['tilt_db']} dB, noise {fit['snr_db']} dB below the peak on {fit['noise_prob']:.0%} of "
            f"samples, {fit['freq_masks']} band and {fit['time_masks']} frame masks" if fit else "none"),
    ]
    return "## Training data and augmentation\n\n" + "\n".join(lines)


def _sample_folder_lines(folders: list[dict]) -> list[str]:
    """The card's lines for recorded sample folders: one per family, each folder with its training segments."""
    if not folders:
        return []
    families: dict[str, list[str]] = {}
    for f in folders:
        families.setdefault(f["family"], []).append(f"`{f['path']}` ({f['train_segments']})")
    total = sum(f["train_segments"] for f in folders)
    return [f"- **Sample folders** ({len(folders)}, {total} training segments, recording copies included):",
            *[f"  - {family}: {', '.join(items)}" for family, items in families.items()]]


def _weakest(left: dict) -> tuple[str, float]:
    """The family with the lowest note-vote accuracy in an :func:`evaluate` summary, and that accuracy."""
    return min(left["per_class_note_accuracy"].items(), key=lambda kv: kv[1])


def _selection_section(card: dict) -> str:
    parts = []
    ablation = card.get("ablation")
    if ablation:
        budget = ablation.get("budget", {})
        lines = [f"Each arm trains the same model ({ablation.get('model', ['?'])[0]}) on every training SoundFont but "
                 f"`{ablation.get('fold')}` for {budget.get('epochs')} balanced epochs of "
                 f"{budget.get('samples_per_family')} segments per family and is scored on every note of "
                 f"`{ablation.get('fold')}`.", "",
                 "| arm | stored segments trained on | fit-time | left-out segments | left-out note vote | "
                 "weakest family (notes) |",
                 "|---|---|---|---|---|---|"]
        for arm, r in ablation["arms"].items():
            left = r["left_out"]
            weak = _weakest(left)
            stored = r["store_augmentations"]
            stored = " + ".join(stored) if isinstance(stored, list) else "all, recording copies included"
            fit = {True: "on", False: "off"}.get(r["fit_time_augmentation"], r["fit_time_augmentation"])
            lines.append(f"| {arm} | {stored} | {fit} | "
                         f"{left['accuracy']:.3f} | {left['note_accuracy']:.3f} | {weak[0]} {weak[1]:.2f} |")
        parts.append("## Augmentation ablation\n\n" + "\n".join(lines))
    search = card.get("search")
    if search:
        budget = search.get("budget", {})
        lines = [f"The project's Bayesian search, scored on every note of `{search.get('fold')}` (left out of "
                 f"training), each trial trained for {budget.get('epochs')} balanced epochs of "
                 f"{budget.get('samples_per_family')} segments per family.", "",
                 "| builder | trials | best left-out accuracy | its hyper-parameters |", "|---|---|---|---|"]
        for builder, r in search["searches"].items():
            best = max(r["trials"], key=lambda t: t["accuracy"])
            keys = [k.removeprefix("log10_") for k in r["bounds"]]
            hp = ", ".join(f"{k}={best[k]:.3g}" if isinstance(best[k], float) else f"{k}={best[k]}"
                           for k in keys if k in best)
            lines.append(f"| {builder} | {len(r['trials'])} | {best['accuracy']:.3f} | {hp} |")
        parts.append("## How the model was chosen\n\n" + "\n".join(lines))
    return "\n\n".join(parts)


def _score(value) -> str:
    return "" if value is None else f"{value:.3f}"


def _members_section(card: dict) -> str:
    """An ensemble's members: seed, epochs, time, each one's own scores, the command that trained it."""
    ensemble = card.get("ensemble")
    if not ensemble:
        return ""
    lines = ["| member | seed | best epoch | training time | test note vote | held-out segments | "
             "held-out note vote |", "|---|---|---|---|---|---|---|"]
    for m in ensemble["members"]:
        lines.append(f"| {m['folder']} | {m['seed']} | {m['best_epoch']} of {m['epochs_run']} | "
                     f"{m['train_seconds'] or 0:.0f} s | {_score(m['test_note_accuracy'])} | "
                     f"{_score(m['heldout_accuracy'])} | {_score(m['heldout_note_accuracy'])} |")
    commands = "\n".join(m["command"] for m in ensemble["members"] if m.get("command"))
    return (f"## Members\n\nThe card's scores are those of the average ({ensemble['combine']}); each member "
            "alone scores:\n\n" + "\n".join(lines) + f"\n\nThe members were trained with:\n\n```\n{commands}\n```")


def _ensemble_selection_section(card: dict) -> str:
    """Why average: seeds of the recipe alone and averaged, on a SoundFont left out of training."""
    sel = card.get("ensemble_selection")
    if not sel:
        return ""
    budget = sel.get("budget", {})
    lines = [f"Seeds of this recipe trained on every training source but `{sel.get('fold')}` for "
             f"{budget.get('epochs')} balanced epochs of {budget.get('samples_per_family')} segments per family, "
             f"scored on every note of `{sel.get('fold')}`, alone and averaged.", "",
             "| model | left-out segments | left-out note vote | weakest family (notes) |", "|---|---|---|---|"]
    rows = [(f"seed {v['seed']} alone", v["left_out"]) for v in sel["singles"].values()]
    rows += [(f"average of {v['members']} ({k})", v["left_out"]) for k, v in sel["ensembles"].items()]
    for label, left in rows:
        weak = _weakest(left)
        lines.append(f"| {label} | {left['accuracy']:.3f} | {left['note_accuracy']:.3f} | {weak[0]} {weak[1]:.2f} |")
    return "## Why several models\n\n" + "\n".join(lines)


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
        *([f"- **Members**: {len(card['ensemble']['members'])} models of one recipe, averaged "
           f"({card['ensemble']['combine']}); see below"] if card.get("ensemble") else
          [f"- **Best epoch**: {card['best_epoch']} of {card['epochs_run']}; "
           f"training time {card['train_seconds']:.0f} s", f"- **Seed**: {card['seed']}"]),
        f"- **Parameters**: {card['n_parameters']}",
    ]
    kind = "an ensemble of " if card.get("ensemble") else ""
    sections = [
        f"# Model card: {card['name']}",
        f"Instrument-family classifier ({kind}{card['builder']} builder) for Auditory DeepDreamer.",
        "\n".join(summary),
        f"Reproduce:\n\n```\n{card['command']}\n```",
        "## Scores\n\n" + _three_scores(card),
        "## Per-family accuracy\n\n" + _per_family(card),
        _members_section(card),
        _training_section(card),
        _selection_section(card),
        _ensemble_selection_section(card),
        "## Hyper-parameters\n\n" + _table(("name", "value"), sorted(card["hyperparameters"].items())),
        f"## Audio settings\n\n```\n{json.dumps(card['audio_settings'], indent=1)}\n```",
        "![confusion matrix](confusion.png)",
    ]
    return "\n\n".join(section for section in sections if section) + "\n"


def export_model(result: TrainResult, path, *, store: FeatureStore, command: str, name: str = "model",
                 config: TrainConfig | None = None, heldout: FeatureStore | None = None,
                 selection: dict | None = None) -> dict:
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
    selection : dict, optional
        ``{'ablation': ..., 'search': ...}``, the results recorded in ``benchmarks/results/augmentation_ablation.json`` and ``model_search.json``.

    Returns
    -------
    dict
        The model card.
    """
    path = Path(path)
    card = model_card(result, store=store, command=command, name=name, config=config, heldout=heldout,
                      selection=selection)
    save_model_dir(_strip_optimizer(result.model), path, settings=result.settings, card=card)
    plot_confusion(card["test"]["confusion"], result.classes, path / "confusion.png",
                   title=f"{name}: test accuracy {card['test']['accuracy']:.3f}")
    write_text_atomic(path / "card.md", card_markdown(card))
    return card
