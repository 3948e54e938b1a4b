"""Several trained models answering as one: the folder they are kept in and the averaged model.

Models trained apart (other seeds, builders or data) make partly different mistakes, so
the normalised geometric mean of their probabilities (the softmax of their mean
log-probability) is a better classifier than a typical member. An *ensemble folder* holds

* ``ensemble.json``: ``{"members": [member folder, ...], "note": ...}``, paths relative
  to the folder, the *lead* member first;
* one model directory per member (``model.keras``, ``settings.json``, ``card.json``);
* optionally the ensemble's own ``card.json`` (its scores, its members), which
  :func:`auditory_deepdream.models.load_model` returns in place of the lead's.

:func:`auditory_deepdream.models.load_model` of an ensemble folder gives one Keras model
(:func:`average_models`) whose output is the averaged probabilities, so
:func:`~auditory_deepdream.classify.classify`, :func:`~auditory_deepdream.training.evaluate`
and the CLI use an ensemble as they use one model.
:meth:`Dreamer.load <auditory_deepdream.dreamer.Dreamer.load>` gives an
:class:`~auditory_deepdream.dreamer.Ensemble`, whose layers are the lead's.
"""

from __future__ import annotations

import json
from pathlib import Path

import keras

from ..atomic import write_json_atomic
from ..errors import ModelError
from .paths import model_dir

__all__ = ["ENSEMBLE_FILE", "LOG_FLOOR", "MeanLogProbability", "average_models", "is_ensemble", "member_folders",
           "write_ensemble_file"]

ENSEMBLE_FILE = "ensemble.json"
LOG_FLOOR = 1e-7  # a segment sure a family is absent costs the vote log(1e-7), not -inf


def is_ensemble(name_or_path) -> bool:
    """Whether ``name_or_path`` (a folder or bundled name) holds an :data:`ENSEMBLE_FILE`."""
    return (model_dir(name_or_path) / ENSEMBLE_FILE).is_file()


def member_folders(name_or_path) -> list[Path]:
    """The member model directories an ensemble folder names, lead first.

    Raises
    ------
    ModelError
        No :data:`ENSEMBLE_FILE`, an unreadable one, fewer than two members, or a member
        folder that is missing.
    """
    folder = model_dir(name_or_path)
    spec_file = folder / ENSEMBLE_FILE
    if not spec_file.is_file():
        raise ModelError(f"No ensemble at {str(name_or_path)!r}: {spec_file} is missing. An ensemble folder "
                         f"holds {ENSEMBLE_FILE} naming its member model folders.")
    try:
        spec = json.loads(spec_file.read_text())
        names = [str(n) for n in spec["members"]]
    except (json.JSONDecodeError, KeyError, TypeError) as exc:
        raise ModelError(f"{spec_file} is not a valid ensemble file ({exc}); it should be "
                         '{"members": ["member folder", ...]}.') from None
    if len(names) < 2:
        raise ModelError(f"{spec_file} names {len(names)} member(s); an ensemble needs at least two.")
    missing = [n for n in names if not (folder / n / "model.keras").is_file()]
    if missing:
        raise ModelError(f"{spec_file} names member folder(s) {missing} without a model.keras; "
                         "restore them or rewrite the ensemble with dreamer.save_ensemble.")
    return [folder / n for n in names]


def write_ensemble_file(folder, members, *, note: str = "") -> Path:
    """Write ``folder/ensemble.json`` (atomically) naming ``members``, lead first."""
    path = Path(folder) / ENSEMBLE_FILE
    write_json_atomic(path, {"members": [str(m) for m in members], "note": note})
    return path


@keras.saving.register_keras_serializable(package="auditory_deepdream")
class MeanLogProbability(keras.layers.Layer):
    """Softmax of the members' mean log-probability: their normalised geometric mean.

    Input: a list of ``(batch, n_classes)`` probabilities; output ``(batch, n_classes)``.
    """

    def call(self, probs):  # the floor is classify's: a member sure a family is absent costs log(1e-7)
        total = 0.0
        for p in probs:
            total = total + keras.ops.log(keras.ops.clip(p, LOG_FLOOR, 1.0))
        return keras.ops.softmax(total / len(probs), axis=-1)

    def compute_output_shape(self, input_shape):
        return input_shape[0]


def average_models(members, *, name: str = "ensemble") -> keras.Model:
    """One Keras model whose output is the members' averaged probabilities.

    Parameters
    ----------
    members : sequence of keras.Model
        Two or more models with the same input (``(batch, n_mels, frames, 1)`` log-mel
        dB) and ``(batch, n_classes)`` probability outputs, classes in the same order.
    name : str

    Returns
    -------
    keras.Model
        Input ``(batch, n_mels, frames, 1)``; output ``(batch, n_classes)``, the softmax
        of the members' mean log-probability (:class:`MeanLogProbability`). The members
        are nested as ``member_0``, ``member_1`` ...

    Raises
    ------
    ModelError
        Fewer than two members, or members whose inputs or outputs differ in shape.
    """
    members = list(members)
    if len(members) < 2:
        raise ModelError(f"An ensemble needs at least two models, got {len(members)}.")
    in_shape = tuple(members[0].inputs[0].shape[1:])
    out_shape = tuple(members[0].outputs[0].shape[1:])
    for i, m in enumerate(members[1:], start=1):
        if tuple(m.inputs[0].shape[1:]) != in_shape or tuple(m.outputs[0].shape[1:]) != out_shape:
            raise ModelError(f"Ensemble member {i} takes {tuple(m.inputs[0].shape[1:])} and gives "
                             f"{tuple(m.outputs[0].shape[1:])}, the lead {in_shape} and {out_shape}; "
                             "members must share the audio settings and the classes.")
    inp = keras.Input(shape=in_shape, name="mel_db")
    outs = []
    for i, m in enumerate(members):
        m.name = f"member_{i}"  # nested models need unique names; the members' own are all the builder's
        outs.append(m(inp))
    return keras.Model(inp, MeanLogProbability(name="family_mean")(outs), name=name)
