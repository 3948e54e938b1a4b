"""A small untrained model and real audio, shared by the dreamer tests.

Mechanics (objectives rise, zero steps are transparent, blocks have no seams) need no
training, so the tests dream with a quarter-width conv-blocks model built once per
session.
"""

from __future__ import annotations

import functools
import os

import librosa
import numpy as np
import pretty_midi
import tinysoundfont

from auditory_deepdream import models
from auditory_deepdream.dreamer import Dreamer
from auditory_deepdream.settings import AudioSettings

CLASSES = ["brass", "keyboard", "string"]


@functools.lru_cache(maxsize=2)
def tiny_dreamer(settings: AudioSettings) -> Dreamer:
    """Conv blocks at quarter width (8/16/32/64 filters), seed 0, three classes."""
    model = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=0)
    return Dreamer(model, settings=settings, card={"classes": CLASSES})


def render_piece(seconds: float, *, sample_rate: int) -> np.ndarray:
    """A melody of real instrument notes (TimGM6mb.sf2 via tinysoundfont), mono float32."""
    synth = tinysoundfont.Synth(samplerate=sample_rate)
    sfid = synth.sfload(os.path.join(os.path.dirname(pretty_midi.__file__), "TimGM6mb.sf2"))
    rng = np.random.default_rng(1)
    out, note_len = [], int(0.5 * sample_rate)
    for i in range(int(seconds / 0.5)):
        chan = i % 2
        synth.program_select(chan, sfid, 0, [0, 42][chan])  # piano, cello
        key = int(rng.integers(45, 72))
        synth.noteon(chan, key, 90)
        first = np.frombuffer(synth.generate(note_len // 2), dtype=np.float32)
        synth.noteoff(chan, key)
        second = np.frombuffer(synth.generate(note_len - note_len // 2), dtype=np.float32)
        out.append(np.concatenate([first, second]))
    stereo = np.concatenate(out).reshape(-1, 2)
    return stereo.mean(axis=1).astype(np.float32)


def snr_db(out, ref) -> float:
    """Signal-to-noise ratio of ``out`` against ``ref`` in dB."""
    ref = np.asarray(ref, np.float64)
    return float(10 * np.log10(np.sum(ref ** 2) / max(np.sum((np.asarray(out, np.float64) - ref) ** 2), 1e-30)))


def band_snr_db(out, ref, *, sample_rate, low_hz=None, high_hz=None, n_fft=4096) -> float:
    """SNR of STFT magnitudes between ``low_hz`` and ``high_hz``."""
    freqs = librosa.fft_frequencies(sr=sample_rate, n_fft=n_fft)
    keep = (freqs >= (low_hz or 0)) & (freqs < (high_hz or np.inf))
    A, B = (np.abs(librosa.stft(np.asarray(x, np.float32), n_fft=n_fft))[keep] for x in (out, ref))
    return snr_db(A, B)
