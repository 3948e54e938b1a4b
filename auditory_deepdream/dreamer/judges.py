"""Judges: whether models that took no part in a dream hear what it was dreamed toward.

A dream toward a class can fool the model it was climbed on and nothing else. *Transfer*
asks separately trained judge models (:func:`load_judges`) whether they hear more of the
target in the dream than in a control that changes the input by the same spectral
magnitude with random phase (:func:`control_for`, :func:`transfer_margins`), or than in
dreams of the same clip toward the other classes (:func:`judge_log_probabilities`,
:func:`other_class_margins`). A dream that only fools the model it was made with has a
margin near zero under either control.

All audio is a NumPy array: ``(n_samples,)`` mono or ``(channels, n_samples)``, which is
mixed to mono by averaging the channels.
"""

from __future__ import annotations

import os
from pathlib import Path

import librosa
import numpy as np
import pandas as pd

from .. import models
from ..audio.resampling import resample
from ..classify import classify
from ..errors import AudioInputError, DreamError, ModelError
from .quality import _mono, _stft

__all__ = [
    "JUDGES",
    "class_log_probability",
    "control_for",
    "judge_log_probabilities",
    "load_judges",
    "other_class_margins",
    "phase_randomised",
    "transfer_margins",
    "transfer_table",
]

JUDGES = ("conv_blocks", "freq_preserving", "timbre", "vgg_like")


def phase_randomised(change, *, sample_rate: int, seed: int = 0, n_fft: int = 2048,
                     hop_length: int = 512) -> np.ndarray:
    """The same STFT magnitude as ``change`` with uniformly random phase.

    The control of a transfer test: it alters the spectrum as much as the dream did,
    frame by frame and bin by bin, but carries none of the dream's structure in phase.
    The random phase is drawn once from ``seed`` and shared by every channel. The
    inverse STFT overlap-adds frames whose phases do not agree, which cancels about
    three quarters of the energy (with a hop of a quarter frame) and blurs the
    magnitude of each bin; the output is therefore scaled (one gain for all channels)
    so that its re-analysed STFT holds the energy of ``change``'s. Re-analysing gives
    back a close, not an exact, magnitude: the same spectrum on average, with the
    bin-by-bin spread of noise.

    Parameters
    ----------
    change : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sample_rate : int
        Rate of ``change`` (the STFT sizes are in samples; accepted so every measure is
        called alike).
    seed : int
        Same seed, same output.
    n_fft, hop_length : int
        STFT size and hop in samples.

    Returns
    -------
    control : np.ndarray [shape=change.shape, dtype=float64]
    """
    change = np.asarray(change, dtype=np.float64)
    if change.ndim not in (1, 2) or change.shape[-1] == 0:
        raise AudioInputError(f"change has shape {change.shape}; expected (n_samples,) or (channels, n_samples).")
    magnitude = np.abs(_stft(change, n_fft=n_fft, hop_length=hop_length))
    phase = np.random.default_rng(seed).uniform(-np.pi, np.pi, size=magnitude.shape[-2:])
    control = librosa.istft(magnitude * np.exp(1j * phase), n_fft=n_fft, hop_length=hop_length, window="hann",
                            center=True, length=change.shape[-1])
    wanted = np.sum(magnitude ** 2)
    got = np.sum(np.abs(_stft(control, n_fft=n_fft, hop_length=hop_length)) ** 2)
    return control * np.sqrt(wanted / got) if got > 0 else control


def control_for(input_audio, dreamed_audio, *, sample_rate: int, seed: int = 0) -> np.ndarray:
    """The control of a dream: the input plus the dream's change with its phase randomised.

    Parameters
    ----------
    input_audio, dreamed_audio : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Same shape.
    sample_rate : int
    seed : int
        Seeds the random phase (:func:`phase_randomised`).

    Returns
    -------
    control : np.ndarray [shape=input_audio.shape, dtype=float64]
    """
    x, d = np.asarray(input_audio, dtype=np.float64), np.asarray(dreamed_audio, dtype=np.float64)
    if x.shape != d.shape:
        raise AudioInputError(f"The input {x.shape} and the dream {d.shape} differ in shape; "
                              "a control needs the dream of exactly this input.")
    return x + phase_randomised(d - x, sample_rate=sample_rate, seed=seed)


