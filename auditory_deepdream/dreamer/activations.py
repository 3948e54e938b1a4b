"""The model side of dreaming: a Keras model wrapped to give activations and objective values.

:class:`Dreamer` turns an :class:`~auditory_deepdream.dreamer.objectives.Objective` into a
traceable function of the log-mel input, with a shortcut that makes auditioning every
filter of a layer cheap, and caches the compiled functions built on it (by
:mod:`~auditory_deepdream.dreamer.ascent` and :meth:`Dreamer.evaluate`).

:class:`Ensemble` is several models dreamed as one. A class dream climbed on one model
finds what *that* model takes for a flute; much of it is that model's own quirk. Climbing
the mean log-probability of several models trained apart keeps what they agree on, the way
an ensemble makes an adversarial example transfer. Layer and filter objectives read its
*lead* member (the first). An ensemble folder (:mod:`auditory_deepdream.models.ensembles`)
loads as an :class:`Ensemble` through :meth:`Dreamer.load`, so ``auditory-deepdream dream
--model FOLDER`` dreams with it.
"""

from __future__ import annotations

import os
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from .. import models
from ..errors import DreamError, ModelError, SettingsMismatchError
from ..graph_loop import compile_graph
from ..models.ensembles import member_folders, write_ensemble_file
from ..models.tag_names import tag_map
from ..settings import AudioSettings
from .objectives import LOGITS, Batched, FilterObjective, ModelInfo, Objective, crop_borders

__all__ = ["Dreamer", "Ensemble", "save_ensemble", "as_dreamer", "run_compiled"]

LOGIT_LAYERS = ("family", "tags")  # the pre-softmax (or pre-sigmoid) Dense layer, by the names builders give it


