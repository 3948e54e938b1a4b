"""Dreaming: objectives, gradient ascent on the model's input, and sonification.

A dream is *encode → ascend → sonify*, each a function of its own:

1. :func:`auditory_deepdream.audio.encode` turns the clip into a log-mel spectrogram (dB);
2. :func:`ascend_mel` changes that spectrogram by normalised gradient ascent on an
   :class:`Objective` (compiled, batched, with :class:`Octaves` and transforms such as
   :class:`Jitter`), or :func:`ascend_waveform` changes the samples themselves through
   the TensorFlow twin of the encoder;
3. :func:`sonify` turns a mel change back into sound, as a gain on the original STFT
   (zero steps give back the input exactly) or with Griffin-Lim (the dissertation's path).

:func:`dream` is the one-call entry point (``domain=`` and ``sonify=`` pick the path;
:data:`SOUND_PATHS` names the three); :func:`amplify_filter`, :func:`dream_layer`,
:func:`audition_layer` are the common recipes and :func:`dream_full_rate` /
:func:`dream_file` keep audio at its own rate. Every result carries a *survival*
measure: the output is re-encoded and the objective evaluated again, so you see how
much of the activation gain the listener actually gets.

``objectives``    what to maximise (Lucid-style, combinable)
``activations``   :class:`Dreamer`: the model wrapper, activations and objective values
``ensemble``      :class:`Ensemble`: several models dreamed as one (class dreams that transfer)
``transforms``    jitter, octaves: what any ascent loop may apply
``ascent``        the shared step and the two loops (log-mel, waveform)
``sonification``  mel change to sound, loudness matching
``result``        :class:`DreamResult` and the survival measure
``recipes``       :func:`dream` and its recipes
``full_rate``     dreaming at the audio's own rate, and files
``quality``       measures no dreaming path passes by construction: damage, transfer
"""

from .activations import Dreamer
from .ensemble import Ensemble, save_ensemble
from .ascent import ascend_mel, ascend_waveform
from .gain import ascend_gain
from .full_rate import crossover_weights, dream_channels, dream_file, dream_full_rate, finish_loudness, gain_at_rate
from .objectives import (
    OBJECTIVE_KINDS,
    Batched,
    ClassLogit,
    FilterObjective,
    LayerObjective,
    ModelInfo,
    Objective,
    Scaled,
    Sum,
    audition_objective,
    class_objective,
    filter_objective,
    layer_objective,
    layers_objective,
    make_objective,
)
from .quality import (
    JUDGES,
    DreamQuality,
    class_log_probability,
    concentration_increase,
    control_for,
    energy_concentration,
    judge_log_probabilities,
    load_judges,
    log_spectral_distance,
    max_jump_ratio,
    measure_dream,
    other_class_margins,
    phase_randomised,
    pitch_shift_cents,
    transfer_margins,
    transfer_table,
    transient_collapse,
)
from .recipes import DOMAINS, SOUND_PATHS, amplify_filter, audition_layer, dream, dream_layer
from ..presets import PRESETS, DreamPreset, get_preset
from .result import DreamResult, spectral_change, survival
from .sonification import SONIFICATIONS, match_loudness, mel_gain_to_stft_db, soft_limit, sonify
from .transforms import BandShift, Jitter, Octaves, RandomGain, compose

__all__ = [
    "Ensemble",
    "save_ensemble",
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
    "Dreamer",
    "Jitter",
    "Octaves",
    "compose",
    "ascend_mel",
    "ascend_waveform",
    "DOMAINS",
    "SONIFICATIONS",
    "SOUND_PATHS",
    "sonify",
    "mel_gain_to_stft_db",
    "match_loudness",
    "soft_limit",
    "DreamResult",
    "survival",
    "dream",
    "amplify_filter",
    "dream_layer",
    "audition_layer",
    "dream_full_rate",
    "dream_file",
    "dream_channels",
    "PRESETS",
    "DreamPreset",
    "get_preset",
    "finish_loudness",
    "gain_at_rate",
    "ascend_gain",
    "spectral_change",
    "BandShift",
    "RandomGain",
    "crossover_weights",
    "DreamQuality",
    "measure_dream",
    "log_spectral_distance",
    "max_jump_ratio",
    "energy_concentration",
    "concentration_increase",
    "transient_collapse",
    "pitch_shift_cents",
    "phase_randomised",
    "control_for",
    "JUDGES",
    "load_judges",
    "class_log_probability",
    "transfer_table",
    "transfer_margins",
]
