"""What a dream produced, and how much of it the listener gets.

Every dream is measured the same way, whatever the domain or rate: the output is
re-encoded and the objective evaluated on the input, on the dream and on the output, and
:func:`survival` is the share of the activation gain that made it into the sound.
:func:`build_result` is the one place a :class:`DreamResult` is made.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import audio
from ..audio.loudness import rms_db
from ..errors import AudioInputError
from ..options import DreamOptions
from .activations import Dreamer
from .objectives import Objective
from .quality import noise_lift

__all__ = ["DreamResult", "Rendered", "survival", "spectral_change", "build_result"]

# bins this far below the input's loudest band count as silence when measuring change
CHANGE_FLOOR_DB = 80.0


def spectral_change(mel_before, mel_after, *, floor_db: float = CHANGE_FLOOR_DB) -> np.ndarray:
    """Mean absolute log-mel difference in dB over bins that are not silent in both.

    Parameters
    ----------
    mel_before, mel_after : np.ndarray [shape=(batch, n_mels, n_frames)]
    floor_db : float
        Bins more than this far below the input's loudest bin, in both spectrograms,
        are left out (silence changing from -100 to -90 dB is not heard).

    Returns
    -------
    change_db : np.ndarray [shape=(batch,)]
    """
    a, b = np.asarray(mel_before, np.float32), np.asarray(mel_after, np.float32)
    floor = a.max(axis=(-2, -1), keepdims=True) - floor_db
    heard = (a > floor) | (b > floor)
    diff = np.abs(np.maximum(b, floor) - np.maximum(a, floor))
    return (np.sum(diff * heard, axis=(-2, -1)) / np.maximum(np.sum(heard, axis=(-2, -1)), 1)).astype(np.float32)



@dataclass(frozen=True)
class Rendered:
    """What the ascent made of some clips, at the model's rate (:func:`~.render.render`).

    Attributes
    ----------
    y : np.ndarray [shape=(batch, n_samples)]
        The clips, copied to every item of a batched objective.
    mel, dreamed : np.ndarray [shape=(batch, n_mels, n_frames)]
        Their log-mel, and the log-mel the ascent reached (for a consistent dream, what
        it heard at the clip's level).
    sound : np.ndarray [shape=(batch, n_samples)]
        The dream as audio, not yet loudness-matched.
    history : np.ndarray [shape=(n_steps, batch)]
        Objective before each step.
    gain : np.ndarray [shape=(batch, n_mels, n_frames)] or None
        The mel-band gain of a consistent mel dream, for callers that apply it at another
        rate or to other channels (None otherwise).
    """

    y: np.ndarray
    mel: np.ndarray
    dreamed: np.ndarray
    sound: np.ndarray
    history: np.ndarray
    gain: np.ndarray | None = None


@dataclass
class DreamResult:
    """Everything a dream produced, with the measures of what survived into the sound.

    Attributes
    ----------
    audio : np.ndarray [shape=(n_samples,) or (batch, n_samples)]
        Output, loudness-matched to the input, peak below 1.
    input_audio : np.ndarray, same shape as ``audio``
    sample_rate : int
        Rate of ``audio`` and ``input_audio``.
    objective : Objective
    domain : {'mel', 'waveform'}
        What was ascended on.
    sonify : {'original', 'griffin-lim'} or None
        How a mel-domain dream became sound (None for the waveform domain).
    seed : int
    mel_before, mel_dreamed, mel_after : np.ndarray [shape=(batch, n_mels, n_frames)]
        Input log-mel, the dreamed log-mel, and the output audio re-encoded at the model's
        rate (None when the dream was not measured).
    objective_before, objective_dreamed, objective_after : np.ndarray [shape=(batch,)]
        Objective on the input, on the dreamed spectrogram, and on the re-encoded output.
    survival : np.ndarray [shape=(batch,)]
        :func:`survival` of the output: the fraction of the activation gain that the
        listener gets (NaN where the dream gained nothing).
    survival_sonified : np.ndarray [shape=(batch,)]
        The same fraction measured before loudness matching: what the sonification
        alone keeps (dreams that raise overall level lose the rest to the level match).
    spectral_change_db : np.ndarray [shape=(batch,)]
        :func:`spectral_change` from input to output: mean absolute log-mel difference
        in dB over the bins that are not silent (the measure ``strength`` aims at).
    noise_lift_db : np.ndarray [shape=(batch,)]
        :func:`~.quality.noise_lift` of the output: how far the input's quietest 20 % of
        cells below 8 kHz came up, in dB, at the input's loudness (NaN when not measured).
    loudness_in_db, loudness_out_db : np.ndarray [shape=(batch,)]
        RMS level in dBFS.
    history : np.ndarray [shape=(steps * octaves, batch)]
        Objective before each ascent step.
    lufs_in, lufs_out, true_peak_dbtp : float, optional
        Integrated loudness (BS.1770) of input and output and the output's true peak, for
        dreams of whole recordings (:func:`~.full_rate.dream_channels`); None otherwise.
    options : DreamOptions, optional
        The options the dream was made with (save them with ``options.save(path)``).
    """

    audio: np.ndarray
    input_audio: np.ndarray
    sample_rate: int
    objective: Objective
    domain: str
    sonify: str | None
    seed: int
    mel_before: np.ndarray
    mel_dreamed: np.ndarray
    mel_after: np.ndarray | None
    objective_before: np.ndarray
    objective_dreamed: np.ndarray
    objective_after: np.ndarray
    survival: np.ndarray
    survival_sonified: np.ndarray
    spectral_change_db: np.ndarray
    noise_lift_db: np.ndarray
    loudness_in_db: np.ndarray
    loudness_out_db: np.ndarray
    history: np.ndarray
    lufs_in: float | None = None
    lufs_out: float | None = None
    true_peak_dbtp: float | None = None
    options: DreamOptions | None = None

    def summary(self) -> dict:
        """Scalar summary (means over the batch) for printing or JSON."""
        return {
            "objective": str(self.objective), "domain": self.domain, "sonify": self.sonify, "seed": self.seed,
            "objective_before": float(np.mean(self.objective_before)),
            "objective_dreamed": float(np.mean(self.objective_dreamed)),
            "objective_after": float(np.mean(self.objective_after)),
            "survival": _nanmean(self.survival),
            "survival_sonified": _nanmean(self.survival_sonified),
            "spectral_change_db": float(np.mean(self.spectral_change_db)),
            "noise_lift_db": _nanmean(self.noise_lift_db),
            "loudness_in_db": float(np.mean(self.loudness_in_db)),
            "loudness_out_db": float(np.mean(self.loudness_out_db)),
            "lufs_in": self.lufs_in, "lufs_out": self.lufs_out, "true_peak_dbtp": self.true_peak_dbtp,
        }


def _nanmean(values) -> float | None:
    return float(np.nanmean(values)) if np.isfinite(values).any() else None


def _lift(a, b, sample_rate: int) -> float:
    """:func:`~.quality.noise_lift`, NaN for a silent input (nothing quiet to lift)."""
    try:
        return noise_lift(a, b, sample_rate=sample_rate)
    except AudioInputError:
        return float("nan")


def survival(before, dreamed, after) -> np.ndarray:
    """Share of the activation gain that survives: ``(after - before) / (dreamed - before)``.

    Parameters
    ----------
    before, dreamed, after : np.ndarray [shape=(batch,)]
        Objective on the input, on the dream, and on what the listener hears.

    Returns
    -------
    survival : np.ndarray [shape=(batch,), dtype=float32]
        NaN where the dream gained nothing (``|dreamed - before| <= 1e-6``).
    """
    gain = np.asarray(dreamed) - np.asarray(before)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(np.abs(gain) > 1e-6, (np.asarray(after) - before) / gain, np.nan).astype(np.float32)


def build_result(dreamer: Dreamer, objective: Objective, rendered: Rendered, *, audio_in, audio_out,
                 sample_rate: int, heard, options: DreamOptions, single: bool, measure: bool) -> DreamResult:
    """Measure a dream and gather it in a :class:`DreamResult`.

    Parameters
    ----------
    dreamer : Dreamer
    objective : Objective
    rendered : Rendered
        What the ascent made, at the model's rate: the input and dreamed log-mel, the
        sound before loudness matching, the history.
    audio_in, audio_out : np.ndarray [shape=(batch, n_samples)]
        Input and final output, at ``sample_rate``.
    sample_rate : int
    heard : np.ndarray [shape=(batch, n_model_samples)]
        The output at the model's rate (re-encoded as ``mel_after``).
    options : DreamOptions
        Recorded as given (``domain``, ``sonify`` resolved, ``seed``).
    single : bool
        Return ``audio`` and ``input_audio`` without the batch axis.
    measure : bool
        Re-encode and evaluate; ``False`` leaves ``mel_after`` None and the measures NaN.

    Returns
    -------
    DreamResult
    """
    s = dreamer.settings
    mel, dreamed = rendered.mel, rendered.dreamed
    if measure:
        mel_after = audio.encode(heard, settings=s)
        before = dreamer.evaluate(mel, objective)
        at_dream = dreamer.evaluate(dreamed, objective)
        after = dreamer.evaluate(mel_after, objective)
        kept = survival(before, at_dream, dreamer.evaluate(audio.encode(rendered.sound, settings=s), objective))
        change = spectral_change(mel, mel_after)
        lift = np.array([_lift(a, b, sample_rate) for a, b in zip(audio_in, audio_out)], np.float32)
    else:  # the sound alone: no re-encoding, no objective evaluations
        mel_after = None
        before = at_dream = after = kept = change = lift = np.full(len(mel), np.nan, dtype=np.float32)
    squeeze = (lambda a: a[0]) if single else (lambda a: a)
    return DreamResult(
        audio=squeeze(audio_out), input_audio=squeeze(audio_in), sample_rate=int(sample_rate),
        objective=objective, domain=options.domain, sonify=options.sonification, seed=int(options.seed),
        mel_before=mel, mel_dreamed=dreamed, mel_after=mel_after, objective_before=before,
        objective_dreamed=at_dream, objective_after=after, survival=survival(before, at_dream, after),
        survival_sonified=kept, spectral_change_db=change, noise_lift_db=lift, loudness_in_db=rms_db(audio_in),
        loudness_out_db=rms_db(audio_out), history=rendered.history, options=options)