class Dreamer:
    """A model ready to dream: objective values as traceable functions, compiled once each.

    Parameters
    ----------
    model : keras.Model
        A model from :mod:`auditory_deepdream.models` (input ``(n_mels, None, 1)`` dB).
    settings : AudioSettings
        The settings the model was trained with.
    card : dict, optional
        Model card; its ``classes`` name the class logits.

    Attributes
    ----------
    info : ModelInfo
        The layers objectives may read, their filter counts, and the classes.
    """

    def __init__(self, model, *, settings: AudioSettings, card: dict | None = None):
        n_mels = model.inputs[0].shape[1]
        if n_mels != settings.n_mels:
            raise SettingsMismatchError(
                f"The model takes {n_mels} mel bands but the settings have n_mels={settings.n_mels}. "
                "Use the settings the model was trained with (its settings.json).")
        self.model = model
        self.settings = settings
        self.card = dict(card or {})
        table = models.list_layers(model)
        dense = [l for l in model.layers if type(l).__name__ == "Dense"]
        self._logit_layer = next((l for l in dense if l.name in LOGIT_LAYERS), dense[-1] if dense else None)
        n_classes = None if self._logit_layer is None else int(self._logit_layer.units)
        self.info = ModelInfo(dict(zip(table["name"], (int(f) for f in table["filters"]))) if len(table) else {},
                              n_classes, tuple(self.card.get("classes", ())))
        self._extractors: dict = {}
        self._compiled: dict = {}

    @classmethod
    def load(cls, name_or_path="default", *, settings: AudioSettings | None = None) -> Dreamer:
        """Load a model directory (or a bundled model by name) as a :class:`Dreamer`.

        A folder holding ``ensemble.json`` loads as an :class:`Ensemble`.
        """
        if str(name_or_path) in models.NAMED_ENSEMBLES and not Path(name_or_path).exists():
            names = models.NAMED_ENSEMBLES[str(name_or_path)]
            ensemble = Ensemble([cls.load(n, settings=settings) for n in names])
            ensemble.card = {**ensemble.card, "name": str(name_or_path), "members": list(names)}
            return ensemble
        if models.is_ensemble(name_or_path):
            ensemble = Ensemble.load(name_or_path)
            if settings is not None:
                ensemble.settings.check_compatible(settings, mine="model", theirs="audio settings")
            return ensemble
        model, model_settings, card = models.load_model(name_or_path, settings=settings)
        return cls(model, settings=model_settings, card=card)

    def check(self, objective: Objective) -> None:
        """Raise :class:`ModelError` unless ``objective`` fits this model."""
        if not isinstance(objective, Objective):
            raise ModelError(f"Expected an Objective, got {type(objective).__name__}; build one with "
                             "filter_objective, layer_objective or class_objective.")
        objective.validate(self.info)

    def compiled(self, key, build):
        """The compiled function cached under ``key``, built by ``build()`` on first use.

        Keys hold the objective, so each objective is traced once per use and reused after.
        """
        if key not in self._compiled:
            self._compiled[key] = build()
        return self._compiled[key]

    def evaluate(self, mel_db, objective: Objective) -> np.ndarray:
        """Objective values of spectrograms.

        Parameters
        ----------
        mel_db : np.ndarray [shape=(batch, n_mels, n_frames)]
        objective : Objective

        Returns
        -------
        values : np.ndarray [shape=(batch,)]
        """
        self.check(objective)

        def build():
            values = self.values(objective)
            spec = tf.TensorSpec([None, self.settings.n_mels, None], tf.float32)
            return compile_graph(input_signature=[spec])(lambda x: values(x[..., None]))

        fn = self.compiled(("evaluate", objective), build)
        return run_compiled(fn, np.asarray(mel_db, dtype=np.float32)).numpy()

    # ----------------------------------------------------------------- activations
    def activations(self, names: frozenset):
        """``x (batch, n_mels, frames, 1) -> {name: activation}`` for the layers ``names``.

        ``LOGITS`` gives the pre-softmax class logits (the output layer's input times its
        kernel, plus its bias).
        """
        if names not in self._extractors:
            outputs = {n: self.model.get_layer(n).output for n in names if n != LOGITS}
            if LOGITS in names:
                outputs[LOGITS] = self._logit_layer.input
            self._extractors[names] = keras.Model(self.model.inputs, outputs)
        extractor = self._extractors[names]
        layer = self._logit_layer

        def activations(x):
            acts = dict(extractor(x, training=False))
            if LOGITS in acts:
                acts[LOGITS] = tf.matmul(acts[LOGITS], layer.kernel) + layer.bias
            return acts

        return activations

    def values(self, objective: Objective):
        """``x (batch, n_mels, frames, 1) -> (batch,)`` objective values, as a traceable function.

        A :class:`Batched` objective whose items are all single filters of one
        ``Conv2D`` layer (auditioning a layer) takes a shortcut: the network runs up to
        that layer's input, and the layer itself computes only item *i*'s filter on item
        *i* (a depthwise convolution over the batch folded into channels) instead of all
        its filters on every item. The values are the same; a layer of ``F`` filters does
        ``F`` times less work in its last convolution, forward and backward.
        """
        per_item = self._per_item_filters(objective)
        if per_item is None:
            activations = self.activations(objective.layers())
            return lambda x: objective(activations(x))
        layer, index, crop = per_item
        key = ("input of", layer.name)
        if key not in self._extractors:
            self._extractors[key] = keras.Model(self.model.inputs, layer.input)
        before = self._extractors[key]
        index = tf.constant(index, tf.int32)
        strides = [1, *layer.strides, 1]
        padding = layer.padding.upper()
        dilations = list(layer.dilation_rate)

        def values(x):
            h = before(x, training=False)  # (batch, bands, frames, c_in)
            batch, c_in = tf.shape(h)[0], tf.shape(h)[3]
            folded = tf.reshape(tf.transpose(h, [1, 2, 0, 3]), [1, tf.shape(h)[1], tf.shape(h)[2], batch * c_in])
            kernel = tf.gather(layer.kernel, index, axis=3)  # (kh, kw, c_in, batch)
            kernel = tf.reshape(tf.transpose(kernel, [0, 1, 3, 2]),
                                [kernel.shape[0], kernel.shape[1], batch * c_in, 1])
            out = tf.nn.depthwise_conv2d(folded, kernel, strides=strides, padding=padding, dilations=dilations)
            out = tf.reshape(out, [tf.shape(out)[1], tf.shape(out)[2], batch, c_in])
            out = tf.transpose(tf.reduce_sum(out, axis=3), [2, 0, 1])  # (batch, bands', frames')
            if layer.use_bias:
                out = out + tf.gather(layer.bias, index)[:, None, None]
            out = layer.activation(out)
            return tf.reduce_mean(crop_borders(out[..., None], crop)[..., 0], axis=[1, 2])

        return values

    def _per_item_filters(self, objective: Objective):
        """``(layer, filter indices, crop)`` when ``objective`` auditions filters of one plain
        ``Conv2D`` layer item by item, else None."""
        if not isinstance(objective, Batched) or not objective.items:
            return None
        items = objective.items
        if not all(type(t) is FilterObjective for t in items):
            return None
        if len({t.layer for t in items}) != 1 or len({t.crop for t in items}) != 1:
            return None
        layer = self.model.get_layer(items[0].layer)
        if (type(layer).__name__ != "Conv2D" or getattr(layer, "groups", 1) != 1
                or getattr(layer, "data_format", "channels_last") != "channels_last"
                or len(layer._inbound_nodes) != 1):
            return None
        return layer, [t.index for t in items], items[0].crop


