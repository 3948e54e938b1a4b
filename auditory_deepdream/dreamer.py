"""Dreaming: objectives, gradient ascent on the log-mel input, and sonification.

A dream is *encode → ascend → sonify*, each a function of its own:

1. :func:`auditory_deepdream.audio.encode` turns the clip into a log-mel spectrogram (dB);
2. :meth:`Dreamer.ascend` changes that spectrogram by normalised gradient ascent on an
   :class:`Objective` (compiled with ``tf.function``; batched, multi-scale, jittered);
3. :func:`sonify` turns the change back into sound, either as a gain on the original
   STFT (``phase='original'``: zero steps give back the input exactly) or with
   Griffin-Lim (``phase='griffin-lim'``, the dissertation's path). A third path,
   ``phase='waveform'`` (:meth:`Dreamer.ascend_waveform`), ascends on the samples
   themselves through the TensorFlow twin of the encoder and needs no sonification.

Objectives follow Lucid's ``objectives.py``: small objects that read a dict of layer
activations and return one value per batch item. They combine with ``+``, ``-`` and
scalar ``*``, and :class:`Batched` applies objective *i* to batch item *i*, so
auditioning every filter of a layer is one batched run. Adding an objective never
touches the optimiser.

:func:`dream` is the one-call entry point; :func:`amplify_filter`, :func:`dream_layer`
and :func:`audition_layer` are the common recipes. Every result carries a *survival*
measure: the output audio is re-encoded and the objective evaluated again, so you see
how much of the activation gain the listener actually gets.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import tensorflow as tf

from . import audio
from .errors import AudioInputError, DreamError, ModelError, SettingsMismatchError
from .settings import AudioSettings

__all__ = [
    "Objective",
    "FilterObjective",
    "LayerObjective",
    "ClassLogit",
    "Batched",
    "Sum",
    "Scaled",
    "ModelInfo",
    "filter_objective",
    "layer_objective",
    "layers_objective",
    "class_objective",
    "audition_objective",
    "make_objective",
    "OBJECTIVE_KINDS",
    "PHASES",
    "Dreamer",
    "DreamResult",
    "dream",
    "amplify_filter",
    "dream_layer",
    "audition_layer",
    "mel_gain_to_stft_db",
    "sonify",
    "griffin_lim",
    "match_loudness",
    "soft_limit",
    "crossover_weights",
    "dream_full_rate",
    "dream_file",
]

LOGITS = "family:logits"  # activation key of the pre-softmax class logits
PHASES = ("original", "griffin-lim", "waveform")
_MEL_PHASES = ("original", "griffin-lim")
OBJECTIVE_KINDS = ("filter", "layer", "class")
_EPS = 1e-8


# ============================================================================ objectives
class Objective:
    """Something to maximise: maps layer activations to one value per batch item.

    Subclasses implement :meth:`layers` (the activation keys they read),
    :meth:`__call__` and :meth:`validate`. Objectives are immutable and hashable, so
    the compiled ascent for an objective is built once and reused.
    """

    def layers(self) -> frozenset:
        """Names of the layers (activation keys) this objective reads."""
        raise NotImplementedError

    def __call__(self, acts: dict) -> tf.Tensor:
        """Evaluate on ``acts`` (``{name: (batch, bands, frames, channels)}``) -> ``(batch,)``."""
        raise NotImplementedError

    def validate(self, info: "ModelInfo") -> None:
        """Raise :class:`ModelError` if the objective does not fit the model."""
        raise NotImplementedError

    def __add__(self, other):
        if not isinstance(other, Objective):
            return NotImplemented
        return Sum((self, other))

    def __sub__(self, other):
        if not isinstance(other, Objective):
            return NotImplemented
        return Sum((self, Scaled(other, -1.0)))

    def __neg__(self):
        return Scaled(self, -1.0)

    def __mul__(self, weight):
        if isinstance(weight, Objective) or not np.isscalar(weight):
            return NotImplemented
        return Scaled(self, float(weight))

    __rmul__ = __mul__


def _crop(a, crop: int):
    """Drop ``crop`` bands and frames at every border (keeping at least one of each)."""
    if crop <= 0:
        return a
    bands = a.shape[1]
    cb = min(crop, (bands - 1) // 2) if bands is not None else crop
    frames = tf.shape(a)[2]
    ct = tf.minimum(crop, (frames - 1) // 2)
    return a[:, cb:(bands - cb if bands is not None else None), ct:frames - ct]


@dataclass(frozen=True)
class FilterObjective(Objective):
    """Mean activation of one filter (channel) of a layer.

    Parameters
    ----------
    layer : str
        Layer name (see :func:`auditory_deepdream.models.list_layers`).
    index : int
        Filter (channel) index.
    crop : int
        Bands and frames ignored at each border, where zero padding dominates.
    """

    layer: str
    index: int
    crop: int = 0

    def layers(self):
        return frozenset([self.layer])

    def __call__(self, acts):
        return tf.reduce_mean(_crop(acts[self.layer], self.crop)[..., self.index], axis=[1, 2])

    def validate(self, info):
        n = info.filters(self.layer)
        if not 0 <= self.index < n:
            raise ModelError(f"Filter index {self.index} is out of range for layer {self.layer!r}, "
                             f"which has {n} filters (0..{n - 1}).")

    def __str__(self):
        return f"{self.layer}[{self.index}]"


@dataclass(frozen=True)
class LayerObjective(Objective):
    """DeepDream on one layer: the sum over filters of each filter's mean activation."""

    layer: str
    crop: int = 0

    def layers(self):
        return frozenset([self.layer])

    def __call__(self, acts):
        return tf.reduce_sum(tf.reduce_mean(_crop(acts[self.layer], self.crop), axis=[1, 2]), axis=-1)

    def validate(self, info):
        info.filters(self.layer)

    def __str__(self):
        return self.layer


@dataclass(frozen=True)
class ClassLogit(Objective):
    """Pre-softmax logit of one class of the ``family`` output layer (push toward a family)."""

    index: int
    label: str | None = None

    def layers(self):
        return frozenset([LOGITS])

    def __call__(self, acts):
        return acts[LOGITS][:, self.index]

    def validate(self, info):
        if info.n_classes is None:
            raise ModelError("This model has no Dense output layer, so it has no class logits; "
                             "use a filter or layer objective.")
        if not 0 <= self.index < info.n_classes:
            raise ModelError(f"Class index {self.index} is out of range; the model has "
                             f"{info.n_classes} classes (0..{info.n_classes - 1}).")

    def __str__(self):
        return f"class {self.label or self.index}"


@dataclass(frozen=True)
class Sum(Objective):
    """Sum of objectives (built by ``+`` and ``-``)."""

    terms: tuple

    def layers(self):
        return frozenset().union(*(t.layers() for t in self.terms))

    def __call__(self, acts):
        return tf.add_n([t(acts) for t in self.terms])

    def validate(self, info):
        for t in self.terms:
            t.validate(info)

    def __str__(self):
        return " + ".join(str(t) for t in self.terms)


