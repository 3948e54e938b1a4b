"""Long real pieces for demonstrations: a rendered classical score and a break beat.

Notebook 07 and the benchmarks dream over long audio; these functions make it from real
instrument recordings that install with the package or the system:

* :func:`bach_prelude` renders the opening of J. S. Bach's Prelude in C major (BWV 846,
  public domain) from a General MIDI SoundFont, note by note as a pianist plays it;
* :func:`break_beat` builds a funk break from real drum samples: a Hydrogen drum kit
  (Debian ``hydrogen-drumkits``) when one is installed, else the drum kit recorded in the
  SoundFont;
* :func:`sustained_note` renders one held SoundFont note (a cello's C3, say).

Every function returns mono ``(n_samples,)`` by default and ``channels=2`` gives a real
stereo image, channels first ``(2, n_samples)``: the SoundFont renders keep
``tinysoundfont``'s stereo output and pan each voice or kit piece with MIDI CC 10, the
Hydrogen kit pieces are panned with a constant-power law. Both channels are normalised
together to a peak of 0.5.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import numpy as np

from ..audio import load_audio
from ..errors import DatasetError
from ..settings import AudioSettings
from .soundfont import load_soundfont, pip_soundfont

__all__ = ["PRELUDE_CHORDS", "bach_prelude", "break_beat", "find_drumkit", "sustained_note"]

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


# MIDI pan (CC 10, 0 = left, 64 = centre, 127 = right) of the stereo renders. The prelude's
# five voices sit on MIDI channels 0-4, low voices left and high voices right as the pianist
# hears them; the string section (channel 5) plays right of the piano.
_VOICE_PANS = (16, 34, 52, 70, 88)
_STRING_CHANNEL, _STRING_PAN, _STRING_PROGRAM, _STRING_VELOCITY = 5, 112, 48, 30
# GM drum parts of the SoundFont break beat, each on its own drum channel when stereo:
# kick centre, snare slightly left, hats (closed and open together, so the closed hat still
# chokes the open one) right
_DRUM_CHANNELS = {"kick": (9, 64), "snare": (10, 40), "hat": (11, 100), "open_hat": (11, 100)}
# constant-power pan positions (-1 left .. 1 right) of the Hydrogen kit pieces
_KIT_PANS = {"kick": 0.0, "snare": -0.25, "hat": 0.5, "open_hat": 0.5}
_SILENT_PEAK = 1e-4  # a SoundFont note whose rendered peak is below this has no sample


def _check_layout(channels: int, sample_rate: int) -> None:
    if channels not in (1, 2):
        raise DatasetError(f"channels must be 1 (mono) or 2 (stereo), not {channels!r}.")
    if int(sample_rate) != sample_rate or sample_rate <= 0:
        raise DatasetError(f"sample_rate must be a positive whole number of Hz, not {sample_rate!r}.")


def _render_events(events, *, seconds: float, sample_rate: int, soundfont: Path, parts,
                   channels: int = 1, normalise: bool = True) -> np.ndarray:
    """Render MIDI events with one SoundFont synthesiser pass.

    Parameters
    ----------
    events : list of (time_s, 'on'|'off', key, velocity, midi_channel)
    parts : dict
        ``{midi_channel: (program, is_drums, pan)}``; ``pan`` is a CC 10 value (0-127) sent
        before any note when rendering stereo, or None for the SoundFont's own pan.
    channels : {1, 2}
        1: the mean of the synthesiser's two channels; 2: both.
    normalise : bool
        Scale to a peak of 0.5 (both channels together).

    Returns
    -------
    y : np.ndarray [shape=(n_samples,) or (2, n_samples), dtype=float32]
        ``n_samples = round(seconds * sample_rate)``.
    """
    synth, sfid = load_soundfont(soundfont, sample_rate=sample_rate)
    for chan, (program, drums, pan) in parts.items():
        try:
            synth.program_select(chan, sfid, 128 if drums else 0, 0 if drums else program, is_drums=drums)
        except RuntimeError as exc:  # the SoundFont has no such preset
            raise DatasetError(f"SoundFont {soundfont.name} cannot play GM program {program} "
                               f"({exc}); pick another program or SoundFont.") from None
        if channels == 2 and pan is not None:
            synth.control_change(chan, 10, int(pan))
    total = round(seconds * sample_rate)
    out, done = [], 0
    for t, kind, key, velocity, chan in sorted(events, key=lambda e: (e[0], e[1] == "on")):
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
    frames = np.concatenate(out).reshape(-1, 2)  # tinysoundfont interleaves left, right
    y = frames.mean(axis=1) if channels == 1 else np.ascontiguousarray(frames.T)
    return _normalise(y) if normalise else y


def _normalise(y: np.ndarray, peak: float = 0.5) -> np.ndarray:
    """Scale ``y`` (any shape: all channels together) to ``peak``; float32."""
    top = float(np.max(np.abs(y)))
    if top <= 0:
        raise DatasetError("The rendered piece is silent; check the SoundFont or drum kit.")
    return (peak * y / top).astype(np.float32)


def bach_prelude(*, seconds: float = 60.0, settings: AudioSettings | None = None, bpm: float = 66.0,
                 soundfont=None, program: int = 0, channels: int = 1, sample_rate: int | None = None,
                 strings: bool = False) -> np.ndarray:
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
    channels : {1, 2}
        1: mono (the mean of the synthesiser's two channels). 2: stereo, each of the five
        arpeggio voices on its own MIDI channel panned from left (lowest) to right of centre
        (highest), so left and right carry different notes.
    sample_rate : int, optional
        Output rate in Hz; overrides ``settings.sample_rate``.
    strings : bool
        Add a string section (GM program 48, String Ensemble 1) that sustains the two
        lowest notes of every half bar (the voices the score ties) an octave up, at
        velocity 30 (the piano plays 70-80; the sustained section then sits about 2 dB
        under the piano in RMS with TimGM6mb), on its own MIDI channel in the same
        synthesiser pass; in stereo it is panned right, away from the piano. The piano notes
        are the same as without strings (the peak normalisation covers both).

    Returns
    -------
    y : np.ndarray [shape=(round(seconds * sample_rate),) or (2, round(seconds * sample_rate)), dtype=float32]
        Mono, or stereo channels first (left, right). Peak 0.5 over all channels.

    Raises
    ------
    DatasetError
        ``channels`` not 1 or 2, a bad sample rate, or a silent render.
    """
    settings = settings or AudioSettings()
    sr = settings.sample_rate if sample_rate is None else sample_rate
    _check_layout(channels, sr)
    stereo = channels == 2
    sixteenth = 60.0 / bpm / 4
    events, string_events, t, bar = [], [], 0.0, 0
    while t < seconds:
        chord = PRELUDE_CHORDS[bar % len(PRELUDE_CHORDS)]
        bar_start = t
        for half in range(2):
            # the two lowest voices are held through each half bar, as the score's ties do
            start = bar_start + half * 8 * sixteenth
            for step, voice in enumerate((0, 1, 2, 3, 4, 2, 3, 4)):
                on = start + step * sixteenth
                off = start + 8 * sixteenth if voice < 2 else on + 2 * sixteenth
                chan = voice if stereo else 0
                events += [(on, "on", chord[voice], 70 if voice else 80, chan), (off, "off", chord[voice], 0, chan)]
            for voice in (0, 1):
                key = chord[voice] + 12
                string_events += [(start, "on", key, _STRING_VELOCITY, _STRING_CHANNEL),
                                  (start + 8 * sixteenth, "off", key, 0, _STRING_CHANNEL)]
        t, bar = bar_start + 16 * sixteenth, bar + 1
    parts = ({voice: (program, False, pan) for voice, pan in enumerate(_VOICE_PANS)} if stereo
             else {0: (program, False, None)})
    if strings:
        parts[_STRING_CHANNEL] = (_STRING_PROGRAM, False, _STRING_PAN)
        events += string_events
    return _render_events(events, seconds=seconds, sample_rate=sr, channels=channels, parts=parts,
                          soundfont=Path(soundfont) if soundfont else _default_soundfont())


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
               kit: str | None = "VariBreaks", soundfont=None, seed: int = 0, channels: int = 1,
               sample_rate: int | None = None) -> np.ndarray:
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
    channels : {1, 2}
        1: mono. 2: stereo with the kick centred, the snare slightly left and the hats
        right: Hydrogen samples (mixed to mono) are panned with a constant-power law, the
        SoundFont kit plays each piece on its own MIDI drum channel panned with CC 10.
    sample_rate : int, optional
        Output rate in Hz; overrides ``settings.sample_rate``.

    Returns
    -------
    y : np.ndarray [shape=(round(seconds * sample_rate),) or (2, round(seconds * sample_rate)), dtype=float32]
        Mono, or stereo channels first (left, right). Peak 0.5 over all channels.

    Raises
    ------
    DatasetError
        ``channels`` not 1 or 2, a bad sample rate, a kit without the needed pieces, or a
        silent render.
    """
    settings = settings or AudioSettings()
    sr = settings.sample_rate if sample_rate is None else sample_rate
    _check_layout(channels, sr)
    stereo = channels == 2
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
            chan = _DRUM_CHANNELS[part][0] if stereo else 9
            events += [(t, "on", _GM_DRUMS[part], int(127 * gain), chan),
                       (t + sixteenth, "off", _GM_DRUMS[part], 0, chan)]
        parts = ({chan: (0, True, pan) for chan, pan in _DRUM_CHANNELS.values()} if stereo
                 else {9: (0, True, None)})
        return _render_events(events, seconds=seconds, sample_rate=sr, channels=channels, parts=parts,
                              soundfont=Path(soundfont) if soundfont else _default_soundfont())
    samples = _kit_samples(folder, sr)
    total = round(seconds * sr)
    y = np.zeros((channels, total + sr * 2), dtype=np.float32)
    gains = {part: _constant_power(_KIT_PANS[part]) if stereo else np.ones((1, 1), np.float32)
             for part in samples}
    for t, part, gain in hits:
        at = round(t * sr)
        s = samples[part][: y.shape[1] - at]
        y[:, at:at + len(s)] += gains[part] * (gain * s)
    return _normalise(y[0, :total] if channels == 1 else y[:, :total])


def _constant_power(position: float) -> np.ndarray:
    """Left and right gains, shape ``(2, 1)``, for a pan ``position`` in [-1 (left), 1 (right)]."""
    angle = (position + 1.0) * np.pi / 4
    return np.array([[np.cos(angle)], [np.sin(angle)]], dtype=np.float32)


def sustained_note(*, program: int, pitch: int, seconds: float = 2.0, velocity: int = 90,
                   sample_rate: int = 44100, channels: int = 2, soundfont=None,
                   release_seconds: float = 0.5, pan: int | None = None) -> np.ndarray:
    """One held note of a General MIDI instrument, rendered from a SoundFont.

    The key goes down at t = 0 and is released at ``seconds - release_seconds``; the rest
    records the release tail. Stereo is the synthesiser's own output: an instrument
    sampled in mono (TimGM6mb's cello) gives two equal channels unless ``pan`` is set.

    Parameters
    ----------
    program : int
        GM program (0-127), e.g. 42 for the cello.
    pitch : int
        MIDI key (0-127), e.g. 48 for C3.
    seconds : float
        Length of the output.
    velocity : int
        MIDI velocity (1-127).
    sample_rate : int
        Output rate in Hz.
    channels : {1, 2}
        1: mono (the mean of the two channels); 2: stereo.
    soundfont : path-like, optional
        Default as :func:`bach_prelude`.
    release_seconds : float
        Length of the recorded release, ``0 <= release_seconds < seconds``.
    pan : int, optional
        MIDI pan (CC 10: 0 left, 64 centre, 127 right) for a stereo render; default: the
        SoundFont's own placement.

    Returns
    -------
    y : np.ndarray [shape=(2, round(seconds * sample_rate)) or (round(seconds * sample_rate),), dtype=float32]
        Stereo channels first (left, right), or mono. Peak 0.5 over all channels.

    Raises
    ------
    DatasetError
        Arguments out of range, or a silent render (a program or key the SoundFont lacks).
    """
    _check_layout(channels, sample_rate)
    if not (0 <= program <= 127 and 0 <= pitch <= 127 and 1 <= velocity <= 127):
        raise DatasetError(f"sustained_note needs program and pitch in 0..127 and velocity in 1..127, "
                           f"not program={program}, pitch={pitch}, velocity={velocity}.")
    if pan is not None and not 0 <= pan <= 127:
        raise DatasetError(f"sustained_note's pan is a MIDI CC 10 value in 0..127, not {pan}.")
    if not 0 <= release_seconds < seconds:
        raise DatasetError(f"sustained_note needs 0 <= release_seconds < seconds, not "
                           f"release_seconds={release_seconds}, seconds={seconds}.")
    soundfont = Path(soundfont) if soundfont else _default_soundfont()
    events = [(0.0, "on", pitch, velocity, 0), (seconds - release_seconds, "off", pitch, 0, 0)]
    y = _render_events(events, seconds=seconds, sample_rate=sample_rate, soundfont=soundfont,
                       parts={0: (program, False, pan)}, channels=channels, normalise=False)
    if float(np.max(np.abs(y))) < _SILENT_PEAK:
        raise DatasetError(f"SoundFont {soundfont.name} renders GM program {program} at key {pitch} "
                           f"as silence; it has no sample there. Pick another program, key or SoundFont.")
    return _normalise(y)