class Ensemble(Dreamer):
    """Models dreamed together: class objectives climb the members' mean log-probability.

    Taggers (cards whose ``kind`` is ``"tagger"``: one sigmoid per tag, e.g. ``vgg-mtt`` with
    ``musicnn-mtt``) climb their members' mean tag logit instead, since their tags are not
    exclusive and a log-softmax across them would mean nothing. Taggers of two vocabularies
    (``vgg-mtt`` with ``vgg-msd``, the named ensemble ``vgg-both``) answer in the lead's tags:
    each lead tag climbs the mean over the members that can name it, itself or through
    :func:`~auditory_deepdream.models.tag_names.tag_map` (``female vocal`` is MSD's
    ``female vocalists``; ``piano`` only the MTT member's).

    Parameters
    ----------
    members : sequence of Dreamer
        Two or more models with the same audio settings and the same kind (all classifiers
        or all taggers); classifiers with the same classes in the same order. The first is the *lead*: layer
        and filter objectives read its layers.

    Attributes
    ----------
    members : tuple of Dreamer

    Raises
    ------
    ModelError
        Fewer than two members, a member without class outputs, or members whose classes
        or kinds differ.
    SettingsMismatchError
        Members trained with different audio settings.
    """

    def __init__(self, members):
        members = tuple(members)
        if len(members) < 2:
            raise ModelError(f"An ensemble needs at least two models, got {len(members)}.")
        lead = members[0]
        kinds = {m.card.get("kind", "classifier") for m in members}
        if len(kinds) > 1:
            raise ModelError(f"The ensemble mixes {' and '.join(k + 's' for k in sorted(kinds))}; its members "
                             "must all be classifiers (softmax) or all taggers (sigmoid).")
        if lead.info.n_classes is None:
            raise ModelError("The ensemble's members have no class outputs to average.")
        self.taggers = kinds == {"tagger"}
        for m in members[1:]:
            lead.settings.check_compatible(m.settings, mine="lead member", theirs="member")
            same = m.info.n_classes == lead.info.n_classes and tuple(m.info.classes) == tuple(lead.info.classes)
            if not same and not self.taggers:
                raise ModelError(f"The ensemble's members have different classes: {list(lead.info.classes)} "
                                 f"and {list(m.info.classes)}; train them on the same store.")
        super().__init__(lead.model, settings=lead.settings, card=lead.card)
        self.members = members
        # taggers of two vocabularies (MTT and MSD): each member's logits carried into the lead's tags
        self.tag_maps = None
        if any(tuple(m.info.classes) != tuple(lead.info.classes) for m in members):
            self.tag_maps = [tag_map(lead.info.classes, m.info.classes) for m in members]

    @classmethod
    def load(cls, name_or_path) -> Ensemble:
        """Load an ensemble folder (or a bundled one by name); its own ``card.json`` if it has one."""
        ensemble = cls([Dreamer.load(folder) for folder in member_folders(name_or_path)])
        ensemble.card = models.read_card(models.model_dir(name_or_path)) or ensemble.card
        return ensemble

    def activations(self, names: frozenset):
        """As :meth:`Dreamer.activations`, with ``LOGITS`` the members' mean log-softmax (taggers:
        their mean logit)."""
        names = frozenset(names)
        lead_names = names - {LOGITS}
        lead = super().activations(lead_names) if lead_names else None
        if LOGITS not in names:
            return lead
        members = [m.activations(frozenset([LOGITS])) for m in self.members]
        norm = (lambda z: z) if self.taggers else tf.nn.log_softmax
        if self.tag_maps is None:
            def mean(x):
                return tf.add_n([norm(f(x)[LOGITS]) for f in members]) / len(members)
        else:  # each lead tag: the mean over the members that can name it
            maps = [tf.constant(w) for w in self.tag_maps]
            naming = tf.constant(np.maximum(sum((w.sum(axis=0) > 0).astype(np.float32) for w in self.tag_maps), 1))

            def mean(x):
                return tf.add_n([tf.matmul(f(x)[LOGITS], w) for f, w in zip(members, maps)]) / naming

        def activations(x):
            acts = dict(lead(x)) if lead is not None else {}
            acts[LOGITS] = mean(x)
            return acts

        return activations