@dataclass(frozen=True)
class Scaled(Objective):
    """An objective times a constant (built by scalar ``*`` and negation)."""

    term: Objective
    weight: float

    def layers(self):
        return self.term.layers()

    def __call__(self, acts):
        return self.weight * self.term(acts)

    def validate(self, info):
        self.term.validate(info)

    def __str__(self):
        return f"-({self.term})" if self.weight == -1.0 else f"{self.weight:g}*({self.term})"


@dataclass(frozen=True)
class Batched(Objective):
    """Objective *i* on batch item *i*: many objectives in one batched ascent.

    The batch must hold exactly ``len(items)`` items (see :meth:`Dreamer.ascend`, which
    tiles a single clip to that size).
    """

    items: tuple

    def layers(self):
        return frozenset().union(*(t.layers() for t in self.items))

    def __call__(self, acts):
        # one split per layer (its gradient is a concat) instead of a slice per item,
        # whose gradients would each be padded to the whole batch
        parts = {k: tf.split(v, len(self.items), axis=0) for k, v in acts.items()}
        return tf.concat([obj({k: p[i] for k, p in parts.items()})
                          for i, obj in enumerate(self.items)], axis=0)

    def validate(self, info):
        if not self.items:
            raise ModelError("A batched objective needs at least one item.")
        for t in self.items:
            t.validate(info)

    def __len__(self):
        return len(self.items)

    def __str__(self):
        return f"batch of {len(self.items)}"


def filter_objective(layer: str, index: int, *, crop: int = 0) -> FilterObjective:
    """Mean activation of filter ``index`` of ``layer`` (see :class:`FilterObjective`)."""
    return FilterObjective(layer, int(index), int(crop))


def layer_objective(layer: str, *, crop: int = 0) -> LayerObjective:
    """DeepDream objective of one layer (see :class:`LayerObjective`)."""
    return LayerObjective(layer, int(crop))


def layers_objective(weights: dict, *, crop: int = 0) -> Objective:
    """Weighted sum of layer objectives, e.g. ``{'stage2_conv1': 1.0, 'stage3_conv1': 0.5}``."""
    if not weights:
        raise ModelError("layers_objective needs at least one layer name.")
    return Sum(tuple(float(w) * LayerObjective(name, int(crop)) for name, w in weights.items()))


def class_objective(family, *, classes=None) -> ClassLogit:
    """Logit of a class, given by index or by name (names need ``classes``, the model card's list)."""
    if isinstance(family, str):
        if not classes or family not in classes:
            raise ModelError(f"Unknown class {family!r}; the model's classes are {list(classes or [])}.")
        return ClassLogit(list(classes).index(family), family)
    label = list(classes)[int(family)] if classes and 0 <= int(family) < len(classes) else None
    return ClassLogit(int(family), label)


def audition_objective(layer: str, filters, *, crop: int = 0) -> Batched:
    """One :class:`FilterObjective` per batch item: every listed filter of ``layer`` at once."""
    return Batched(tuple(FilterObjective(layer, int(k), int(crop)) for k in filters))


def make_objective(kind: str, *, layer: str | None = None, index: int = 0, crop: int = 0,
                   classes=None) -> Objective:
    """Objective by kind name (``'filter'``, ``'layer'`` or ``'class'``), as the CLI and widgets pick it."""
    if kind == "filter":
        return filter_objective(layer, index, crop=crop)
    if kind == "layer":
        return layer_objective(layer, crop=crop)
    if kind == "class":
        return class_objective(index, classes=classes)
    raise ModelError(f"Unknown objective kind {kind!r}; choose one of {list(OBJECTIVE_KINDS)}.")


# ================================================================================ model
@dataclass(frozen=True)
class ModelInfo:
    """What objectives are checked against: feature-map layers and their filter counts."""

    layer_filters: dict
    n_classes: int | None
    classes: tuple

    def filters(self, layer: str) -> int:
        if layer not in self.layer_filters:
            raise ModelError(f"Unknown layer {layer!r}. Layers you can dream with: "
                             f"{', '.join(self.layer_filters)}.")
        return self.layer_filters[layer]


