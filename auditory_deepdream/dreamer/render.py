"""The ascent stage of every dream: clips at the model's rate in, the dream's sound out.

:func:`render` encodes the clips, runs the one ascent loop the options call for (a gain
climbed through the sonification, free log-mel values, or the samples themselves), with
the objective and the robustness transforms passed in, and sonifies the result. It
returns a :class:`Rendered`, which the model-rate recipes and the full-rate path finish
in their own ways.
"""

from __future__ import annotations

import numpy as np

from .. import audio
from ..audio.loudness import match_rms
from ..options import DreamOptions
from ..settings import AudioSettings
from .activations import Dreamer
from .ascent import ascend_mel, ascend_waveform
from .gain import ascend_gain
from .objectives import Objective, match_batch
from .result import Rendered
from .sonification import sonify
from .transforms import BandShift, Jitter, Octaves

__all__ = ["render", "within_jump"]


def render(dreamer: Dreamer, y: np.ndarray, objective: Objective, *, options: DreamOptions,
           progress: bool | None = None) -> Rendered:
    """Encode, ascend and sonify clips at the model's rate.

    Parameters
    ----------
    dreamer : Dreamer
    y : np.ndarray [shape=(batch, n_samples)]
        Checked clips at the model's rate.
    objective : Objective
        Already checked against the dreamer.
    options : DreamOptions
    progress : bool, optional
        Show a bar (default: for long jobs).

    Returns
    -------
    Rendered
    """
    s, o = dreamer.settings, options
    mel = match_batch(audio.encode(y, settings=s), objective)  # a clip copied to a batch is encoded once
    y = match_batch(y, objective)
    transforms = (Jitter(int(o.jitter)),) if o.jitter else ()
    if o.band_shift:
        transforms += (BandShift(int(o.band_shift)),)
    how = o.sonification
    if o.domain == "mel" and o.consistent:
        max_gain = o.gain_clamp_db
        gain, _, history = ascend_gain(dreamer, y, objective, options=o, transforms=transforms, max_gain_db=max_gain,
                                       progress=progress)
        if o.max_jump is not None:
            gain = within_jump(y, gain, settings=s, max_gain_db=max_gain, limit=float(o.max_jump), method=how,
                               n_iter=o.n_iter, seed=o.seed)
        sound = sonify(y, gain, settings=s, method=how, n_iter=o.n_iter, seed=o.seed, max_gain_db=max_gain)
        climbed = sound if how == "original" else sonify(y, gain, settings=s, max_gain_db=max_gain)
        heard = audio.encode(match_rms(climbed, y), settings=s)  # what the ascent climbed, at the clip's level
        return Rendered(y, mel, heard, sound, history, gain)
    if o.domain == "waveform":
        sound, history = ascend_waveform(dreamer, y, objective, steps=o.steps, step_size=o.step_size,
                                         transforms=transforms, seed=o.seed, envelope=o.envelope, strength=o.strength,
                                         max_steps=o.max_steps)
        return Rendered(y, mel, audio.encode(sound, settings=s), sound, history)
    dreamed, history = ascend_mel(dreamer, mel, objective, steps=o.steps, step_size=o.step_size, transforms=transforms,
                                  octaves=Octaves(o.octaves, float(o.octave_scale)), seed=o.seed,
                                  block_frames=o.block_frames, overlap_frames=o.overlap_frames, progress=progress)
    max_gain = o.gain_clamp_db
    sound = sonify(y, dreamed - mel, settings=s, method=how, n_iter=o.n_iter, seed=o.seed, max_gain_db=max_gain)
    return Rendered(y, mel, dreamed, sound, history)


def within_jump(y, gain, *, settings: AudioSettings, max_gain_db: float, limit: float = 2.0,
                method: str = "original", n_iter: int = 32, seed: int = 0, rounds: int = 8) -> np.ndarray:
    """Scale a consistent dream's gain back, per item, until no sample step exceeds ``limit`` times the input's.

    The largest sample-to-sample step of the loudness-matched sound is how clicks show;
    a dream that brightens a clip a lot raises it too. Items already within the limit
    keep their gain; the others get the largest share of it (bisection) that is.

    Parameters
    ----------
    y : np.ndarray [shape=(batch, n_samples)]
    gain : np.ndarray [shape=(batch, n_mels, n_frames)]
    settings : AudioSettings
    max_gain_db, limit : float
    method, n_iter, seed
        The sonification the dream will be heard through (:func:`~.sonification.sonify`).

    Returns
    -------
    gain : np.ndarray [shape=(batch, n_mels, n_frames)]
    """
    top = np.maximum(np.max(np.abs(np.diff(y, axis=-1)), axis=-1), 1e-12)

    def ratio(t):
        out = match_rms(sonify(y, t[:, None, None] * gain, settings=settings, method=method, n_iter=n_iter,
                               seed=seed, max_gain_db=max_gain_db), y)
        return np.max(np.abs(np.diff(out, axis=-1)), axis=-1) / top

    over = ratio(np.ones(len(y), np.float32)) > limit
    if not over.any():
        return gain
    lo, hi = np.zeros(len(y), np.float32), np.ones(len(y), np.float32)
    for _ in range(rounds):
        mid = 0.5 * (lo + hi)
        ok = ratio(mid) <= limit
        lo, hi = np.where(ok, mid, lo), np.where(ok, hi, mid)
    return (np.where(over, lo, 1.0)[:, None, None] * gain).astype(np.float32)