# -------------------------------------------------------------------------- judges
def _default_judge_folder() -> Path:
    """``benchmarks/models`` beside the package (present in a source checkout only)."""
    return Path(__file__).resolve().parents[2] / "benchmarks" / "models"


def load_judges(names=JUDGES, *, folder: str | os.PathLike | None = None) -> dict:
    """Load separately trained models to judge a dream by.

    Parameters
    ----------
    names : iterable of str
        Model directories inside ``folder`` (the four benchmark models by default).
    folder : path-like, optional
        Where they are (default: ``benchmarks/models`` of the source checkout the
        package was imported from).

    Returns
    -------
    judges : dict of str to tuple
        Name to the ``(keras model, settings, card)`` that
        :func:`auditory_deepdream.models.load_model` returns, usable as ``model=`` of
        :func:`~auditory_deepdream.classify.classify` and :func:`class_log_probability`.

    Raises
    ------
    ModelError
        No such folder, or no model of that name in it.
    """
    root = Path(folder) if folder is not None else _default_judge_folder()
    if not root.is_dir():
        raise ModelError(f"No judge models at {root}. The judges are the benchmark models in the "
                         "benchmarks/models folder of a source checkout; work from one, or pass folder= "
                         "naming a folder of model directories.")
    return {name: models.load_model(root / name) for name in names}


def class_log_probability(audio_in, *, sample_rate: int, model, target: str) -> float:
    """Mean log-probability of ``target`` over a clip's segments under one model.

    The clip goes through the package's front end exactly as
    :func:`~auditory_deepdream.classify.classify` sends it (resampled to the model's
    rate, trimmed, cut into 1-second segments, probabilities floored at 1e-7); the
    result is the classifier's vote (summed log-probabilities of the voting segments)
    divided by the number of voting segments. A mean, not a sum, so that it does not
    grow with the clip's length.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Mixed to mono.
    sample_rate : int
        Rate of ``audio_in``.
    model : tuple, Dreamer, str or path-like
        A judge from :func:`load_judges` (or the triple :func:`models.load_model`
        returns), a Dreamer, or a model name or directory (loaded on every call).
    target : str
        One of the model's classes.

    Returns
    -------
    log_p : float
        At most 0; at least ``log(1e-7)``.

    Raises
    ------
    ModelError
        ``target`` is not one of the model's classes.
    AudioInputError
        Audio the classifier cannot use (silent, too short, non-finite).
    """
    classes, log_p = _mean_log_probabilities(audio_in, sample_rate=sample_rate, model=model)
    if target not in classes:
        raise ModelError(f"The model has no class {target!r}; its classes are {list(classes)}.")
    return float(log_p[classes.index(target)])


def _mean_log_probabilities(audio_in, *, sample_rate: int, model) -> tuple[list, np.ndarray]:
    """The model's classes and its mean segment log-probability of each (see :func:`class_log_probability`)."""
    if isinstance(model, (str, os.PathLike)):
        model = models.load_model(model)
    model_rate = (model[1] if isinstance(model, tuple) else model.settings).sample_rate
    y = _mono(audio_in)
    if sample_rate != model_rate:
        y = resample(y, orig_sr=sample_rate, target_sr=model_rate)
    result = classify(y.astype(np.float32), model=model)
    return list(result.classes), np.asarray(result.note_log_probabilities, np.float64) / result.voting.sum()


def judge_log_probabilities(audio_in, *, sample_rate: int, judges: dict) -> dict[str, dict[str, float]]:
    """Every judge's :func:`class_log_probability` of every one of its classes.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Mixed to mono.
    sample_rate : int
    judges : dict of str to model
        From :func:`load_judges`.

    Returns
    -------
    log_p : dict of str to dict of str to float
        Judge name to {class: mean segment log-probability}.

    Raises
    ------
    AudioInputError
        Audio the classifier cannot use (silent, too short, non-finite).
    """
    out = {}
    for name, judge in judges.items():
        classes, log_p = _mean_log_probabilities(audio_in, sample_rate=sample_rate, model=judge)
        out[name] = {c: float(v) for c, v in zip(classes, log_p)}
    return out


