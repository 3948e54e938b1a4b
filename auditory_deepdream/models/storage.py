"""Model directories: where a trained model, its audio settings and its card live.

A *model directory* holds ``model.keras``, ``settings.json`` and ``card.json``;
:func:`save_model_dir` writes one and :func:`load_model` reads one by path, by the name
of a bundled model (``"default"``, ``"augmented"``), or as an ensemble folder
(:mod:`.ensembles`: the members' averaged probabilities as one model). The names of
musicnn's pre-trained taggers (``"musicnn-mtt"`` ...) load from :mod:`.musicnn`.
"""

from __future__ import annotations

from pathlib import Path

import keras

from ..atomic import save_keras_atomic, write_json_atomic
from ..errors import ModelError
from ..settings import AudioSettings
from . import builders  # noqa: F401  registers MeanOverTime with Keras before a model file loads
from .ensembles import average_models, is_ensemble, member_folders
from .musicnn import load_pretrained
from .paths import NAMED_ENSEMBLES, PRETRAINED, model_dir, read_card

__all__ = ["save_model_dir", "load_model", "layer_table"]


def save_model_dir(model: keras.Model, path, *, settings: AudioSettings, card: dict) -> Path:
    """Write ``model.keras``, ``settings.json`` and ``card.json`` into a model directory.

    ``card`` must include ``classes`` (family names in output order).
    """
    if "classes" not in card:
        raise ModelError("The model card needs 'classes' (family names in output order).")
    path = Path(path)
    card = {**card, "layers": card.get("layers") or layer_table(model)}
    save_keras_atomic(model, path / "model.keras")
    settings.save(path / "settings.json")
    write_json_atomic(path / "card.json", card)
    return path


def layer_table(model: keras.Model) -> list[dict]:
    """The layers a dream can target, as a card lists them: ``[{"name", "type", "filters", "bands"}, ...]``."""
    table = builders.list_layers(model)
    return table[["name", "type", "filters", "bands"]].to_dict("records") if len(table) else []


def load_model(name_or_path: str | Path = "default", *, settings: AudioSettings | None = None):
    """Load a model directory by path, or a bundled model by name.

    Parameters
    ----------
    name_or_path : str or path-like
        ``"default"`` (the bundled model), a model directory, a ``.keras`` file with a
        ``settings.json`` beside it, an ensemble folder (:mod:`auditory_deepdream.ensembles`:
        the model is then the members' averaged probabilities, the card the ensemble's), or
        a musicnn tagger's name (:data:`~auditory_deepdream.models.musicnn.PRETRAINED`:
        ``"musicnn-mtt"``, ``"musicnn-msd"``, ``"vgg-mtt"``, ``"vgg-msd"``; its card's
        ``kind`` is ``"tagger"``, sigmoid outputs).
    settings : AudioSettings, optional
        If given, must equal the model's settings (:class:`SettingsMismatchError`).

    Returns
    -------
    model : keras.Model
    model_settings : AudioSettings
    card : dict
        The model card (``classes``, data, accuracy ...).
    """
    if str(name_or_path) in PRETRAINED and not Path(name_or_path).exists():
        return load_pretrained(str(name_or_path), settings=settings)
    if str(name_or_path) in NAMED_ENSEMBLES and not Path(name_or_path).exists():
        members = NAMED_ENSEMBLES[str(name_or_path)]
        raise ModelError(f"{name_or_path!r} dreams as one ({' + '.join(members)}: dream --model {name_or_path}); "
                         f"to classify or list layers, name one of its members ({', '.join(members)}).")
    if is_ensemble(name_or_path):
        return _load_ensemble(name_or_path, settings=settings)
    path = model_dir(name_or_path)
    if path.is_file() and path.suffix == ".keras":
        model_file, folder = path, path.parent
    else:
        model_file, folder = path / "model.keras", path
    if not model_file.is_file():
        raise ModelError(
            f"No model at {name_or_path!r}. Pass 'default' for the bundled model, a model "
            "directory (model.keras + settings.json + card.json) or a .keras file.")
    model_settings = AudioSettings.load(folder / "settings.json")
    if settings is not None:
        model_settings.check_compatible(settings, mine="model", theirs="audio settings")
    card = read_card(folder) or {}
    model = keras.models.load_model(model_file, compile=False)
    return model, model_settings, card


def _load_ensemble(name_or_path, *, settings: AudioSettings | None):
    """:func:`load_model` of an ensemble folder: the averaged model, the lead's settings, a card."""
    folders = member_folders(name_or_path)
    loaded = [load_model(folder, settings=settings) for folder in folders]
    lead_settings, lead_card = loaded[0][1], loaded[0][2]
    for folder, (_, member_settings, member_card) in zip(folders[1:], loaded[1:]):
        lead_settings.check_compatible(member_settings, mine="lead member", theirs=f"member {folder.name}")
        if list(member_card.get("classes", [])) != list(lead_card.get("classes", [])):
            raise ModelError(f"Ensemble member {folder.name} has classes {member_card.get('classes')}, the lead "
                             f"{lead_card.get('classes')}; members must be trained on the same families.")
    card = read_card(model_dir(name_or_path)) or dict(lead_card)
    name = str(card.get("name") or "ensemble")
    return average_models([m for m, _, _ in loaded], name=name), lead_settings, card
