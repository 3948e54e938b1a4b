"""Tiny feature stores from real instrument audio, shared by the training tests.

Notes are rendered from pretty_midi's TimGM6mb.sf2 with tinysoundfont (General MIDI
programs of four families), plus the bundled recorded clips, trimmed, segmented and
encoded with the package's own audio front end into a :class:`StoreWriter` store.
Splits are by note, as in the real builder.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pretty_midi

from auditory_deepdream import audio
from auditory_deepdream.dataset import PITCH_CLASSES, FeatureStore, StoreWriter
from auditory_deepdream.settings import AudioSettings

SF2 = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
# small and fast: 32 mel bands, half-second segments of 32 frames
TINY = AudioSettings(sample_rate=16_000, segment_seconds=0.5, n_fft=1024, hop_length=256,
                     win_length=1024, n_mels=32, fmin=30.0)
FAMILIES = {"piano": [0, 1], "string": [40, 42], "flute": [73, 72], "brass": [56, 57]}
CLIPS = {"cello_C3": ("string", 48), "flute_A4": ("flute", 69), "piano_E4": ("piano", 64)}


def _render(synth, sfid, program: int, pitch: int, sample_rate: int, seconds: float = 1.0) -> np.ndarray:
    synth.program_select(0, sfid, 0, program)
    synth.noteon(0, pitch, 100)
    on = np.frombuffer(synth.generate(int(seconds * sample_rate)), dtype=np.float32)
    synth.noteoff(0, pitch)
    off = np.frombuffer(synth.generate(int(0.25 * sample_rate)), dtype=np.float32)
    synth.sounds_off(0)
    synth.generate(2048)
    return np.concatenate([on, off]).reshape(-1, 2).mean(axis=1)


def make_store(path, *, settings: AudioSettings = TINY, pitches=(48, 53, 57, 60, 62, 64, 67, 71, 74)) -> FeatureStore:
    """Build (or reopen) a tiny store with splits by note: pitches cycle train/train/valid/test."""
    path = Path(path)
    if (path / "index.csv").is_file():
        return FeatureStore(path)
    import tinysoundfont

    synth = tinysoundfont.Synth(samplerate=settings.sample_rate)
    sfid = synth.sfload(str(SF2))
    notes = []  # (family, program/clip, pitch, waveform)
    for family, programs in FAMILIES.items():
        for program in programs:
            for pitch in pitches:
                notes.append((family, f"gm{program:03d}", pitch,
                              _render(synth, sfid, program, pitch, settings.sample_rate)))
    for clip, (family, pitch) in CLIPS.items():
        notes.append((family, clip, pitch, audio.load_audio(audio.example_clip(clip), settings=settings)))
    writer = StoreWriter(path, settings=settings, overwrite=True)
    split_cycle = ["train", "train", "valid", "test"]
    for chunk, (family, source, pitch, y) in enumerate(notes):
        trimmed = audio.trim(y, settings=settings)
        segs = audio.segment(trimmed, settings=settings, hop_seconds=settings.segment_seconds / 2)
        feats = audio.encode(segs, settings=settings)
        note_id = f"{family}-{source}-{pitch:03d}"
        split = "train" if source in CLIPS else split_cycle[chunk % len(split_cycle)]
        writer.write_chunk(chunk, feats, pd.DataFrame({
            "segment_id": [f"{note_id}-{i}" for i in range(len(feats))],
            "source": "soundfont", "source_file": source, "note_id": note_id, "family": family,
            "label": source, "pitch": pitch, "pitch_class": PITCH_CLASSES[pitch % 12], "velocity": 100,
            "split": split, "augmentation": "none", "segment_index": np.arange(len(feats)),
            "hop_seconds": settings.segment_seconds / 2, "trimmed_samples": len(trimmed)}))
    return writer.finalize({"classes": sorted(FAMILIES), "description": "test store from TimGM6mb.sf2"})