def other_class_margins(dreams: dict) -> dict[str, dict[str, float]]:
    """How much more each judge hears a class in the dream toward it than in dreams toward the others.

    The control of this transfer test is the same clip dreamed, just as strongly, toward
    every other target: for target ``c`` and judge ``j`` the margin is
    ``log p_j(c | dream toward c) − mean over c' ≠ c of log p_j(c | dream toward c')``
    (the input's log p_j(c) cancels). A dream that changes the sound without carrying
    its class to the judge moves log p_j(c) as much as the dreams toward other classes
    do, and has a margin near zero. Unlike :func:`control_for`, this control does not
    share the dream's spectral envelope, which is what a magnitude-domain dream changes.

    Parameters
    ----------
    dreams : dict of str to dict
        Target class to :func:`judge_log_probabilities` of the dream toward it; at
        least two targets, all of the same clip, judged by the same judges.

    Returns
    -------
    margins : dict of str to dict of str to float
        Target to {judge: margin} in nats.

    Raises
    ------
    DreamError
        Fewer than two targets, judges that differ between the dreams, or a target
        that is not one of a judge's classes.
    """
    targets = list(dreams)
    if len(targets) < 2:
        raise DreamError(f"A control from dreams toward other classes needs at least two targets; got {targets}. "
                         "Dream the clip toward two or more classes.")
    judges = list(dreams[targets[0]])
    for t in targets:
        if list(dreams[t]) != judges:
            raise DreamError(f"The dream toward {t!r} was judged by {list(dreams[t])}, the one toward "
                             f"{targets[0]!r} by {judges}; judge every dream with the same judges.")
        for j in judges:
            missing = [c for c in targets if c not in dreams[t][j]]
            if missing:
                raise DreamError(f"Judge {j!r} has no class {missing[0]!r}; its classes are "
                                 f"{list(dreams[t][j])}. Choose targets every judge knows.")
    return {t: {j: dreams[t][j][t] - float(np.mean([dreams[u][j][t] for u in targets if u != t]))
                for j in judges}
            for t in targets}


def transfer_table(input_audio, dreamed_audio, control_audio, *, sample_rate: int, target: str,
                   judges: dict) -> pd.DataFrame:
    """Each judge's :func:`class_log_probability` of ``target`` for input, dream and control.

    Parameters
    ----------
    input_audio, dreamed_audio, control_audio : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        The control is usually :func:`control_for` of the input and the dream.
    sample_rate : int
    target : str
        The class the dream was meant to bring out.
    judges : dict of str to model
        From :func:`load_judges`.

    Returns
    -------
    table : pd.DataFrame [shape=(n_judges, 6)]
        Indexed by judge: ``log_p_input``, ``log_p_dream``, ``log_p_control``,
        ``dream_gain`` (dream − input), ``control_gain`` (control − input) and
        ``margin`` (dream gain − control gain).
    """
    rows = {}
    for name, judge in judges.items():
        log_p = [class_log_probability(y, sample_rate=sample_rate, model=judge, target=target)
                 for y in (input_audio, dreamed_audio, control_audio)]
        rows[name] = dict(zip(("log_p_input", "log_p_dream", "log_p_control"), log_p))
    table = pd.DataFrame.from_dict(rows, orient="index")
    table["dream_gain"] = table.log_p_dream - table.log_p_input
    table["control_gain"] = table.log_p_control - table.log_p_input
    table["margin"] = table.dream_gain - table.control_gain
    return table


def transfer_margins(input_audio, dreamed_audio, control_audio, *, sample_rate: int, target: str,
                     judges: dict) -> dict[str, float]:
    """How much more each judge hears ``target`` in the dream than in its control.

    Per judge, ``[log p(target | dream) − log p(target | input)] −
    [log p(target | control) − log p(target | input)]`` with mean segment
    log-probabilities (:func:`class_log_probability`). Positive: the dream's change
    carries the class to a model that took no part in it, beyond what a change of the
    same spectral magnitude with random phase does.

    Parameters
    ----------
    input_audio, dreamed_audio, control_audio, sample_rate, target, judges
        As :func:`transfer_table`.

    Returns
    -------
    margins : dict of str to float
        Judge name to margin (natural-log units).
    """
    table = transfer_table(input_audio, dreamed_audio, control_audio, sample_rate=sample_rate, target=target,
                           judges=judges)
    return {name: float(m) for name, m in table["margin"].items()}


# ------------------------------------------------------------------- all together
