"""Dreaming: objectives, gradient ascent on the model's input, and sonification.

A dream is *encode → ascend → sonify*, each a function of its own:

1. :func:`auditory_deepdream.audio.encode` turns the clip into a log-mel spectrogram (dB);
2. :func:`render` ascends on an :class:`Objective`, by the one loop its
   :class:`DreamOptions` call for: a mel-band gain climbed through the sonification
   (:func:`ascend_gain`), free log-mel values (:func:`ascend_mel`, with :class:`Octaves`),
   or the samples themselves (:func:`ascend_waveform`), with transforms such as :class:`Jitter`;
3. :func:`sonify` turns a mel change back into sound, as a gain on the original STFT
   (zero steps give back the input exactly) or with Griffin-Lim (the dissertation's path).

How to dream is one frozen :class:`DreamOptions` (presets hold one each); what to dream
toward is the objective. :func:`dream` is the one-call entry point at the model's rate;
:func:`amplify_filter`, :func:`dream_layer`, :func:`audition_layer` are its recipes, and
:func:`dream_full_rate` / :func:`dream_channels` / :func:`dream_file` keep recordings at
their own rate, channels and loudness. Every result carries a *survival* measure: the
output is re-encoded and the objective evaluated again, so you see how much of the
activation gain the listener actually gets.

``objectives``    what to maximise (Lucid-style, combinable)
``activations``   :class:`Dreamer` (the model wrapper) and :class:`Ensemble` (several as one)
``transforms``    jitter, band shifts, random gain, octaves: what any ascent loop may apply
``ascent``        the shared step and the free loops (log-mel, waveform)
``gain``          the consistent loop: a gain climbed through the sonification
``sonification``  mel change to sound
``result``        :class:`Rendered`, :class:`DreamResult` and the survival measure
``render``        the ascent stage: the loop the options call for, then sonification
``recipes``       :func:`dream` and its recipes, at the model's rate
``rates``         between a recording's rate and the model's
``levels``        a recording's loudness stage: BS.1770 in the model's band, true-peak ceiling
``full_rate``     whole recordings: any rate, any channels, their loudness
``files``         dreaming files; long ones block by block, in bounded memory
``quality``       measures of the sound no dreaming path passes by construction
``judges``        transfer: models that took no part hear the target, or not
``tag_judges``    the same with musicnn's taggers, trained on real music, as judges
"""

from ..options import DOMAINS, SONIFICATIONS, SOUND_PATHS, DreamOptions
from .activations import Dreamer, Ensemble, save_ensemble
from .ascent import ascend_mel, ascend_waveform
from .gain import ascend_gain
from .files import dream_file, dream_stream
from .full_rate import dream_channels, dream_full_rate
from .levels import finish_loudness
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
    preset_objective,
)
from .judges import (
    JUDGES,
    class_log_probability,
    control_for,
    judge_log_probabilities,
    load_judges,
    other_class_margins,
    phase_randomised,
    transfer_margins,
    transfer_table,
)
from .tag_judges import (
    SHARED_TAGS,
    SOURCE_LEVELS_DB,
    TAGGERS,
    YARDSTICK_DB,
    Tagger,
    judge_tag,
    load_taggers,
    mix_source,
    real_source_equivalent,
    source_rises,
    tag_control_margins,
    tag_other_margins,
    tagger_logits,
)
from .quality import (
    DreamQuality,
    concentration_increase,
    energy_concentration,
    log_spectral_distance,
    max_jump_ratio,
    measure_dream,
    noise_lift,
    pitch_shift_cents,
    transient_collapse,
)
from .rates import crossover_weights, gain_at_rate
from .recipes import amplify_filter, audition_layer, dream, dream_layer
from .render import render
from ..presets import PRESETS, DreamPreset, get_preset
from .result import DreamResult, Rendered, spectral_change, survival
from .sonification import mel_gain_to_stft_db, sonify
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
    "preset_objective",
    "DreamOptions",
    "render",
    "Rendered",
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
    "DreamResult",
    "survival",
    "dream",
    "amplify_filter",
    "dream_layer",
    "audition_layer",
    "dream_full_rate",
    "dream_file",
    "dream_stream",
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
    "noise_lift",
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
    "SHARED_TAGS",
    "TAGGERS",
    "Tagger",
    "judge_tag",
    "load_taggers",
    "tagger_logits",
    "tag_other_margins",
    "tag_control_margins",
    "SOURCE_LEVELS_DB",
    "YARDSTICK_DB",
    "mix_source",
    "source_rises",
    "real_source_equivalent",
]
