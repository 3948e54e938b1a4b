"""One-call dreams: :func:`dream` (*encode → ascend → sonify → measure*) and its recipes.

Two independent choices say how a dream is made:

* ``domain``: what gradient ascent changes, the log-mel spectrogram (``'mel'``,
  :func:`~.ascent.ascend_mel`) or the samples themselves (``'waveform'``,
  :func:`~.ascent.ascend_waveform`);
* ``sonify``: for a mel dream only, how it becomes sound again, as a gain on the input's
  own STFT (``'original'`` phase) or with Griffin-Lim (``'griffin-lim'``).

:data:`SOUND_PATHS` names the three valid combinations, as the CLI and the auditioner
offer them. :func:`amplify_filter`, :func:`dream_layer` and :func:`audition_layer` are
:func:`dream` with the objective built for you.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from .. import audio
from ..errors import AudioInputError, DreamError
from ..settings import AudioSettings
from .activations import Dreamer, as_dreamer
from .ascent import ascend_mel, ascend_waveform
from .gain import ascend_gain
from .objectives import Batched, Objective, audition_objective, filter_objective, layers_objective, match_batch
from .result import DreamResult, build_result
from .sonification import SONIFICATIONS, match_loudness
from .sonification import sonify as sonify_change
from .transforms import BandShift, Jitter, Octaves

__all__ = ["DOMAINS", "SOUND_PATHS", "dream", "amplify_filter", "dream_layer", "audition_layer"]

DOMAINS = ("mel", "waveform")
GAIN_CLAMP_DB = 24.0  # a consistent mel dream boosts or cuts no STFT bin by more than this
# the three ways to get sound, by the names the CLI and the auditioner show
SOUND_PATHS = {
    "original": {"domain": "mel", "sonify": "original"},
    "griffin-lim": {"domain": "mel", "sonify": "griffin-lim"},
    "waveform": {"domain": "waveform", "sonify": None},
}


def resolve_sonify(domain: str, sonify: str | None, *, octaves: int, consistent: bool = False) -> str | None:
    """The sonification a ``domain`` / ``sonify`` pair means (None for waveform dreams).

    Raises
    ------
    DreamError
        An unknown domain or sonification, ``sonify`` given for a waveform dream, or
        octaves in the waveform domain or in a consistent mel dream.
    """
    if domain not in DOMAINS:
        raise DreamError(f"Unknown domain {domain!r}; choose one of {list(DOMAINS)}.")
    if domain == "waveform":
        if sonify is not None:
            raise DreamError(f"sonify={sonify!r} applies to mel-domain dreams only: a waveform dream is "
                             "already sound. Leave sonify out, or use domain='mel'.")
        if octaves != 1:
            raise DreamError("Waveform dreaming works at one time scale; use octaves=1.")
        return None
    sonify = "original" if sonify is None else sonify
    if consistent and octaves != 1:
        raise DreamError("Octaves rescale the spectrogram in time, which a consistent mel dream (a gain on "
                         "the clip's own STFT) cannot do; use octaves=1, or consistent=False for the "
                         "free mel ascent (--free --steps N in the CLI).")
    if sonify not in SONIFICATIONS:
        raise DreamError(f"Unknown sonification {sonify!r}; choose one of {list(SONIFICATIONS)}.")
    return sonify


def as_clips(audio_in) -> tuple[np.ndarray, bool]:
    """``(clips (batch, n_samples) float32, whether the input was one clip)``, every clip checked."""
    y = np.asarray(audio_in)
    single = y.ndim == 1
    y = np.atleast_2d(y).astype(np.float32)
    if y.ndim != 2:
        raise AudioInputError(f"Audio has shape {y.shape}; expected (n_samples,) or (batch, n_samples).")
    for row in y:
        audio.check_audio(row)
    return y, single


def render_dream(dreamer: Dreamer, y: np.ndarray, objective: Objective, *, steps: int, step_size: float,
                 domain: str, sonify: str | None, seed: int, octaves: int, octave_scale: float, jitter: int,
                 n_iter: int, max_gain_db: float | None, block_frames: int | None, overlap_frames: int,
                 envelope: bool, progress: bool | None, consistent: bool = False, strength: float | None = None,
                 max_steps: int = 40, band_shift: int = 0, smooth: int = 0, max_jump: float | None = None):
    """Encode, ascend and sonify clips at the model's rate (``sonify`` already resolved).

    A consistent mel dream (:func:`~.gain.ascend_gain`) also returns its gain, for callers
    that apply it at another rate or to other channels.

    Returns
    -------
    y : np.ndarray [shape=(batch, n_samples)]
        The clips, copied to every item of a :class:`Batched` objective.
    mel, dreamed : np.ndarray [shape=(batch, n_mels, n_frames)]
        Their log-mel and the dream's.
    sound : np.ndarray [shape=(batch, n_samples)]
        The dream as audio, not yet loudness-matched.
    history : np.ndarray [shape=(n_steps, batch)]
    gain : np.ndarray [shape=(batch, n_mels, n_frames)] or None
        The mel-band gain of a consistent mel dream (None otherwise).
    """
    s = dreamer.settings
    mel = match_batch(audio.encode(y, settings=s), objective)  # a clip copied to a batch is encoded once
    y = match_batch(y, objective)
    transforms = (Jitter(int(jitter)),) if jitter else ()
    if band_shift:
        if domain == "waveform":
            raise DreamError("band_shift moves a log-mel spectrogram along its bands; use it with domain='mel'.")
        transforms += (BandShift(int(band_shift)),)
    if strength is not None and not (domain == "waveform" or consistent):
        raise DreamError("strength needs a dream that measures what is heard: domain='waveform', or a "
                         "consistent mel dream (consistent=True).")
    if domain == "mel" and consistent:
        max_gain = GAIN_CLAMP_DB if max_gain_db is None else float(max_gain_db)
        gain, _, history = ascend_gain(dreamer, y, objective, steps=steps, step_size=step_size, strength=strength,
                                       max_steps=max_steps, transforms=transforms, seed=seed, max_gain_db=max_gain,
                                       smooth=smooth, progress=progress)
        if max_jump is not None:
            gain = within_jump(y, gain, settings=s, max_gain_db=max_gain, limit=float(max_jump), method=sonify,
                               n_iter=n_iter, seed=seed)
        sound = sonify_change(y, gain, settings=s, method=sonify, n_iter=n_iter, seed=seed, max_gain_db=max_gain)
        climbed = sound if sonify == "original" else sonify_change(y, gain, settings=s, max_gain_db=max_gain)
        heard = audio.encode(match_loudness(climbed, y), settings=s)  # what the ascent climbed, at the clip's level
        return y, mel, heard, sound, history, gain
    max_gain_db = 60.0 if max_gain_db is None else float(max_gain_db)
    if domain == "waveform":
        sound, history = ascend_waveform(dreamer, y, objective, steps=steps, step_size=step_size,
                                         transforms=transforms, seed=seed, envelope=envelope, strength=strength,
                                         max_steps=max_steps)
        return y, mel, audio.encode(sound, settings=s), sound, history, None
    dreamed, history = ascend_mel(dreamer, mel, objective, steps=steps, step_size=step_size, transforms=transforms,
                                  octaves=Octaves(max(1, int(octaves)), float(octave_scale)), seed=seed,
                                  block_frames=block_frames, overlap_frames=overlap_frames, progress=progress)
    sound = sonify_change(y, dreamed - mel, settings=s, method=sonify, n_iter=n_iter, seed=seed,
                          max_gain_db=max_gain_db)
    return y, mel, dreamed, sound, history, None


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
        out = match_loudness(sonify_change(y, t[:, None, None] * gain, settings=settings, method=method,
                                           n_iter=n_iter, seed=seed, max_gain_db=max_gain_db), y)
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


def dream(audio_in, *, model, objective: Objective, settings: AudioSettings | None = None, steps: int = 10,
          step_size: float = 1.0, domain: str = "mel", sonify: str | None = None, seed: int = 0,
          octaves: int = 1, octave_scale: float = 1.3, jitter: int = 0, n_iter: int = 32,
          max_gain_db: float | None = None, block_frames: int | None = None, overlap_frames: int = 64,
          envelope: bool = True, progress: bool | None = None, measure: bool = True, consistent: bool = False,
          strength: float | None = None, max_steps: int = 40, band_shift: int = 0, smooth: int = 0,
          max_jump: float | None = None) -> DreamResult:
    """Dream a clip: encode, ascend the objective, sonify, loudness-match, measure.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (batch, n_samples)] or path
        Audio at the model's sample rate (a path is loaded at that rate). A single clip
        is copied to every item of a :class:`Batched` objective.
    model : Dreamer, keras.Model, or str / path
        A :class:`Dreamer`, a Keras model (with ``settings``), or a model directory /
        bundled model name for :meth:`Dreamer.load`.
    objective : Objective
    settings : AudioSettings, optional
        The clip's settings; must equal the model's (:class:`SettingsMismatchError`).
        Required with a bare Keras model.
    steps : int
        Ascent steps (per octave).
    step_size : float
        ``'mel'``: dB (RMS over the spectrogram) per step; ``'waveform'``: a tenth of the
        clip's RMS per step (see :func:`~.ascent.ascend_waveform`).
    domain : {'mel', 'waveform'}
        Ascend on the log-mel spectrogram, or on the samples themselves (which needs no
        phase reconstruction).
    sonify : {'original', 'griffin-lim'}, optional
        Mel dreams only (default ``'original'``); see :func:`~.sonification.sonify`.
        Giving it with ``domain='waveform'`` is a :class:`DreamError`.
    seed : int
        Seeds jitter and Griffin-Lim; the result is deterministic for a seed.
    octaves, octave_scale
        Time scales of a mel dream (:class:`~.transforms.Octaves`); the waveform domain
        takes one.
    jitter : int
        Largest random time roll per step, in frames (:class:`~.transforms.Jitter`).
    n_iter, max_gain_db
        Griffin-Lim iterations and the gain clamp of :func:`~.sonification.sonify` (default
        60 dB; 24 dB for a consistent dream).
    block_frames, overlap_frames, progress
        Long mel dreams (see :func:`~.ascent.ascend_mel`).
    envelope : bool
        Waveform dreams: keep each update inside the clip's own spectrum.
    measure : bool
        Re-encode the output and evaluate the objective on the input, the dream and the
        output (survival, spectral change). ``False`` returns the sound only: ``mel_after``
        is None and the measures are NaN.
    consistent : bool
        Mel dreams: ascend on a mel-band gain through the sonification
        (:func:`~.gain.ascend_gain`), so the spectrogram climbed is the one heard, instead
        of on free log-mel values (the dissertation's ascent, whose gain mostly does not
        survive sonification). The CLI and :func:`~.full_rate.dream_file` use it.
    strength : float, optional
        Target spectral change in dB (:func:`~.result.spectral_change` of what is heard):
        the ascent runs until it is reached (at most ``max_steps``) instead of ``steps``.
        Waveform and consistent mel dreams.
    max_steps : int
    band_shift : int
        Mel dreams: a random shift of up to this many bands at every step
        (:class:`~.transforms.BandShift`), a robustness transform.
    smooth : int
        Consistent mel dreams: smooth the gain over this many frames after every step
        (see :func:`~.gain.ascend_gain`).
    max_jump : float, optional
        Consistent mel dreams: scale the gain back until no sample step of the output
        exceeds this many times the input's largest (:func:`within_jump`).

    Returns
    -------
    DreamResult

    See Also
    --------
    SOUND_PATHS : the valid ``domain`` / ``sonify`` pairs by name.
    """
    dreamer = as_dreamer(model, settings)
    how = resolve_sonify(domain, sonify, octaves=octaves, consistent=consistent)
    dreamer.check(objective)
    s = dreamer.settings
    if isinstance(audio_in, (str, os.PathLike)):
        audio_in = audio.load_audio(Path(audio_in), settings=s)
    y, single = as_clips(audio_in)
    y, mel, dreamed, sound, history, _ = render_dream(
        dreamer, y, objective, steps=steps, step_size=step_size, domain=domain, sonify=how, seed=seed,
        octaves=octaves, octave_scale=octave_scale, jitter=jitter, n_iter=n_iter, max_gain_db=max_gain_db,
        block_frames=block_frames, overlap_frames=overlap_frames, envelope=envelope, progress=progress,
        consistent=consistent, strength=strength, max_steps=max_steps, band_shift=band_shift, smooth=smooth,
        max_jump=max_jump)
    out = match_loudness(sound, y)
    return build_result(dreamer, objective, audio_in=y, audio_out=out, sample_rate=s.sample_rate, mel=mel,
                        dreamed=dreamed, heard=out, sonified=sound, history=history, domain=domain, sonify=how,
                        seed=seed, single=single and not isinstance(objective, Batched), measure=measure)


def amplify_filter(audio_in, *, model, layer: str, index: int, crop: int = 0,
                   settings: AudioSettings | None = None, steps: int = 10, step_size: float = 1.0,
                   domain: str = "mel", sonify: str | None = None, seed: int = 0, octaves: int = 1,
                   octave_scale: float = 1.3, jitter: int = 0, n_iter: int = 32, max_gain_db: float | None = None,
                   block_frames: int | None = None, overlap_frames: int = 64, envelope: bool = True,
                   progress: bool | None = None, measure: bool = True) -> DreamResult:
    """Amplify one filter of a layer (section 3.7's first algorithm).

    Parameters
    ----------
    layer : str
    index : int
        The filter.
    crop : int
        Bands and frames ignored at each border (see :class:`FilterObjective`).
    audio_in, model, settings, steps, step_size, domain, sonify, seed, octaves, octave_scale, jitter,
    n_iter, max_gain_db, block_frames, overlap_frames, envelope, progress, measure
        As :func:`dream`.

    Returns
    -------
    DreamResult
    """
    return dream(audio_in, model=model, objective=filter_objective(layer, index, crop=crop), settings=settings,
                 steps=steps, step_size=step_size, domain=domain, sonify=sonify, seed=seed, octaves=octaves,
                 octave_scale=octave_scale, jitter=jitter, n_iter=n_iter, max_gain_db=max_gain_db,
                 block_frames=block_frames, overlap_frames=overlap_frames, envelope=envelope, progress=progress,
                 measure=measure)


def dream_layer(audio_in, *, model, layers, crop: int = 0, settings: AudioSettings | None = None,
                steps: int = 10, step_size: float = 1.0, domain: str = "mel", sonify: str | None = None,
                seed: int = 0, octaves: int = 1, octave_scale: float = 1.3, jitter: int = 0, n_iter: int = 32,
                max_gain_db: float | None = None, block_frames: int | None = None, overlap_frames: int = 64,
                envelope: bool = True, progress: bool | None = None, measure: bool = True) -> DreamResult:
    """DeepDream on one layer name, a list of names, or a ``{name: weight}`` dict.

    Parameters
    ----------
    layers : str, list of str, or dict
    crop : int
        Bands and frames ignored at each border.
    audio_in, model, settings, steps, step_size, domain, sonify, seed, octaves, octave_scale, jitter,
    n_iter, max_gain_db, block_frames, overlap_frames, envelope, progress, measure
        As :func:`dream`.

    Returns
    -------
    DreamResult
    """
    if isinstance(layers, str):
        layers = {layers: 1.0}
    elif not isinstance(layers, dict):
        layers = {name: 1.0 for name in layers}
    return dream(audio_in, model=model, objective=layers_objective(layers, crop=crop), settings=settings,
                 steps=steps, step_size=step_size, domain=domain, sonify=sonify, seed=seed, octaves=octaves,
                 octave_scale=octave_scale, jitter=jitter, n_iter=n_iter, max_gain_db=max_gain_db,
                 block_frames=block_frames, overlap_frames=overlap_frames, envelope=envelope, progress=progress,
                 measure=measure)


def audition_layer(audio_in, *, model, layer: str, filters=None, crop: int = 0,
                   settings: AudioSettings | None = None, steps: int = 10, step_size: float = 1.0,
                   domain: str = "mel", sonify: str | None = None, seed: int = 0, octaves: int = 1,
                   octave_scale: float = 1.3, jitter: int = 0, n_iter: int = 32, max_gain_db: float | None = None,
                   block_frames: int | None = None, overlap_frames: int = 64, envelope: bool = True,
                   progress: bool | None = None, measure: bool = True) -> DreamResult:
    """Amplify every filter of ``layer`` (or those listed) on one clip in one batched run.

    Parameters
    ----------
    layer : str
    filters : sequence of int, optional
        Default: every filter of the layer.
    crop : int
        Bands and frames ignored at each border.
    audio_in, model, settings, steps, step_size, domain, sonify, seed, octaves, octave_scale, jitter,
    n_iter, max_gain_db, block_frames, overlap_frames, envelope, progress, measure
        As :func:`dream`.

    Returns
    -------
    DreamResult
        Batched: ``result.audio[i]`` is the clip with filter ``filters[i]`` amplified.
    """
    dreamer = as_dreamer(model, settings)
    filters = range(dreamer.info.filters(layer)) if filters is None else filters
    return dream(audio_in, model=dreamer, objective=audition_objective(layer, filters, crop=crop), steps=steps,
                 step_size=step_size, domain=domain, sonify=sonify, seed=seed, octaves=octaves,
                 octave_scale=octave_scale, jitter=jitter, n_iter=n_iter, max_gain_db=max_gain_db,
                 block_frames=block_frames, overlap_frames=overlap_frames, envelope=envelope, progress=progress,
                 measure=measure)