def save_ensemble(folder, members: dict, *, note: str = "") -> Path:
    """Write an ensemble folder: each member's model folder plus :data:`ENSEMBLE_FILE`.

    Parameters
    ----------
    folder : path-like
    members : dict of str to Dreamer
        Member folder name to model, lead first.
    note : str
        Where the members come from (kept in the file).

    Returns
    -------
    Path
        ``folder``.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, d in members.items():
        models.save_model_dir(d.model, folder / name, settings=d.settings, card=d.card)
    write_ensemble_file(folder, list(members), note=note)
    return folder


def as_dreamer(model, settings: AudioSettings | None = None) -> Dreamer:
    """A :class:`Dreamer` from a Dreamer, a Keras model (with ``settings``) or a model name / folder.

    Raises
    ------
    SettingsMismatchError
        ``settings`` differ from the model's, or a Keras model comes without them.
    """
    if isinstance(model, Dreamer):
        dreamer = model
    elif isinstance(model, (str, os.PathLike)):
        dreamer = Dreamer.load(model)
    else:
        if settings is None:
            raise SettingsMismatchError("Pass settings= (the AudioSettings the model was trained with) "
                                        "together with a Keras model.")
        return Dreamer(model, settings=settings)
    if settings is not None:
        dreamer.settings.check_compatible(settings, mine="model", theirs="clip")
    return dreamer


def run_compiled(fn, *args, **kwargs):
    """Call a compiled function, turning TensorFlow runtime errors into a :class:`DreamError`."""
    try:
        return fn(*args, **kwargs)
    except (tf.errors.ResourceExhaustedError, MemoryError) as exc:
        raise DreamError("Out of memory while dreaming; pass a smaller block_frames or fewer "
                         f"filters at once ({type(exc).__name__}).") from None
    except tf.errors.OpError as exc:
        first = str(exc.message).strip().splitlines()[0] if exc.message else type(exc).__name__
        raise DreamError(f"TensorFlow could not run the dream: {first}") from None
