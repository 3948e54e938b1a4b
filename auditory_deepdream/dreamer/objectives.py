"""What to maximise: objectives that read layer activations and return one value per item.

Objectives follow Lucid's ``objectives.py``: small immutable objects that read a dict
of layer activations and return one value per batch item. They combine with ``+``,
``-`` and scalar ``*``, and :class:`Batched` applies objective *i* to batch item *i*,
so auditioning every filter of a layer is one batched run. Adding an objective never
touches the ascent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import tensorflow as tf

from ..errors import DreamError, ModelError

__all__ = [
    "preset_objective",
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
    "match_batch",
    "OBJECTIVE_KINDS",
    "LOGITS",
]

LOGITS = "family:logits"  # activation key of the pre-softmax class logits
OBJECTIVE_KINDS = ("filter", "layer", "class")


@dataclass(frozen=True)
class ModelInfo:
    """What objectives are checked against: feature-map layers and their filter counts."""

    layer_filters: dict
    n_classes: int | None
    classes: tuple

    def filters(self, layer: str) -> int:
        """Number of filters of ``layer``; :class:`ModelError` naming the valid layers if unknown."""
        if layer not in self.layer_filters:
            raise ModelError(f"Unknown layer {layer!r}. Layers you can dream with: "
                             f"{', '.join(self.layer_filters)}.")
        return self.layer_filters[layer]


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

    def validate(self, info: ModelInfo) -> None:
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


def crop_borders(a, crop: int):
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
        return tf.reduce_mean(crop_borders(acts[self.layer], self.crop)[..., self.index], axis=[1, 2])

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
        return tf.reduce_sum(tf.reduce_mean(crop_borders(acts[self.layer], self.crop), axis=[1, 2]), axis=-1)

    def validate(self, info):
        info.filters(self.layer)

    def __str__(self):
        return self.layer


@dataclass(frozen=True)
class ClassLogit(Objective):
    """Pre-softmax logit of one class of the ``family`` output layer (push toward a family).

    ``noun`` is what the model calls its outputs in words: ``"class"``, or ``"tag"`` for a tagger.
    """

    index: int
    label: str | None = None
    noun: str = "class"

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
        return f"{self.noun} {self.label if self.label is not None else self.index}"


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

    The batch must hold exactly ``len(items)`` items (:func:`match_batch` copies a single
    clip to that size).
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


def class_objective(family, *, classes=None, noun: str = "class") -> ClassLogit:
    """Logit of a class, given by index or by name (names need ``classes``, the model card's list).

    ``noun`` names the outputs in what the objective prints: ``"tag"`` for a tagger's.
    """
    if isinstance(family, str):
        if not classes or family not in classes:
            raise ModelError(f"Unknown {noun} {family!r}; the model's {noun}s are {list(classes or [])}.")
        return ClassLogit(list(classes).index(family), family, noun)
    label = list(classes)[int(family)] if classes and 0 <= int(family) < len(classes) else None
    return ClassLogit(int(family), label, noun)


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


def preset_objective(preset, conv_layers, *, classes=None, target=None) -> Objective:
    """What a :class:`~auditory_deepdream.presets.DreamPreset` amplifies, on a model.

    Parameters
    ----------
    preset : DreamPreset
    conv_layers : sequence of str
        The model's convolution layer names, input to output.
    classes : sequence of str, optional
        The model's classes (class presets).
    target : str or int, optional
        The class to dream toward (class presets; required there).

    Returns
    -------
    Objective
        The class logit of ``target``, or the layer at the preset's depth.
    """
    if preset.objective == "class":
        if target is None:
            raise DreamError(f"The {preset.name!r} preset dreams toward a class; name one with --class "
                             f"(one of {list(classes or [])}).")
        return class_objective(target, classes=classes)
    return layer_objective(preset.layer(conv_layers))


def match_batch(x: np.ndarray, objective: Objective, *, what: str = "clips") -> np.ndarray:
    """``x`` with one item per item of a :class:`Batched` objective (a single item is copied).

    Parameters
    ----------
    x : np.ndarray [shape=(batch, ...)]
    objective : Objective
        Any other objective takes any batch, returned as it is.
    what : str
        What the items are, for the error message.

    Returns
    -------
    x : np.ndarray [shape=(len(objective), ...)] for a :class:`Batched` objective

    Raises
    ------
    DreamError
        A batched objective and a batch of another size (not one).
    """
    if not isinstance(objective, Batched):
        return x
    if len(x) == 1:
        return np.repeat(x, len(objective), axis=0)
    if len(x) != len(objective):
        raise DreamError(f"A batched objective of {len(objective)} items needs a batch of "
                         f"{len(objective)} {what} (or one to copy), got {len(x)}.")
    return x