class Dreamer:
    """A model ready to dream: compiled ascents cached per objective.

    Parameters
    ----------
    model : keras.Model
        A model from :mod:`auditory_deepdream.models` (input ``(n_mels, None, 1)`` dB).
    settings : AudioSettings
        The settings the model was trained with.
    card : dict, optional
        Model card; its ``classes`` name the class logits.
    """

    def __init__(self, model, *, settings: AudioSettings, card: dict | None = None):
        from . import models

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
        self._logit_layer = next((l for l in dense if l.name == "family"), dense[-1] if dense else None)
        n_classes = None if self._logit_layer is None else int(self._logit_layer.units)
        self.info = ModelInfo(dict(zip(table["name"], (int(f) for f in table["filters"]))) if len(table) else {},
                              n_classes, tuple(self.card.get("classes", ())))
        self._extractors: dict = {}
        self._ascents: dict = {}

    @classmethod
    def load(cls, name_or_path="default", *, settings: AudioSettings | None = None) -> "Dreamer":
        """Load a model directory (or the bundled model by name) as a :class:`Dreamer`."""
        from . import models

        model, model_settings, card = models.load_model(name_or_path, settings=settings)
        return cls(model, settings=model_settings, card=card)

    # ----------------------------------------------------------------- activations
    def _extractor(self, names: frozenset):
        import keras

        if names not in self._extractors:
            outputs = {n: self.model.get_layer(n).output for n in names if n != LOGITS}
            if LOGITS in names:
                outputs[LOGITS] = self._logit_layer.input
            self._extractors[names] = keras.Model(self.model.inputs, outputs)
        ext = self._extractors[names]
        layer = self._logit_layer

        def activations(x):
            acts = dict(ext(x, training=False))
            if LOGITS in acts:
                acts[LOGITS] = tf.matmul(acts[LOGITS], layer.kernel) + layer.bias
            return acts

        return activations

    def _values(self, objective: Objective):
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
            activations = self._extractor(objective.layers())
            return lambda x: objective(activations(x))
        import keras

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
            return tf.reduce_mean(_crop(out[..., None], crop)[..., 0], axis=[1, 2])

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

    def check(self, objective: Objective) -> None:
        """Raise :class:`ModelError` unless ``objective`` fits this model."""
        if not isinstance(objective, Objective):
            raise ModelError(f"Expected an Objective, got {type(objective).__name__}; build one with "
                             "filter_objective, layer_objective or class_objective.")
        objective.validate(self.info)

    def evaluate(self, mel_db, objective: Objective) -> np.ndarray:
        """Objective values of spectrograms.

        Parameters
        ----------
        mel_db : np.ndarray [shape=(batch, n_mels, n_frames)]

        Returns
        -------
        values : np.ndarray [shape=(batch,)]
        """
        self.check(objective)
        fn = self._compiled(objective)[1]
        x = tf.convert_to_tensor(np.asarray(mel_db, dtype=np.float32))
        return _tf_call(fn, x).numpy()

    # ---------------------------------------------------------------------- ascent
    def _compiled(self, objective: Objective):
        """(ascent, evaluate) tf.functions for an objective, traced once per objective."""
        if objective in self._ascents:
            return self._ascents[objective]
        values_of = self._values(objective)
        floor = float(self.settings.db_floor)
        spec = tf.TensorSpec([None, self.settings.n_mels, None], tf.float32)

        @tf.function(input_signature=[spec, tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
                                      tf.TensorSpec([], tf.float32), tf.TensorSpec([], tf.int32),
                                      tf.TensorSpec([2], tf.int32)])
        def ascent(x, steps, start, step_size, jitter, seed):
            values = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape([None]))
            finite = tf.constant(True)
            for i in tf.range(steps):
                # random time roll (jitter); rolled back before the update
                shift = tf.random.stateless_uniform([], seed + tf.stack([0, start + i]), minval=-jitter,
                                                    maxval=jitter + 1, dtype=tf.int32)
                xr = tf.roll(x, shift, axis=2)
                with tf.GradientTape() as tape:
                    tape.watch(xr)
                    v = values_of(xr[..., None])
                    total = tf.reduce_sum(v)  # items are independent: one backward pass for all
                g = tf.roll(tape.gradient(total, xr), -shift, axis=2)
                ok = tf.reduce_all(tf.math.is_finite(g)) & tf.reduce_all(tf.math.is_finite(v))
                finite = finite & ok
                g = tf.where(ok, g, tf.zeros_like(g))
                g = g / (tf.math.reduce_std(g, axis=[1, 2], keepdims=True) + _EPS)
                x = tf.maximum(x + step_size * g, floor)
                values = values.write(i, v)
            return x, values.stack(), finite

        @tf.function(input_signature=[spec])
        def evaluate(x):
            return values_of(x[..., None])

        self._ascents[objective] = (ascent, evaluate)
        return self._ascents[objective]

    def ascend(self, mel_db, objective: Objective, *, steps: int = 10, step_size: float = 1.0,
               octaves: int = 1, octave_scale: float = 1.3, jitter: int = 0, seed: int = 0,
               block_frames: int | None = None, overlap_frames: int = 64,
               progress: bool | None = None):
        """Normalised gradient ascent on log-mel spectrograms.

        Each step adds ``step_size`` times the gradient divided by its standard deviation
        (per batch item), so ``step_size`` is the RMS change in dB per step.

        Parameters
        ----------
        mel_db : np.ndarray [shape=(batch, n_mels, n_frames)]
            Log-mel dB; a single item is tiled to ``len(objective)`` for :class:`Batched`.
        objective : Objective
        steps : int
            Steps per octave.
        step_size : float
            dB (RMS over the spectrogram) per step.
        octaves : int
            Number of time scales, coarse to fine, each ``octave_scale`` times longer
            than the previous and ending at the original length (the TF DeepDream
            tutorial's multi-scale ascent; only time is rescaled, the mel axis is the
            model's).
        jitter : int
            Largest random time roll in frames per step (0 disables it).
        seed : int
            Seed of the jitter; results are deterministic for a seed.
        block_frames : int, optional
            Frames per block for long inputs (default: about 16384 / batch); blocks
            overlap by ``overlap_frames`` and their changes are cross-faded, so memory
            stays bounded without seams.
        progress : bool, optional
            Show a tqdm bar (default: only for long jobs).

        Returns
        -------
        dreamed : np.ndarray [shape=(batch, n_mels, n_frames)]
        history : np.ndarray [shape=(steps * octaves, batch)]
            Objective value before each step.

        Raises
        ------
        ModelError
            The objective does not fit the model.
        DreamError
            Non-finite gradients, or a batch that does not match a batched objective.
        """
        from tqdm.auto import tqdm

        self.check(objective)
        x = np.asarray(mel_db, dtype=np.float32)
        if x.ndim == 2:
            x = x[None]
        if x.ndim != 3 or x.shape[1] != self.settings.n_mels:
            raise AudioInputError(f"Expected log-mel input of shape (batch, {self.settings.n_mels}, frames); "
                                  f"got {x.shape}.")
        if not np.all(np.isfinite(x)):
            raise AudioInputError("The spectrogram contains NaN or infinite values; encode finite audio.")
        if isinstance(objective, Batched):
            if x.shape[0] == 1:
                x = np.repeat(x, len(objective), axis=0)
            elif x.shape[0] != len(objective):
                raise DreamError(f"A batched objective of {len(objective)} items needs a batch of "
                                 f"{len(objective)} spectrograms (or one to copy), got {x.shape[0]}.")
        steps, octaves = int(steps), max(1, int(octaves))
        if steps < 0:
            raise DreamError(f"steps must be >= 0, got {steps}.")
        batch, _, frames = x.shape
        block = int(block_frames or max(256, 16384 // batch))
        starts = _block_starts(frames, block, overlap_frames)
        chunk = max(1, min(steps, 25))
        n_calls = len(starts) * octaves * -(-steps // chunk) if steps else 0
        work = batch * frames * steps * octaves
        bar = tqdm(total=n_calls, desc="dreaming", unit="call", leave=False,
                   disable=not (progress if progress is not None else work > 2_000_000))
        ascent = self._compiled(objective)[0]
        out = np.zeros_like(x)
        weight = np.zeros(frames, dtype=np.float32)
        history = []
        for b, start in enumerate(starts):
            stop = min(frames, start + block)
            part = x[:, :, start:stop]
            dreamed, hist = self._ascend_block(ascent, part, steps=steps, chunk=chunk, step_size=step_size,
                                               octaves=octaves, octave_scale=octave_scale, jitter=jitter,
                                               seed=seed + 7919 * b, bar=bar)
            fade = _fade(stop - start, overlap_frames if b > 0 else 0,
                         overlap_frames if stop < frames else 0)
            out[:, :, start:stop] += (dreamed - part) * fade
            weight[start:stop] += fade
            history.append(hist)
        bar.close()
        dreamed = np.maximum(x + out / np.maximum(weight, _EPS), self.settings.db_floor)
        # block histories are summed, weighting each block by its share of the frames
        sizes = np.array([min(frames, s + block) - s for s in starts], dtype=np.float64)
        hist = sum(h * (n / sizes.sum()) for h, n in zip(history, sizes)).astype(np.float32)
        return dreamed.astype(np.float32), hist

    def _compiled_waveform(self, objective: Objective):
        """tf.function for gradient ascent on samples through the TF twin of the encoder."""
        key = ("waveform", objective)
        if key in self._ascents:
            return self._ascents[key]
        from .layers import LogMelSpectrogram

        values_of = self._values(objective)
        s = self.settings
        encoder = LogMelSpectrogram(s)
        ops = _spectral_ops(s)

        def project(g, mask, inverse_envelope):
            # keep only the part of the update inside the input's own spectrum
            spec = ops.stft(g, tf.shape(mask)[1]) * tf.cast(mask, tf.complex64)
            return ops.istft(spec, inverse_envelope, tf.shape(g)[1])

        @tf.function(input_signature=[tf.TensorSpec([None, None], tf.float32),
                                      tf.TensorSpec([None, None, 1 + s.n_fft // 2], tf.float32),
                                      tf.TensorSpec([None, 1], tf.float32), tf.TensorSpec([None, 1], tf.float32),
                                      tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
                                      tf.TensorSpec([], tf.bool), tf.TensorSpec([2], tf.int32)])
        def ascent(x, mask, scale, level, steps, jitter, use_mask, seed):
            values = tf.TensorArray(tf.float32, size=steps, element_shape=tf.TensorShape([None]))
            finite = tf.constant(True)
            # backtracking: a step that lowered the objective is retried from the best point at half
            # the size, and the best point is returned, so the objective never falls
            best_x, best_g, best_v = x, tf.zeros_like(x), tf.fill(tf.shape(x)[:1], -np.inf)
            inverse_envelope = ops.inverse_envelope(tf.shape(mask)[1])  # the same for every step
            for i in tf.range(steps):
                shift = s.hop_length * tf.random.stateless_uniform(
                    [], seed + tf.stack([0, i]), minval=-jitter, maxval=jitter + 1, dtype=tf.int32)
                xr = tf.roll(x, shift, axis=1)
                with tf.GradientTape() as tape:
                    tape.watch(xr)
                    v = values_of(encoder(xr))
                    total = tf.reduce_sum(v)
                g = tf.roll(tape.gradient(total, xr), -shift, axis=1)
                g = tf.cond(use_mask, lambda: project(g, mask, inverse_envelope), lambda: g)
                ok = tf.reduce_all(tf.math.is_finite(g)) & tf.reduce_all(tf.math.is_finite(v))
                finite = finite & ok
                g = tf.where(ok, g, tf.zeros_like(g))
                better = (v > best_v)[:, None]
                g = g / (tf.math.reduce_std(g, axis=1, keepdims=True) + _EPS)
                best_x, best_g = tf.where(better, x, best_x), tf.where(better, g, best_g)
                best_v = tf.maximum(v, best_v)
                scale = tf.where(better, scale, 0.5 * scale)
                x = best_x + scale * best_g
                # stay at the input's level: the output is loudness-matched anyway, so gain
                # bought with loudness alone would not survive into what the listener hears
                x = x * (level / (tf.sqrt(tf.reduce_mean(tf.square(x), axis=1, keepdims=True)) + _EPS))
                values = values.write(i, v)
            better = values_of(encoder(x)) > best_v
            return tf.where(better[:, None], x, best_x), values.stack(), finite

        self._ascents[key] = ascent
        return ascent

    def ascend_waveform(self, y, objective: Objective, *, steps: int = 10, step_size: float = 1.0,
                        jitter: int = 0, seed: int = 0, envelope: bool = True):
        """Gradient ascent on the samples themselves (no phase reconstruction needed).

        The gradient flows through :class:`~auditory_deepdream.layers.LogMelSpectrogram`,
        the TensorFlow twin of :func:`~auditory_deepdream.audio.encode`. Every step is
        rescaled to the clip's own RMS level (loudness matching then leaves the dream as
        it is, so its whole activation gain reaches the listener), and a step that lowered
        the objective is retried from the best point at half the size.

        Parameters
        ----------
        y : np.ndarray [shape=(batch, n_samples)]
        objective : Objective
        steps : int
        step_size : float
            Each step adds an update whose RMS is ``step_size / 10`` times the clip's RMS
            (halved for an item each time a step lowered its objective).
        jitter : int
            Largest random time roll in frames (multiples of ``hop_length`` samples).
        seed : int
        envelope : bool
            Filter every update through the input's own STFT magnitude (normalised to
            its peak per clip), so the dream only reshapes what is already sounding
            instead of adding broadband hiss.

        Returns
        -------
        y_dreamed : np.ndarray [shape=(batch, n_samples)]
            The best iterate per item, at the input's RMS level.
        history : np.ndarray [shape=(steps, batch)]
            Objective of the point each step started from.
        """
        self.check(objective)
        y = np.atleast_2d(np.asarray(y, dtype=np.float32))
        if isinstance(objective, Batched) and y.shape[0] == 1:
            y = np.repeat(y, len(objective), axis=0)
        if isinstance(objective, Batched) and y.shape[0] != len(objective):
            raise DreamError(f"A batched objective of {len(objective)} items needs a batch of "
                             f"{len(objective)} clips (or one to copy), got {y.shape[0]}.")
        if int(steps) <= 0:
            return y.copy(), np.zeros((0, y.shape[0]), np.float32)
        mag = np.abs(audio.stft(y, settings=self.settings))
        mask = np.swapaxes(mag / np.maximum(mag.max(axis=(-2, -1), keepdims=True), _EPS), -1, -2)
        level = np.sqrt(np.mean(np.square(y, dtype=np.float64), axis=-1, keepdims=True)).astype(np.float32)
        scale = 0.1 * float(step_size) * level
        x, values, finite = _tf_call(self._compiled_waveform(objective), tf.constant(y),
                                     tf.constant(mask.astype(np.float32)), tf.constant(scale),
                                     tf.constant(level),
                                     tf.constant(int(steps)), tf.constant(int(jitter)), tf.constant(bool(envelope)),
                                     tf.constant([int(seed) % 2**31, 0], tf.int32))
        if not bool(finite):
            raise DreamError("Gradient ascent produced non-finite gradients (NaN or inf). The model's "
                             "weights or the input may be broken; check the model on a clean clip, or "
                             "lower step_size.")
        return x.numpy(), values.numpy()

    def _ascend_block(self, ascent, part, *, steps, chunk, step_size, octaves, octave_scale, jitter,
                      seed, bar):
        frames = part.shape[-1]
        detail = np.zeros_like(part)
        history = []
        for o in range(octaves):
            length = max(8, int(round(frames * octave_scale ** (o - octaves + 1))))
            base = _resize_time(part, length)
            x = tf.convert_to_tensor(base + _resize_time(detail, length))
            done = 0
            while done < steps:
                n = min(chunk, steps - done)
                x, values, finite = _tf_call(ascent, x, tf.constant(n), tf.constant(done + o * steps),
                                             tf.constant(float(step_size)), tf.constant(int(jitter)),
                                             tf.constant([int(seed) % 2**31, o], tf.int32))
                if not bool(finite):
                    raise DreamError(
                        "Gradient ascent produced non-finite gradients (NaN or inf). The model's "
                        "weights or the input may be broken; check the model on a clean clip, or "
                        "lower step_size.")
                history.append(values.numpy())
                done += n
                bar.update(1)
            detail = _resize_time(x.numpy() - base, frames)
        hist = np.concatenate(history, axis=0) if history else np.zeros((0, part.shape[0]), np.float32)
        return part + detail, hist


def _tf_call(fn, *args):
    """Call a compiled function, turning TensorFlow runtime errors into a :class:`DreamError`."""
    try:
        return fn(*args)
    except (tf.errors.ResourceExhaustedError, MemoryError) as exc:
        raise DreamError("Out of memory while dreaming; pass a smaller block_frames or fewer "
                         f"filters at once ({type(exc).__name__}).") from None
    except tf.errors.OpError as exc:
        first = str(exc.message).strip().splitlines()[0] if exc.message else type(exc).__name__
        raise DreamError(f"TensorFlow could not run the dream: {first}") from None


def _block_starts(frames: int, block: int, overlap: int) -> list[int]:
    if frames <= block:
        return [0]
    hop = max(1, block - overlap)
    starts = list(range(0, frames - block, hop))
    return starts + [frames - block]


def _fade(n: int, fade_in: int, fade_out: int) -> np.ndarray:
    """Raised-cosine weights for cross-fading overlapping blocks."""
    w = np.ones(n, dtype=np.float32)
    if fade_in:
        w[:fade_in] = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade_in) + 0.5) / fade_in)
    if fade_out:
        w[n - fade_out:] *= 0.5 + 0.5 * np.cos(np.pi * (np.arange(fade_out) + 0.5) / fade_out)
    return w


def _resize_time(x: np.ndarray, length: int) -> np.ndarray:
    """Linear resampling of the last (time) axis to ``length`` frames."""
    if x.shape[-1] == length:
        return x
    pos = np.linspace(0, x.shape[-1] - 1, length)
    lo = np.floor(pos).astype(int)
    hi = np.minimum(lo + 1, x.shape[-1] - 1)
    frac = (pos - lo).astype(np.float32)
    return (x[..., lo] * (1 - frac) + x[..., hi] * frac).astype(np.float32)


# ========================================================================= sonification
def _bin_weights(settings: AudioSettings) -> np.ndarray:
    """``(n_freq, n_mels)`` interpolation weights from mel bands to STFT bins (rows sum to 1 or 0)."""
    W = audio.mel_basis(settings).astype(np.float64)
    peak = W.max(axis=1, keepdims=True)
    tri = np.divide(W, peak, out=np.zeros_like(W), where=peak > 0)  # unit-height triangles
    total = tri.sum(axis=0)
    return np.divide(tri, total, out=np.zeros_like(tri), where=total > 0).T.astype(np.float32)


def mel_gain_to_stft_db(delta_db, *, settings: AudioSettings) -> np.ndarray:
    """Map a change of log-mel dB to a dB gain per STFT bin through the mel filter bank.

    Each bin takes the triangle-weighted average of the changes of the mel bands that
    cover it; bins no band covers (below ``fmin`` or above ``fmax``) keep 0 dB.

    Parameters
    ----------
    delta_db : np.ndarray [shape=(..., n_mels, n_frames)]

    Returns
    -------
    gain_db : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames)]
    """
    return np.matmul(_bin_weights(settings), np.asarray(delta_db, dtype=np.float32))


class _SpectralOps:
    """The front end's STFT and inverse (:func:`audio.stft` / :func:`audio.istft`) in TensorFlow.

    Spectra are ``(batch, frames, n_freq)``. When ``hop_length`` divides ``n_fft`` (every
    preset), framing and overlap-add work on hop-sized blocks: a frame is ``n_fft / hop``
    consecutive blocks, and overlap-add sums shifted copies of them, which is faster than
    ``tf.signal.frame`` / ``overlap_and_add``.
    """

    def __init__(self, settings: AudioSettings):
        from .layers import hann_window

        self.n_fft, self.hop, self.pad = settings.n_fft, settings.hop_length, settings.n_fft // 2
        self.window = tf.constant(hann_window(settings))
        self.blocks_per_frame = self.n_fft // self.hop if self.n_fft % self.hop == 0 else None

    def frame(self, y, n_frames):  # (batch, samples) -> (batch, n_frames, n_fft)
        n_fft, hop, per = self.n_fft, self.hop, self.blocks_per_frame
        if per is None:
            return tf.signal.frame(y, n_fft, hop)[:, :n_frames]
        n_blocks = n_frames + per - 1
        blocks = tf.reshape(tf.pad(y, [[0, 0], [0, n_blocks * hop]])[:, :n_blocks * hop],
                            [tf.shape(y)[0], n_blocks, hop])
        return tf.concat([blocks[:, k:k + n_frames] for k in range(per)], axis=-1)

    def overlap_add(self, frames):  # (batch, n_frames, n_fft) -> (batch, (n_frames - 1) * hop + n_fft)
        per = self.blocks_per_frame
        if per is None:
            return tf.signal.overlap_and_add(frames, self.hop)
        batch, n_frames = tf.shape(frames)[0], tf.shape(frames)[1]
        parts = tf.reshape(frames, [batch, n_frames, per, self.hop])
        summed = tf.add_n([tf.pad(parts[:, :, k], [[0, 0], [k, per - 1 - k], [0, 0]]) for k in range(per)])
        return tf.reshape(summed, [batch, -1])

    def inverse_envelope(self, n_frames):
        """``1 / sum of squared windows`` over ``n_frames`` frames (1 where that sum vanishes)."""
        squares = tf.tile((self.window * self.window)[None, None], [1, n_frames, 1])
        envelope = self.overlap_add(squares)[0]
        return tf.where(envelope > 1e-8, 1.0 / tf.maximum(envelope, 1e-8), 1.0)

    def stft(self, y, n_frames):  # librosa.stft(center=True, pad_mode='constant')
        return tf.signal.rfft(self.frame(tf.pad(y, [[0, 0], [self.pad, self.pad]]), n_frames) * self.window)

    def istft(self, spec, inverse_envelope, length):  # librosa.istft: overlap-add over the window's squares
        y = self.overlap_add(tf.signal.irfft(spec, fft_length=[self.n_fft]) * self.window) * inverse_envelope
        y = y[:, self.pad:self.pad + length]
        return tf.pad(y, [[0, 0], [0, length - tf.shape(y)[1]]])


@functools.lru_cache(maxsize=8)
def _spectral_ops(settings: AudioSettings) -> _SpectralOps:
    return _SpectralOps(settings)


@functools.lru_cache(maxsize=8)
def _griffin_lim_graph(settings: AudioSettings):
    """Compiled batched fast Griffin-Lim for one set of audio settings (see :func:`griffin_lim`)."""
    ops = _spectral_ops(settings)
    n_freq = 1 + settings.n_fft // 2

    @tf.function(input_signature=[tf.TensorSpec([None, n_freq, None], tf.float32),
                                  tf.TensorSpec([None, n_freq, None], tf.complex64),
                                  tf.TensorSpec([], tf.int32), tf.TensorSpec([], tf.int32),
                                  tf.TensorSpec([], tf.float32)])
    def run(magnitude, angles, length, n_iter, momentum):
        n_frames = tf.shape(magnitude)[2]
        inverse_envelope = ops.inverse_envelope(n_frames)
        mag = tf.cast(tf.transpose(magnitude, [0, 2, 1]), tf.complex64)
        angles = tf.transpose(angles, [0, 2, 1])
        rebuilt = tf.zeros_like(angles)
        keep = tf.cast(momentum / (1 + momentum), tf.complex64)
        for _ in tf.range(n_iter):
            previous = rebuilt
            rebuilt = ops.stft(ops.istft(mag * angles, inverse_envelope, length), n_frames)
            angles = rebuilt - keep * previous
            angles = angles / tf.cast(tf.abs(angles) + 1e-16, tf.complex64)
        return ops.istft(mag * angles, inverse_envelope, length)

    return run


def griffin_lim(magnitude, *, settings: AudioSettings, n_iter: int = 32, seed: int = 0,
                length: int | None = None, momentum: float = 0.99) -> np.ndarray:
    """Batched fast Griffin-Lim (Perraudin et al., as in :func:`librosa.griffinlim`).

    One compiled TensorFlow loop handles the whole batch (its FFTs run on every core);
    the STFT and inverse follow :func:`audio.stft` / :func:`audio.istft` exactly. The
    initial phase is random from ``seed``, so results are deterministic.

    Parameters
    ----------
    magnitude : np.ndarray [shape=(..., 1 + n_fft // 2, n_frames)]
    n_iter : int
    length : int, optional
        Output samples (default ``(n_frames - 1) * hop_length``).
    momentum : float
        0 gives the classic Griffin-Lim; librosa's default 0.99 converges faster.

    Returns
    -------
    y : np.ndarray [shape=(..., length), dtype=float32]
    """
    S = np.asarray(magnitude, dtype=np.float32)
    lead = S.shape[:-2]
    S = S.reshape(-1, *S.shape[-2:])
    length = int(length or (S.shape[-1] - 1) * settings.hop_length)
    rng = np.random.default_rng(seed)
    angles = np.exp(2j * np.pi * rng.random(S.shape)).astype(np.complex64)
    y = _tf_call(_griffin_lim_graph(settings), tf.constant(S), tf.constant(angles), tf.constant(length),
                 tf.constant(int(n_iter)), tf.constant(float(momentum)))
    return y.numpy().reshape(*lead, length)


def soft_limit(y, *, knee: float = 0.9, ceiling: float = 0.999) -> np.ndarray:
    """Samples beyond ``knee`` are compressed smoothly (tanh) to stay within ``ceiling`` (< 1);
    others are untouched."""
    y = np.asarray(y, dtype=np.float32)
    a = np.abs(y)
    over = a > knee
    if not over.any():
        return y
    out = y.copy()
    room = ceiling - knee
    out[over] = np.sign(y[over]) * (knee + room * np.tanh((a[over] - knee) / room))
    return out


def match_loudness(y, reference) -> np.ndarray:
    """Scale each waveform to the RMS of its reference, then soft-limit so nothing clips.

    Parameters
    ----------
    y, reference : np.ndarray [shape=(..., n_samples)]

    Returns
    -------
    y_matched : np.ndarray [shape=(..., n_samples)], peak below 1
    """
    y = np.asarray(y, dtype=np.float32)
    ref_rms = np.sqrt(np.mean(np.square(reference, dtype=np.float64), axis=-1, keepdims=True))
    rms = np.sqrt(np.mean(np.square(y, dtype=np.float64), axis=-1, keepdims=True))
    scale = np.divide(ref_rms, rms, out=np.ones_like(rms), where=rms > 1e-12)
    return soft_limit((y * scale).astype(np.float32))


def sonify(y, delta_db, *, settings: AudioSettings, phase: str = "original", n_iter: int = 32,
           seed: int = 0, max_gain_db: float = 60.0) -> np.ndarray:
    """Turn a dreamed change of the log-mel spectrogram into audio.

    Parameters
    ----------
    y : np.ndarray [shape=(batch, n_samples)]
        The original audio.
    delta_db : np.ndarray [shape=(batch, n_mels, 1 + n_samples // hop_length)]
        Dreamed minus original log-mel dB.
    phase : {'original', 'griffin-lim'}
        ``'original'``: the change becomes a gain on the original STFT (clamped to
        ``±max_gain_db``) and the original phase is kept; zero change gives back the
        input. ``'griffin-lim'``: the same magnitude, phase re-estimated by
        :func:`griffin_lim` from a random start (the dissertation's path).
    n_iter, seed : int
        Griffin-Lim iterations and initial-phase seed.

    Returns
    -------
    out : np.ndarray [shape=(batch, n_samples)], not yet loudness-matched
    """
    if phase not in _MEL_PHASES:
        raise DreamError(f"sonify turns a mel-domain dream into sound; phase must be one of "
                         f"{list(_MEL_PHASES)}, got {phase!r}.")
    y = np.asarray(y, dtype=np.float32)
    # auditioning a layer sonifies many dreams of one clip: its STFT is computed once
    same = len(y) > 1 and bool(np.all(y == y[:1]))
    D = audio.stft(y[:1] if same else y, settings=settings)
    gain_db = np.clip(mel_gain_to_stft_db(delta_db, settings=settings), -max_gain_db, max_gain_db)
    gain = np.power(np.float32(10.0), gain_db / np.float32(20.0))
    if phase == "original":
        return audio.istft(D * gain, settings=settings, length=y.shape[-1])
    return griffin_lim(np.abs(D) * gain, settings=settings, n_iter=n_iter, seed=seed, length=y.shape[-1])


# ============================================================================== dream()
@dataclass
class DreamResult:
    """Everything a dream produced, with the measures of what survived into the sound.

    Attributes
    ----------
    audio : np.ndarray [shape=(n_samples,) or (batch, n_samples)]
        Output, loudness-matched to the input, peak below 1.
    input_audio : np.ndarray, same shape as ``audio``
    mel_before, mel_dreamed, mel_after : np.ndarray [shape=(batch, n_mels, n_frames)]
        Input log-mel, the dreamed log-mel, and the output audio re-encoded.
    objective_before, objective_dreamed, objective_after : np.ndarray [shape=(batch,)]
        Objective on the input, on the dreamed spectrogram, and on the re-encoded output.
    survival : np.ndarray [shape=(batch,)]
        ``(after - before) / (dreamed - before)``: the fraction of the activation gain
        that the listener gets (NaN where the dream gained nothing).
    survival_sonified : np.ndarray [shape=(batch,)]
        The same fraction measured before loudness matching: what the sonification
        alone keeps (dreams that raise overall level lose the rest to the level match).
    spectral_change_db : np.ndarray [shape=(batch,)]
        Mean absolute log-mel difference between output and input.
    loudness_in_db, loudness_out_db : np.ndarray [shape=(batch,)]
        RMS level in dBFS.
    history : np.ndarray [shape=(steps * octaves, batch)]
        Objective before each ascent step.
    """

    audio: np.ndarray
    input_audio: np.ndarray
    sample_rate: int
    objective: Objective
    phase: str
    seed: int
    mel_before: np.ndarray
    mel_dreamed: np.ndarray
    mel_after: np.ndarray
    objective_before: np.ndarray
    objective_dreamed: np.ndarray
    objective_after: np.ndarray
    survival: np.ndarray
    survival_sonified: np.ndarray
    spectral_change_db: np.ndarray
    loudness_in_db: np.ndarray
    loudness_out_db: np.ndarray
    history: np.ndarray

    def summary(self) -> dict:
        """Scalar summary (means over the batch) for printing or JSON."""
        return {
            "objective": str(self.objective), "phase": self.phase, "seed": self.seed,
            "objective_before": float(np.mean(self.objective_before)),
            "objective_dreamed": float(np.mean(self.objective_dreamed)),
            "objective_after": float(np.mean(self.objective_after)),
            "survival": _nanmean(self.survival),
            "survival_sonified": _nanmean(self.survival_sonified),
            "spectral_change_db": float(np.mean(self.spectral_change_db)),
            "loudness_in_db": float(np.mean(self.loudness_in_db)),
            "loudness_out_db": float(np.mean(self.loudness_out_db)),
        }


def _nanmean(values) -> float | None:
    return float(np.nanmean(values)) if np.isfinite(values).any() else None


def _as_dreamer(model, settings: AudioSettings | None) -> Dreamer:
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


def _rms_db(y) -> np.ndarray:
    return (10 * np.log10(np.mean(np.square(y, dtype=np.float64), axis=-1) + 1e-20)).astype(np.float32)


def dream(audio_in, *, model, settings: AudioSettings | None = None, objective: Objective,
          steps: int = 10, step_size: float = 1.0, phase: str = "original", seed: int = 0,
          octaves: int = 1, octave_scale: float = 1.3, jitter: int = 0, n_iter: int = 32,
          max_gain_db: float = 60.0, block_frames: int | None = None, overlap_frames: int = 64,
          envelope: bool = True, progress: bool | None = None, measure: bool = True) -> DreamResult:
    """Dream a clip: encode, ascend the objective, sonify, loudness-match, measure.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (batch, n_samples)] or path
        Audio at ``settings.sample_rate`` (a path is loaded at the model's rate). A single
        clip is copied to every item of a :class:`Batched` objective.
    model : Dreamer, keras.Model, or str / path
        A :class:`Dreamer`, a Keras model (with ``settings``), or a model directory /
        bundled model name for :meth:`Dreamer.load`.
    settings : AudioSettings, optional
        The clip's settings; must equal the model's (:class:`SettingsMismatchError`).
    objective : Objective
    steps, step_size, octaves, octave_scale, jitter, block_frames, overlap_frames, progress
        See :meth:`Dreamer.ascend`.
    phase : {'original', 'griffin-lim', 'waveform'}
        Sonification (see :func:`sonify`), or ``'waveform'``: ascend on the samples
        themselves (:meth:`Dreamer.ascend_waveform`; ``step_size`` and ``envelope`` as
        there), which needs no phase reconstruction.
    seed : int
        Seeds jitter and Griffin-Lim; the result is deterministic for a seed.
    n_iter, max_gain_db
        See :func:`sonify`.
    measure : bool
        Re-encode the output and evaluate the objective on the input, the dream and the
        output (survival, spectral change). ``False`` returns the sound only: ``mel_after``
        is None and the measures are NaN.

    Returns
    -------
    DreamResult
    """
    dreamer = _as_dreamer(model, settings)
    s = dreamer.settings
    if phase not in PHASES:
        raise DreamError(f"Unknown phase {phase!r}; choose one of {list(PHASES)}.")
    dreamer.check(objective)
    if isinstance(audio_in, (str, os.PathLike)):
        y = audio.load_audio(Path(audio_in), settings=s)
    else:
        y = np.asarray(audio_in)
    single = y.ndim == 1
    y = np.atleast_2d(y).astype(np.float32)
    if y.ndim != 2:
        raise AudioInputError(f"Audio has shape {y.shape}; expected (n_samples,) or (batch, n_samples).")
    for row in y:
        audio.check_audio(row)
    if isinstance(objective, Batched) and y.shape[0] == 1:
        mel = np.repeat(audio.encode(y, settings=s), len(objective), axis=0)  # encode the clip once
        y = np.repeat(y, len(objective), axis=0)
        single = False
    else:
        mel = audio.encode(y, settings=s)
    if phase == "waveform":
        if octaves != 1:
            raise DreamError("Waveform dreaming works at one time scale; use octaves=1.")
        raw, history = dreamer.ascend_waveform(y, objective, steps=steps, step_size=step_size, jitter=jitter,
                                               seed=seed, envelope=envelope)
        dreamed = audio.encode(raw, settings=s)
    else:
        dreamed, history = dreamer.ascend(mel, objective, steps=steps, step_size=step_size, octaves=octaves,
                                          octave_scale=octave_scale, jitter=jitter, seed=seed,
                                          block_frames=block_frames, overlap_frames=overlap_frames,
                                          progress=progress)
        raw = sonify(y, dreamed - mel, settings=s, phase=phase, n_iter=n_iter, seed=seed,
                     max_gain_db=max_gain_db)
    out = match_loudness(raw, y)
    squeeze = (lambda a: a[0]) if single else (lambda a: a)
    if not measure:  # the sound alone: skip re-encoding and the four objective evaluations
        nan = np.full(len(y), np.nan, dtype=np.float32)
        return DreamResult(
            audio=squeeze(out), input_audio=squeeze(y), sample_rate=s.sample_rate, objective=objective,
            phase=phase, seed=int(seed), mel_before=mel, mel_dreamed=dreamed, mel_after=None,
            objective_before=nan, objective_dreamed=nan, objective_after=nan, survival=nan,
            survival_sonified=nan, spectral_change_db=nan, loudness_in_db=_rms_db(y),
            loudness_out_db=_rms_db(out), history=history)
    mel_after = audio.encode(out, settings=s)
    before = dreamer.evaluate(mel, objective)
    after_dream = dreamer.evaluate(dreamed, objective)
    after = dreamer.evaluate(mel_after, objective)
    sonified = dreamer.evaluate(audio.encode(raw, settings=s), objective)
    gain = after_dream - before
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.where(np.abs(gain) > 1e-6, (after - before) / gain, np.nan).astype(np.float32)
        survival_sonified = np.where(np.abs(gain) > 1e-6, (sonified - before) / gain, np.nan).astype(np.float32)
    return DreamResult(
        audio=squeeze(out), input_audio=squeeze(y), sample_rate=s.sample_rate, objective=objective,
        phase=phase, seed=int(seed), mel_before=mel, mel_dreamed=dreamed, mel_after=mel_after,
        objective_before=before, objective_dreamed=after_dream, objective_after=after,
        survival=survival, survival_sonified=survival_sonified, spectral_change_db=np.mean(np.abs(mel_after - mel), axis=(-2, -1)),
        loudness_in_db=_rms_db(y), loudness_out_db=_rms_db(out), history=history)


def amplify_filter(audio_in, *, model, layer: str, index: int, settings: AudioSettings | None = None,
                   crop: int = 0, **options) -> DreamResult:
    """Amplify one filter of a layer (section 3.7's first algorithm); options as :func:`dream`."""
    return dream(audio_in, model=model, settings=settings,
                 objective=filter_objective(layer, index, crop=crop), **options)


def dream_layer(audio_in, *, model, layers, settings: AudioSettings | None = None, crop: int = 0,
                **options) -> DreamResult:
    """DeepDream on one layer name, a list of names, or a ``{name: weight}`` dict; options as :func:`dream`."""
    if isinstance(layers, str):
        layers = {layers: 1.0}
    elif not isinstance(layers, dict):
        layers = {name: 1.0 for name in layers}
    return dream(audio_in, model=model, settings=settings, objective=layers_objective(layers, crop=crop),
                 **options)


def audition_layer(audio_in, *, model, layer: str, settings: AudioSettings | None = None,
                   filters=None, crop: int = 0, **options) -> DreamResult:
    """Amplify every filter of ``layer`` (or those listed) on one clip in one batched run.

    Returns
    -------
    DreamResult
        Batched: ``result.audio[i]`` is the clip with filter ``filters[i]`` amplified.
    """
    dreamer = _as_dreamer(model, settings)
    n = dreamer.info.filters(layer)
    filters = list(range(n)) if filters is None else [int(k) for k in filters]
    objective = audition_objective(layer, filters, crop=crop)
    return dream(audio_in, model=dreamer, objective=objective, **options)


# ============================================================================ full rate
def _resample(y: np.ndarray, orig_sr: int, target_sr: int, length: int | None = None) -> np.ndarray:
    import librosa

    if orig_sr == target_sr:
        out = np.asarray(y, dtype=np.float32)
    else:
        out = librosa.resample(np.asarray(y, dtype=np.float32), orig_sr=orig_sr, target_sr=target_sr,
                               res_type="soxr_hq", axis=-1)
    if length is not None:
        out = librosa.util.fix_length(out, size=length, axis=-1)
    return out.astype(np.float32, copy=False)


def crossover_weights(freqs, *, start_hz: float, stop_hz: float) -> np.ndarray:
    """Raised-cosine low-pass weights: 1 below ``start_hz``, 0 above ``stop_hz``.

    Parameters
    ----------
    freqs : np.ndarray [shape=(n_freq,)]
        Frequencies in Hz.

    Returns
    -------
    weights : np.ndarray [shape=(n_freq,)], in [0, 1]
    """
    freqs = np.asarray(freqs, dtype=np.float64)
    pos = np.clip((freqs - start_hz) / max(stop_hz - start_hz, 1e-9), 0.0, 1.0)
    return (0.5 + 0.5 * np.cos(np.pi * pos)).astype(np.float32)


def dream_full_rate(audio_in, *, sample_rate: int, model, objective: Objective,
                    crossover: tuple = (0.85, 0.95), n_fft: int = 4096, **options) -> DreamResult:
    """Dream audio at its own sample rate, whatever rate the model runs at.

    The clip is resampled to the model's rate, dreamed with :func:`dream`, and the
    *change* the dream made is resampled back and low-passed in the STFT domain with a
    raised-cosine crossover; adding it to the original keeps everything above the
    model's band (e.g. the 11-24 kHz of a 48 kHz file under a 22.05 kHz model) exactly
    as it was. At the model's own rate this is :func:`dream`.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (batch, n_samples)]
        Audio at ``sample_rate``.
    sample_rate : int
        Rate of ``audio_in`` (and of the output).
    model : Dreamer, keras.Model (with ``settings=`` in ``options``), or str / path
    objective : Objective
    crossover : (float, float)
        Start and end of the crossover as fractions of the model's band edge (its
        ``fmax``, at most its Nyquist frequency): the dream fully below the start, the
        untouched original above the end.
    n_fft : int
        FFT size of the crossover STFT (at ``sample_rate``).
    **options
        As :func:`dream` (``steps``, ``step_size``, ``phase``, ``seed`` ...).

    Returns
    -------
    DreamResult
        ``audio`` and ``input_audio`` at ``sample_rate``; ``mel_after``,
        ``objective_after``, ``survival``, ``spectral_change_db`` and the loudness
        figures are measured on the full-rate output resampled to the model's rate.
    """
    import dataclasses

    import librosa

    dreamer = _as_dreamer(model, options.pop("settings", None))
    s = dreamer.settings
    sample_rate = int(sample_rate)
    if sample_rate <= 0:
        raise AudioInputError(f"sample_rate must be a positive number of Hz, got {sample_rate}.")
    if sample_rate == s.sample_rate:
        return dream(audio_in, model=dreamer, objective=objective, **options)
    y = np.asarray(audio_in, dtype=np.float32)
    single = y.ndim == 1
    y = np.atleast_2d(y)
    for row in y:
        audio.check_audio(row)
    n = y.shape[-1]
    low = _resample(y, sample_rate, s.sample_rate)
    result = dream(low if not single else low[0], model=dreamer, objective=objective, **options)
    dreamed_low = np.atleast_2d(result.audio)
    if dreamed_low.shape[0] != y.shape[0]:  # a batched objective copied the clip
        y = np.repeat(y, dreamed_low.shape[0], axis=0)
        single = False
    change = _resample(dreamed_low - np.atleast_2d(result.input_audio), s.sample_rate, sample_rate, length=n)
    edge = min(float(s.fmax or s.sample_rate / 2), s.sample_rate / 2)
    if edge < sample_rate / 2:
        hop = n_fft // 4
        weights = crossover_weights(librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft),
                                    start_hz=crossover[0] * edge, stop_hz=crossover[1] * edge)
        spec = librosa.stft(change, n_fft=n_fft, hop_length=hop) * weights[:, None]
        change = librosa.istft(spec, n_fft=n_fft, hop_length=hop, length=n)
    out = soft_limit(y + change)
    mel = result.mel_before
    mel_after = audio.encode(_resample(out, sample_rate, s.sample_rate, length=low.shape[-1]), settings=s)
    before, dreamed_value = result.objective_before, result.objective_dreamed
    after = dreamer.evaluate(mel_after, objective)
    gain = dreamed_value - before
    with np.errstate(divide="ignore", invalid="ignore"):
        survival = np.where(np.abs(gain) > 1e-6, (after - before) / gain, np.nan).astype(np.float32)
    squeeze = (lambda a: a[0]) if single else (lambda a: a)
    return dataclasses.replace(
        result, audio=squeeze(out), input_audio=squeeze(y), sample_rate=sample_rate, mel_after=mel_after,
        objective_after=after, survival=survival,
        spectral_change_db=np.mean(np.abs(mel_after - mel), axis=(-2, -1)),
        loudness_in_db=_rms_db(y), loudness_out_db=_rms_db(out))


def dream_file(input_path, output_path, *, model, objective: Objective, **options) -> tuple[Path, DreamResult]:
    """Dream an audio file and write the result at the file's own sample rate.

    Parameters
    ----------
    input_path, output_path : path-like
        Any file :func:`auditory_deepdream.audio.load_audio` reads; the output is a WAV.
    model : Dreamer or str / path
    objective : Objective
    **options
        As :func:`dream_full_rate`.

    Returns
    -------
    (path, DreamResult)
    """
    import soundfile as sf

    dreamer = _as_dreamer(model, options.pop("settings", None))
    try:
        rate = int(sf.info(str(input_path)).samplerate)
    except Exception:  # not a file libsndfile reads: load_audio decodes it at the model's rate
        rate = dreamer.settings.sample_rate
    y = audio.load_audio(input_path, sample_rate=rate)
    result = dream_full_rate(y, sample_rate=rate, model=dreamer, objective=objective, **options)
    path = audio.save_audio(output_path, result.audio, sample_rate=result.sample_rate)
    return path, result
