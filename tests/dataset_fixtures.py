"""Source trees in the real NSynth and Philharmonia layouts, and a store built from them.

The trees have the release layouts (real file names and JSON fields) and hold real
instrument notes rendered from pip's TimGM6mb.sf2: NSynth as 16 kHz 16-bit wav,
Philharmonia as mp3. Each is written once per test session, under pytest's base
temporary folder, and shared by the dataset test modules.
"""

from __future__ import annotations

import json
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from auditory_deepdream.dataset import (
    DatasetConfig,
    build_dataset,
    load_soundfont,
    pip_soundfont,
)

CONFIG = DatasetConfig(notes_per_chunk=4, jobs=1)

# (family, source, instrument, GM program) as in the NSynth release
NSYNTH_INSTRUMENTS = [("keyboard", "acoustic", 1, 0), ("keyboard", "electronic", 2, 4),
                      ("string", "acoustic", 3, 40), ("mallet", "acoustic", 4, 12),
                      ("guitar", "synthetic", 5, 27), ("guitar", "acoustic", 6, 24),
                      ("flute", "acoustic", 7, 73)]
NSYNTH_SPLITS = (("train", (48, 55, 60, 67)), ("valid", (52,)), ("test", (64,)))
NSYNTH_VELOCITIES = (75, 127)
NSYNTH_FAMILIES = ["bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed", "string",
                   "synth_lead", "vocal"]

# folder, file prefix, GM program, notes (Philharmonia spelling: 's' for sharp)
PHIL = [("cello", "cello", 42, ("C3", "As2", "G3")), ("flute", "flute", 73, ("C5", "Fs4")),
        ("bass clarinet", "bass-clarinet", 71, ("D3", "A3")), ("banjo", "banjo", 105, ("C4",))]


def render_note(program: int, pitch: int, velocity: int, sr: int, *, held=0.8, release=0.4) -> np.ndarray:
    """One GM note from TimGM6mb, mono float32 of ``held + release`` seconds."""
    synth, sfid = load_soundfont(pip_soundfont(), sample_rate=sr)
    synth.program_select(0, sfid, 0, program)
    synth.noteon(0, pitch, velocity)
    on = np.frombuffer(synth.generate(int(held * sr)), dtype=np.float32)
    synth.noteoff(0, pitch)
    off = np.frombuffer(synth.generate(int(release * sr)), dtype=np.float32)
    return np.concatenate([on, off]).reshape(-1, 2).mean(axis=1)


def write_nsynth(root: Path) -> Path:
    """An NSynth release tree: nsynth-{train,valid,test}/examples.json + audio/<note_str>.wav."""
    note = 0
    for split, pitches in NSYNTH_SPLITS:
        folder = root / f"nsynth-{split}"
        (folder / "audio").mkdir(parents=True)
        examples = {}
        for fam, src, inst, program in NSYNTH_INSTRUMENTS:
            for pitch in pitches:
                for velocity in NSYNTH_VELOCITIES:
                    name = f"{fam}_{src}_{inst:03d}-{pitch:03d}-{velocity:03d}"
                    sf.write(folder / "audio" / f"{name}.wav", render_note(program, pitch, velocity, 16000),
                             16000, subtype="PCM_16")
                    examples[name] = {
                        "note": note, "note_str": name, "instrument": inst,
                        "instrument_str": f"{fam}_{src}_{inst:03d}", "pitch": pitch,
                        "velocity": velocity, "sample_rate": 16000,
                        "qualities": [0] * 10, "qualities_str": [],
                        "instrument_family": NSYNTH_FAMILIES.index(fam),
                        "instrument_family_str": fam,
                        "instrument_source": ["acoustic", "electronic", "synthetic"].index(src),
                        "instrument_source_str": src,
                    }
                    note += 1
        (folder / "examples.json").write_text(json.dumps(examples))
    return root


def write_philharmonia(root: Path) -> Path:
    """A Philharmonia tree: one folder per instrument, mp3 files named like the library's."""
    for folder, prefix, program, notes in PHIL:
        (root / folder).mkdir(parents=True)
        for i, name in enumerate(notes):
            pitch = int(librosa.note_to_midi(name.replace("s", "#")))
            dynamic = ("forte", "piano", "mezzo-forte")[i % 3]
            y = render_note(program, pitch, 100, 44100, held=1.0, release=0.5)
            sf.write(root / folder / f"{prefix}_{name}_1_{dynamic}_normal.mp3", y, 44100, format="MP3")
    return root


def write_sample_folder(root: Path, sr: int = 22050) -> Path:
    """Salamander Grand Piano's layout, ``audio/<pitch>v<layer>.ogg``, with TimGM6mb piano notes
    (A3, C4, D#4 at layer 10) and a release noise ``harmS1.ogg`` that is no note; returns ``audio/``."""
    audio_dir = root / "audio"
    audio_dir.mkdir(parents=True)
    for name, pitch in (("A3v10", 57), ("C4v10", 60), ("D#4v10", 63)):
        sf.write(audio_dir / f"{name}.ogg", render_note(0, pitch, 90, sr), sr)
    sf.write(audio_dir / "harmS1.ogg", render_note(0, 60, 30, sr), sr)
    return audio_dir


def source_trees(base: Path) -> tuple[Path, Path]:
    """``(nsynth_root, philharmonia_root)`` under ``base``, written on first use."""
    nsynth, phil = base / "nsynth", base / "philharmonia"
    if not (nsynth / "nsynth-test" / "examples.json").is_file():
        write_nsynth(nsynth)
    if not phil.is_dir():
        write_philharmonia(phil)
    return nsynth, phil


def built_store(base: Path):
    """The store built from :func:`source_trees` with :data:`CONFIG` (reused once built)."""
    nsynth, phil = source_trees(base / "sources")
    return build_dataset(base / "store", nsynth=[nsynth], philharmonia=[phil], config=CONFIG, progress=False)
