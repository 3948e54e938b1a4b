"""Long real pieces for demonstrations: a rendered classical score and a break beat.

Notebook 07 and the benchmarks dream over long audio; these functions make it from real
instrument recordings that install with the package or the system:

* :func:`bach_prelude` renders the opening of J. S. Bach's Prelude in C major (BWV 846,
  public domain) from a General MIDI SoundFont, note by note as a pianist plays it;
* :func:`break_beat` builds a funk break from real drum samples: a Hydrogen drum kit
  (Debian ``hydrogen-drumkits``) when one is installed, else the drum kit recorded in the
  SoundFont.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..audio import load_audio
from ..errors import DatasetError
from ..settings import AudioSettings
from .soundfont import load_soundfont, pip_soundfont

__all__ = ["PRELUDE_CHORDS", "bach_prelude", "break_beat", "find_drumkit"]

# BWV 846, bars 1-24: each bar arpeggiates five notes as (1 2 3 4 5 3 4 5) twice.
PRELUDE_CHORDS = (
    (60, 64, 67, 72, 76), (60, 62, 69, 74, 77), (59, 62, 67, 74, 77), (60, 64, 67, 72, 76),
    (60, 64, 69, 76, 81), (60, 62, 66, 69, 74), (59, 62, 67, 74, 79), (59, 60, 64, 67, 72),
    (57, 60, 64, 67, 72), (50, 57, 62, 66, 72), (55, 59, 62, 67, 71), (55, 58, 64, 67, 73),
    (53, 57, 62, 69, 74), (53, 56, 62, 65, 71), (52, 55, 60, 67, 72), (52, 53, 57, 60, 65),
    (50, 53, 57, 60, 65), (43, 50, 55, 59, 65), (48, 52, 55, 60, 64), (48, 55, 58, 60, 64),
    (41, 53, 57, 60, 64), (42, 48, 57, 60, 63), (44, 53, 59, 60, 62), (43, 53, 55, 59, 62),
)
_HYDROGEN = Path("/usr/share/hydrogen/data/drumkits")
_SYSTEM_SOUNDFONT = Path("/usr/share/sounds/sf2/FluidR3_GM.sf2")


def _default_soundfont() -> Path:
    return _SYSTEM_SOUNDFONT if _SYSTEM_SOUNDFONT.is_file() else pip_soundfont()


def _render_events(events, *, seconds: float, sample_rate: int, soundfont: Path, program: int,
                   drums: bool = False) -> np.ndarray:
    """Render (time_s, 'on'|'off', key, velocity) events on one channel to mono float32."""
    synth, sfid = load_soundfont(soundfont, sample_rate=sample_rate)
    chan = 9 if drums else 0
    synth.program_select(chan, sfid, 128 if drums else 0, 0 if drums else program, is_drums=drums)
    total = round(seconds * sample_rate)
    out, done = [], 0
    for t, kind, key, velocity in sorted(events, key=lambda e: (e[0], e[1] == "on")):
        at = min(round(t * sample_rate), total)
        if at > done:
            out.append(np.frombuffer(synth.generate(at - done), dtype=np.float32))
            done = at
        if kind == "on":
            synth.noteon(chan, key, velocity)
        else:
            synth.noteoff(chan, key)
    if total > done:
        out.append(np.frombuffer(synth.generate(total - done), dtype=np.float32))
    y = np.concatenate(out).reshape(-1, 2).mean(axis=1)
    return _normalise(y)


def _normalise(y: np.ndarray, peak: float = 0.5) -> np.ndarray:
    top = float(np.max(np.abs(y)))
    if top <= 0:
        raise DatasetError("The rendered piece is silent; check the SoundFont or drum kit.")
    return (peak * y / top).astype(np.float32)


def bach_prelude(*, seconds: float = 60.0, settings: AudioSettings | None = None, bpm: float = 66.0,
                 soundfont=None, program: int = 0) -> np.ndarray:
    """The opening of Bach's Prelude in C major (BWV 846), rendered from a SoundFont.

    Parameters
    ----------
    seconds : float
        Length of the output; the bars repeat if it is longer than 24 bars.
    settings : AudioSettings, optional
        Gives the sample rate (default settings if omitted).
    bpm : float
        Quarter notes per minute.
    soundfont : path-like, optional
        Default: FluidR3_GM when installed, else pretty_midi's TimGM6mb.
    program : int
        GM program (0 = acoustic grand piano).

    Returns
    -------
    y : np.ndarray [shape=(round(seconds * sample_rate),), dtype=float32]
        Peak 0.5.
    """
    settings = settings or AudioSettings()
    sixteenth = 60.0 / bpm / 4
    events, t, bar = [], 0.0, 0
    while t < seconds:
        chord = PRELUDE_CHORDS[bar % len(PRELUDE_CHORDS)]
        bar_start = t
        for half in range(2):
            # the two lowest voices are held through each half bar, as the score's ties do
            start = bar_start + half * 8 * sixteenth
            for step, voice in enumerate((0, 1, 2, 3, 4, 2, 3, 4)):
                on = start + step * sixteenth
                off = start + 8 * sixteenth if voice < 2 else on + 2 * sixteenth
                events += [(on, "on", chord[voice], 70 if voice else 80), (off, "off", chord[voice], 0)]
        t, bar = bar_start + 16 * sixteenth, bar + 1
    return _render_events(events, seconds=seconds, sample_rate=settings.sample_rate,
                          soundfont=Path(soundfont) if soundfont else _default_soundfont(), program=program)


def find_drumkit(name: str = "VariBreaks") -> Path | None:
    """Folder of an installed Hydrogen drum kit (``drumkit.xml`` inside), or None."""
    folder = _HYDROGEN / name
    return folder if (folder / "drumkit.xml").is_file() else None


def _kit_samples(folder: Path, sample_rate: int) -> dict:
    """Kick, snare, closed and open hat samples of a Hydrogen kit, by instrument name."""
    root = ET.parse(folder / "drumkit.xml").getroot()
    names = {}
    for inst in root.iter():
        if inst.tag.endswith("instrument"):
            name = next((c.text for c in inst if c.tag.endswith("name")), "") or ""
            files = [c.text for c in inst.iter() if c.tag.endswith("filename") and c.text]
            if files:
                names[name.lower()] = folder / files[0]
    wanted = {"kick": ("kick",), "snare": ("snare",), "hat": ("hat 1 cl", "hat cl", "closed", "hat"),
              "open_hat": ("hat 1 op", "open", "op")}
    chosen = {}
    for part, keys in wanted.items():
        match = next((path for key in keys for name, path in names.items() if key in name), None)
        if match is None:
            raise DatasetError(f"Drum kit {folder} has no {part} sample; pick another kit.")
        chosen[part] = load_audio(match, sample_rate=sample_rate)
    return chosen


# one bar of sixteenths: a funk break (kick / snare / closed hat / open hat)
_BREAK = {
    "kick":     "x.x.......x..x..",
    "snare":    "....x..x.x..x..x",
    "hat":      "x.x.x.x.x.x.x.x.",
    "open_hat": "..............x.",
}
_GM_DRUMS = {"kick": 36, "snare": 38, "hat": 42, "open_hat": 46}


def break_beat(*, seconds: float = 30.0, settings: AudioSettings | None = None, bpm: float = 96.0,
               kit: str | None = "VariBreaks", soundfont=None, seed: int = 0) -> np.ndarray:
    """A funk break beat built from real drum samples.

    Parameters
    ----------
    seconds : float
        Length of the output.
    settings : AudioSettings, optional
        Gives the sample rate.
    bpm : float
        Tempo in quarter notes per minute.
    kit : str or None
        Hydrogen drum kit name; when it is not installed (or ``None``), the General MIDI
        drum kit of ``soundfont`` is used.
    soundfont : path-like, optional
        SoundFont for the fallback (default as :func:`bach_prelude`).
    seed : int
        Seeds small velocity variations (humanisation).

    Returns
    -------
    y : np.ndarray [shape=(round(seconds * sample_rate),), dtype=float32]
        Peak 0.5.
    """
    settings = settings or AudioSettings()
    sr = settings.sample_rate
    rng = np.random.default_rng(seed)
    sixteenth = 60.0 / bpm / 4
    hits = []
    n_steps = int(np.ceil(seconds / sixteenth))
    for step in range(n_steps):
        for part, pattern in _BREAK.items():
            if pattern[step % 16] == "x":
                accent = 1.0 if step % 4 == 0 else 0.8
                hits.append((step * sixteenth, part, float(np.clip(accent * rng.uniform(0.85, 1.0), 0, 1))))
    folder = find_drumkit(kit) if kit else None
    if folder is None:
        events = []
        for t, part, gain in hits:
            events += [(t, "on", _GM_DRUMS[part], int(127 * gain)), (t + sixteenth, "off", _GM_DRUMS[part], 0)]
        return _render_events(events, seconds=seconds, sample_rate=sr, drums=True, program=0,
                              soundfont=Path(soundfont) if soundfont else _default_soundfont())
    samples = _kit_samples(folder, sr)
    total = round(seconds * sr)
    y = np.zeros(total + sr * 2, dtype=np.float32)
    for t, part, gain in hits:
        at = round(t * sr)
        s = samples[part]
        y[at:at + len(s)] += gain * s[: len(y) - at]
    return _normalise(y[:total])
