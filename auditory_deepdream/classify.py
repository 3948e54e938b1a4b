"""Naming the instrument family of a clip with a trained model.

A clip goes through the same front end training used (:func:`~auditory_deepdream.audio.trim`,
:func:`~auditory_deepdream.audio.segment`, :func:`~auditory_deepdream.audio.encode`), the
model scores every 1-second segment in one batch, and the segments vote by summed
log-probability, as the model card's note-level accuracy was measured
(:func:`note_log_probabilities` is that vote, shared with
:func:`auditory_deepdream.training.evaluate.note_votes`).

The vote names the family; the probabilities reported with it are the segments' mean
log-probability renormalised (their normalised geometric mean), which does not grow surer as a
file grows longer: the summed vote of a 61-second file reads 1.00 whatever it holds. The models
learnt from single notes, so every :class:`Classification` also says whether the clip is one
pitched note (:mod:`auditory_deepdream.single_note`); when it is not, its family is only the
closest one.

A multi-label tagger (musicnn's, whose card's ``kind`` is ``"tagger"``: one sigmoid per tag)
is not a family vote: :func:`classify` with one returns a :class:`Tagging` instead, each
tag's probability averaged over the clip's 3-s patches as musicnn's ``top_tags`` does
(:func:`~auditory_deepdream.models.musicnn.taggram`), with no single-note check: the
taggers learnt from whole songs.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np
import pandas as pd

from . import audio, models
from .errors import AudioInputError, ModelError
from .models.ensembles import LOG_FLOOR
from .settings import AudioSettings
from .single_note import NoteCheck, check_single_note

__all__ = ["Classification", "Tagging", "classify", "tag_clip", "note_log_probabilities"]

def note_log_probabilities(probs: np.ndarray, note_ids) -> pd.DataFrame:
    """Each note's vote: the log-probabilities of its segments, summed.

    Summing log-probabilities treats segments as independent evidence, so one
    confident segment outweighs several unsure ones.

    Parameters
    ----------
    probs : np.ndarray [shape=(n_segments, n_classes)]
        Class probabilities of each segment.
    note_ids : array-like [shape=(n_segments,)]
        The note each segment was cut from.

    Returns
    -------
    votes : pd.DataFrame [shape=(n_notes, n_classes)]
        Indexed by note id (sorted), one column per class code.
    """
    return pd.DataFrame(np.log(np.clip(probs, LOG_FLOOR, 1.0))).groupby(np.asarray(note_ids)).sum()


def _softmax(log_p: np.ndarray) -> np.ndarray:
    p = np.exp(log_p - log_p.max())  # no overflow in exp
    return p / p.sum()


@dataclass(frozen=True)
class Classification:
    """What :func:`classify` found in one clip.

    Attributes
    ----------
    classes : tuple of str
        The model's families, in output order.
    segment_probabilities : np.ndarray [shape=(n_segments, n_classes), dtype=float32]
        The model's probabilities for each 1-second segment.
    segment_times : np.ndarray [shape=(n_segments,)]
        Start of each segment in seconds, counted from the start of the trimmed clip
        (leading silence removed).
    voting : np.ndarray [shape=(n_segments,), dtype=bool]
        The segments that vote: those at least ``min_audio_fraction`` real audio rather
        than end padding (the first segment always votes).
    note_log_probabilities : np.ndarray [shape=(n_classes,)]
        The vote: summed log-probabilities of the voting segments (the model card's note vote).
    trimmed : np.ndarray [shape=(n_samples,), dtype=float32]
        The clip the model heard, silence trimmed (for :attr:`note_check`).
    sample_rate : int
        Of ``trimmed``: the model's.
    """

    classes: tuple[str, ...]
    segment_probabilities: np.ndarray
    segment_times: np.ndarray
    voting: np.ndarray
    note_log_probabilities: np.ndarray
    trimmed: np.ndarray = field(repr=False, compare=False)
    sample_rate: int = 22_050

    @property
    def probabilities(self) -> np.ndarray:
        """Each family's probability for the whole clip [shape=(n_classes,)], summing to 1.

        The softmax of the voting segments' mean log-probability (their normalised geometric
        mean): the clip repeated 30 times gets the same numbers as once. Ranks the families
        as the vote does.
        """
        return _softmax(self.note_log_probabilities / int(self.voting.sum()))

    @property
    def vote_probabilities(self) -> np.ndarray:
        """The summed vote normalised [shape=(n_classes,)]: each segment counts as independent
        evidence, so a long clip reads near 1.0 for its family whatever it holds."""
        return _softmax(self.note_log_probabilities)

    @property
    def family(self) -> str:
        """The family the vote names (when :attr:`single_note` is False: the closest one)."""
        return self.classes[int(np.argmax(self.note_log_probabilities))]

    @cached_property
    def note_check(self) -> NoteCheck:
        """Whether the clip is one pitched note, what the models were trained on (computed
        when first asked: pitch tracking takes about a second for a 3-second note)."""
        return check_single_note(self.trimmed, sample_rate=self.sample_rate)

    @property
    def single_note(self) -> bool:
        """Whether the clip is one pitched note (see :mod:`auditory_deepdream.single_note`)."""
        return self.note_check.single_note

    @property
    def verdict(self) -> str:
        """In words: ``"single pitched note"``, or ``"not a single pitched note (REASON)"``."""
        check = self.note_check
        return "single pitched note" if check.single_note else f"not a single pitched note ({check.reason})"

    def top(self, k: int = 3) -> list[tuple[str, float]]:
        """The ``k`` most probable families, most probable first, as ``(family, probability)``."""
        p = self.probabilities
        order = np.argsort(-p, kind="stable")[:k]
        return [(self.classes[i], float(p[i])) for i in order]

    def to_dict(self) -> dict:
        """A JSON-ready summary: the family, the note check, the top 3, the vote and every segment."""
        return {
            "family": self.family,
            "single_note": self.single_note,
            "verdict": self.verdict,
            "note_check": self.note_check.to_dict(),
            "top": [{"family": f, "probability": p} for f, p in self.top(3)],
            "probabilities": dict(zip(self.classes, map(float, self.probabilities))),
            "note_log_probabilities": dict(zip(self.classes, map(float, self.note_log_probabilities))),
            "segments": [{"start_seconds": float(t), "votes": bool(v),
                          "probabilities": dict(zip(self.classes, map(float, p)))}
                         for t, v, p in zip(self.segment_times, self.voting, self.segment_probabilities)],
        }


@dataclass(frozen=True)
class Tagging:
    """What a multi-label tagger (musicnn's) found in one clip: :func:`tag_clip`.

    Attributes
    ----------
    model : str
        The tagger's name (``"musicnn-mtt"`` ...).
    tags : tuple of str
        Its tags, in output order.
    taggram : np.ndarray [shape=(n_patches, n_tags), dtype=float32]
        Each tag's sigmoid probability in each 3-s patch, back to back
        (:func:`~auditory_deepdream.models.musicnn.taggram`); a clip shorter than a patch is
        repeat-padded to one.
    """

    model: str
    tags: tuple[str, ...]
    taggram: np.ndarray

    @property
    def probabilities(self) -> np.ndarray:
        """Each tag's probability for the clip [shape=(n_tags,), dtype=float32]: its mean over the
        patches (:func:`~auditory_deepdream.models.musicnn.tag`). Tags are independent: no sum to 1."""
        return self.taggram.mean(axis=0)

    def top(self, k: int = 5) -> list[tuple[str, float]]:
        """The ``k`` most probable tags, most probable first, as ``(tag, probability)`` (musicnn's
        ``top_tags`` gives 5)."""
        p = self.probabilities
        order = np.argsort(-p, kind="stable")[:k]
        return [(self.tags[i], float(p[i])) for i in order]

    def to_dict(self, k: int = 5) -> dict:
        """A JSON-ready summary: the model, the top ``k`` tags, every tag's probability, the patch count."""
        return {
            "model": self.model,
            "top": [{"tag": t, "probability": p} for t, p in self.top(k)],
            "probabilities": dict(zip(self.tags, map(float, self.probabilities))),
            "patches": len(self.taggram),
        }


def _resolve_model(model, settings: AudioSettings | None):
    """``(keras model, its settings, its card)`` from a name, folder, loaded triple or Dreamer."""
    if isinstance(model, (str, os.PathLike)):
        keras_model, model_settings, card = models.load_model(model)
    elif isinstance(model, tuple) and len(model) == 3:
        keras_model, model_settings, card = model
    else:
        # a Dreamer (or Ensemble) is recognised by what it carries: classify sits below the dreamer
        if not all(hasattr(model, name) for name in ("model", "settings", "card")):
            raise ModelError(f"Cannot classify with a {type(model).__name__}. Pass a bundled model name "
                             "('default'), a model directory, the (model, settings, card) that "
                             "models.load_model returns, or a Dreamer.")
        keras_model, model_settings, card = model.model, model.settings, model.card
    if settings is not None:
        model_settings.check_compatible(settings, mine="model", theirs="audio settings")
    classes = tuple(card.get("classes") or ())
    n_out = keras_model.outputs[0].shape[-1]
    if not classes or len(classes) != n_out:
        raise ModelError(f"The model has {n_out} outputs but its card names {len(classes)} classes; "
                         "classify needs a model directory whose card.json lists 'classes' in output order.")
    return keras_model, model_settings, card


def classify(audio_in, *, model="augmented", settings: AudioSettings | None = None,
             hop_seconds: float | None = None, min_audio_fraction: float = 0.5,
             name: str | None = None) -> Classification | Tagging:
    """Name the instrument family of a clip: segment it, score each segment, let them vote.

    The whole clip is one note to the vote: a file holding several notes, or several
    instruments, still gets one answer, that of all its segments together (look at
    ``segment_probabilities`` to see how it changes over time), and
    :attr:`Classification.single_note` is False for it: the family is then only the closest.

    With a multi-label tagger (``"musicnn-mtt"``, ``"musicnn-msd"``, ``"vgg-mtt"``,
    ``"vgg-msd"``) there is no family to vote for: the result is :func:`tag_clip`'s
    :class:`Tagging`, the clip untrimmed, no single-note check (the taggers learnt from songs).

    Parameters
    ----------
    audio_in : str, path-like or np.ndarray [shape=(n_samples,)]
        An audio file (read as mono, resampled to the model's rate: 16 kHz for a tagger) or a
        mono waveform already at the model's sample rate.
    model : str, path-like, tuple or Dreamer
        A bundled model name (``"augmented"``, the default: the classifier trained with
        recording and fit-time augmentation; ``"default"``, the dreaming model; or a musicnn
        tagger's name), a model directory, the ``(keras model, settings, card)`` that
        :func:`auditory_deepdream.models.load_model` returns (load once to classify many
        clips), or a :class:`~auditory_deepdream.dreamer.Dreamer`.
    settings : AudioSettings, optional
        If given, must equal the model's (:class:`SettingsMismatchError` otherwise).
    hop_seconds : float, optional
        Distance between segment starts (default: one segment, no overlap, as the test
        notes behind the model card's scores were cut). Classifiers only: a tagger's
        patches are musicnn's, 3 s back to back.
    min_audio_fraction : float
        Segments holding less real audio than this (the zero-padded last one) are
        scored but do not vote, as in the model card's scores; the first always votes.
        Classifiers only.
    name : str, optional
        What to call the audio in error messages (default: the path, or "audio").

    Returns
    -------
    Classification or Tagging
        A :class:`Tagging` when the model's card says it is a ``"tagger"``.

    Raises
    ------
    AudioInputError
        A missing, empty, unreadable, silent or non-finite file or array, one that is not
        mono, or less sound than one STFT frame needs.
    ModelError
        No model at ``model``, or its card does not name its classes.
    SettingsMismatchError
        ``settings`` differ from the model's.

    See Also
    --------
    auditory_deepdream.training.evaluate.note_votes : the same vote over a whole store.

    Examples
    --------
    >>> from auditory_deepdream.audio import example_clip
    >>> classify(example_clip("cello_C3")).family
    'string'
    """
    keras_model, s, card = _resolve_model(model, settings)
    if card.get("kind") == "tagger":
        return _tagging(audio_in, s, card, name=name)
    classes = tuple(card["classes"])
    if isinstance(audio_in, (str, os.PathLike)):
        name = name or str(audio_in)
        y = audio.load_audio(Path(audio_in), settings=s)
    else:
        y = audio_in
    y = audio.trim(y, settings=s, name=name or "audio")
    shortest = s.n_fft // 2 + 1  # what audio.encode needs of a clip: dream refuses less too
    if len(y) < shortest:
        raise AudioInputError(
            f"{name or 'audio'} has only {len(y)} samples of sound ({1000 * len(y) / s.sample_rate:.0f} ms) "
            f"after trimming silence; classifying needs at least {shortest} samples "
            f"({1000 * shortest / s.sample_rate:.0f} ms at {s.sample_rate} Hz). Use a longer recording.")
    hop = s.segment_samples if hop_seconds is None else round(hop_seconds * s.sample_rate)
    segments = audio.segment(y, settings=s, hop_samples=hop)
    starts = np.arange(len(segments)) * hop
    # the share of each segment that is note rather than zero padding, as generator.audio_fraction
    voting = np.clip((len(y) - starts) / s.segment_samples, 0.0, 1.0) >= min_audio_fraction
    voting[0] = True
    mel = audio.encode(segments, settings=s)[..., np.newaxis]
    # called eagerly, not through predict's tf.function: a fresh model or batch size in a loop would
    # retrace it (TensorFlow's "triggered tf.function retracing" warning) and a trace costs more than a call
    probs = np.asarray(keras_model(mel, training=False), dtype=np.float32)
    vote = note_log_probabilities(probs[voting], np.zeros(int(voting.sum()))).to_numpy()[0]
    return Classification(classes=classes, segment_probabilities=probs, segment_times=starts / s.sample_rate,
                          voting=voting, note_log_probabilities=vote, trimmed=np.asarray(y, dtype=np.float32),
                          sample_rate=s.sample_rate)


def tag_clip(audio_in, *, model="musicnn-mtt", name: str | None = None) -> Tagging:
    """A clip's tags from one of musicnn's multi-label taggers, as musicnn's ``top_tags`` gives them.

    The clip is cut into 3-s patches back to back (no silence trimmed, a clip shorter than a
    patch repeat-padded) and each tag's sigmoid probability averaged over them. The taggers
    learnt from whole songs, so there is no single-note check.

    Parameters
    ----------
    audio_in : str, path-like or np.ndarray [shape=(n_samples,)]
        An audio file of any rate and channel count (read as mono at 16 kHz) or a mono
        waveform at 16 kHz.
    model : str, tuple or Dreamer
        A tagger's name (:data:`~auditory_deepdream.models.PRETRAINED`: ``"musicnn-mtt"``,
        the default, ``"musicnn-msd"``, ``"vgg-mtt"``, ``"vgg-msd"``), what
        :func:`~auditory_deepdream.models.load_model` returns for one, or a Dreamer of one.
    name : str, optional
        What to call the audio in error messages (default: the path, or "audio").

    Returns
    -------
    Tagging

    Raises
    ------
    AudioInputError
        A missing, empty, unreadable, silent or non-finite file or array, one that is not
        mono, or shorter than one STFT frame (257 samples).
    ModelError
        ``model`` is not one of musicnn's taggers (classify a classifier with :func:`classify`).

    Examples
    --------
    >>> from auditory_deepdream.audio import example_clip
    >>> [t for t, _ in tag_clip(example_clip("cello_C3")).top(3)]
    ['violin', 'classical', 'strings']
    """
    _, s, card = _resolve_model(model, None)
    if card.get("kind") != "tagger":
        raise ModelError(f"{card.get('name') or 'This model'} is a classifier, not a tagger; name the instrument "
                         "family with classify(), or tag with 'musicnn-mtt', 'musicnn-msd', 'vgg-mtt' or 'vgg-msd'.")
    return _tagging(audio_in, s, card, name=name)


def _tagging(audio_in, s: AudioSettings, card: dict, *, name: str | None) -> Tagging:
    """:func:`tag_clip` once the tagger is loaded: ``taggram`` of the clip read at its rate."""
    from .models.musicnn import taggram

    if isinstance(audio_in, (str, os.PathLike)):
        y = audio.load_audio(Path(audio_in), settings=s)
    else:
        y = audio.check_audio(audio_in, name=name or "audio")
    # the card's name is a PRETRAINED key: taggram loads that network once per process, the same object
    return Tagging(model=str(card["name"]), tags=tuple(card["classes"]),
                   taggram=taggram(y, model=str(card["name"])))
