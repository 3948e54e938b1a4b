"""Render an NSynth-layout dataset from General MIDI SoundFonts.

NSynth itself was made by rendering single notes from sample libraries; this module
does the same with any GM SoundFont (SF2 or SF3) through ``tinysoundfont`` or, with
``RenderConfig(renderer="fluidsynth")``, through FluidSynth. The output folder has the
layout of one NSynth split::

    examples.json                      {note_str: {note_str, pitch, velocity, ...}}
    audio/<note_str>.wav               mono 16-bit PCM, ``held_seconds + release_seconds`` long

with ``note_str`` named as in NSynth, ``<family>_<source>_<instrument>-<pitch>-<velocity>``
(for example ``string_acoustic_040-060-100``). Which GM program is which family and
source, and its playable pitch range, comes from the data table
``auditory_deepdream/data/gm_programs.csv`` (edit the table, not the code).

Rendering is deterministic and runs in parallel worker processes; each worker loads a
SoundFont once and renders every note of the programs it is given.
"""

from __future__ import annotations

import hashlib
import importlib.util
import logging
from dataclasses import asdict, dataclass
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..atomic import write_json_atomic
from ..audio.io import AudioFormat, write_audio
from ..errors import DatasetError
from .locks import folder_lock
from .synths import (  # noqa: F401 (RENDERERS and load_soundfont are re-exported)
    RENDERERS,
    cached_soundfont,
    load_soundfont,
    play_note,
    renderer_for,
    require_renderer,
    select_program,
)
from .workers import map_jobs

__all__ = [
    "NSYNTH_FAMILIES",
    "NSYNTH_SOURCES",
    "RENDERERS",
    "RENDER_PRESETS",
    "RenderConfig",
    "gm_programs",
    "load_soundfont",
    "note_velocities",
    "pip_soundfont",
    "render_soundfont",
]

log = logging.getLogger(__name__)

NSYNTH_FAMILIES = ("bass", "brass", "flute", "guitar", "keyboard", "mallet", "organ", "reed",
                   "string", "synth_lead", "vocal")
NSYNTH_SOURCES = ("acoustic", "electronic", "synthetic")
_PCM_16_WAV = AudioFormat(sample_rate=0, channels=1, subtype="PCM_16", format="WAV")  # rate and channels unused
_SILENT_PEAK = 1e-4  # a note whose rendered peak is below this has no sample in the SoundFont
# the loudest of 4,317 velocity-127 notes (TimGM6mb, FluidR3_GM, MuseScore_General) peaks at 0.41


@dataclass(frozen=True)
class RenderConfig:
    """How notes are rendered.

    Parameters
    ----------
    sample_rate : int
        Output sample rate in Hz (render at the training rate to avoid resampling).
    held_seconds, release_seconds : float
        The key is held for ``held_seconds``, then released and the release tail recorded
        for ``release_seconds`` (NSynth: 3 s + 1 s).
    velocities : tuple of int
        MIDI velocities rendered for every pitch (unless ``velocity_range`` is set).
    velocity_range : (int, int), optional
        Instead of fixed levels, draw ``velocity_draws`` velocities for every pitch from
        this inclusive range, one from each of ``velocity_draws`` equal sub-ranges, so
        the notes cover the whole range rather than a few levels. The draw is seeded by
        the SoundFont's file name, the program and the pitch: deterministic, and the
        same note gets the same velocity in every render.
    velocity_draws : int
        Velocities per pitch with ``velocity_range``.
    pitch_step : int
        Render every ``pitch_step``-th semitone of each program's playable range.
    programs : tuple of int, optional
        GM programs (0-127) to render; default every program in the table.
    max_pitches : int, optional
        At most this many pitches per program, evenly spread over the range.
    jobs : int
        Worker processes.
    renderer : {'tinysoundfont', 'fluidsynth'}
        The synthesizer. ``tinysoundfont`` (the default) is a small single-header
        synthesizer installed with ``pip install --no-deps tinysoundfont``. ``fluidsynth`` is
        the reference SF2/SF3 synthesizer, with the specification's modulators; it needs the
        system library (Debian: ``apt-get install fluidsynth``, which provides libfluidsynth)
        and the PyPI binding ``pyfluidsynth`` (``pip install -e '.[fluidsynth]'``). FluidSynth's own reverb and
        chorus are switched off, so both renderers give the dry instrument, and its gain is
        set so that notes peak well below clipping. The two do not give the same samples
        (FluidSynth follows the SF2 velocity curve: velocity 20 is about 32 dB below 127,
        against 16 dB in tinysoundfont); the renderer is saved in ``render.json`` and in
        every example.
    """

    sample_rate: int = 22_050
    held_seconds: float = 3.0
    release_seconds: float = 1.0
    velocities: tuple[int, ...] = (50, 75, 100, 127)
    velocity_range: tuple[int, int] | None = None
    velocity_draws: int = 3
    pitch_step: int = 1
    programs: tuple[int, ...] | None = None
    max_pitches: int | None = None
    jobs: int = 2
    renderer: str = "tinysoundfont"

    def __post_init__(self):
        if self.renderer not in RENDERERS:
            raise DatasetError(f"RenderConfig.renderer must be one of {RENDERERS}, not {self.renderer!r}.")
        if not self.velocities or any(not 1 <= v <= 127 for v in self.velocities):
            raise DatasetError("RenderConfig.velocities must be MIDI velocities in 1..127.")
        if self.velocity_range is not None:
            low, high = self.velocity_range
            if not 1 <= low <= high <= 127 or high - low + 1 < self.velocity_draws or self.velocity_draws < 1:
                raise DatasetError("RenderConfig.velocity_range must be (low, high) with 1 <= low <= high <= 127 "
                                   "and room for velocity_draws distinct velocities.")
        if self.pitch_step < 1:
            raise DatasetError("RenderConfig.pitch_step must be at least 1.")
        if self.held_seconds <= 0 or self.release_seconds < 0:
            raise DatasetError("RenderConfig needs held_seconds > 0 and release_seconds >= 0.")
        if self.programs is not None and any(not 0 <= p <= 127 for p in self.programs):
            raise DatasetError("RenderConfig.programs must be GM programs in 0..127.")


# 'small' is for tests and CI (seconds); 'demo' is every kept program of TimGM6mb at a few
# pitches, enough for a search that learns something in minutes (notebooks 02 and 04);
# 'full' gives the default training set: every semitone (a model trained on every third
# semitone learnt the grid, benchmarks/results/pitch_grid.json) at one velocity drawn across 20-127, so
# about as many notes as three velocities on every third semitone. 'demo' and 'full' get
# their programs from the ontology in the default build.
RENDER_PRESETS: dict[str, RenderConfig] = {
    "small": RenderConfig(velocities=(75, 127), pitch_step=1, max_pitches=4,
                          programs=(0, 19, 24, 33, 40, 56, 65, 73, 80, 52)),
    "demo": RenderConfig(velocities=(64, 112), pitch_step=1, max_pitches=5),
    "full": RenderConfig(velocity_range=(20, 127), velocity_draws=1, pitch_step=1),
}


def gm_programs() -> pd.DataFrame:
    """The GM program table: ``program, name, family, source, low, high, heldout_program, note``.

    ``family``/``source`` use NSynth's names; an empty family means the program is never
    rendered (pads, effects, percussion). ``heldout_program`` marks one program per family
    that is kept out of training when no spare SoundFont is available.
    """
    path = resources.files("auditory_deepdream") / "data" / "gm_programs.csv"
    table = pd.read_csv(str(path), keep_default_na=False, dtype={"family": str, "source": str})
    bad = table[(table.family != "") & ~table.family.isin(NSYNTH_FAMILIES)]
    if len(bad):
        raise DatasetError(f"gm_programs.csv has unknown families {sorted(bad.family)}; "
                           f"use NSynth's: {list(NSYNTH_FAMILIES)}.")
    return table


def pip_soundfont() -> Path:
    """Path of ``TimGM6mb.sf2``, the small GM SoundFont shipped in the ``pretty_midi`` wheel."""
    spec = importlib.util.find_spec("pretty_midi")  # its folder, without importing it (and its fluidsynth)
    path = Path(spec.origin).parent / "TimGM6mb.sf2" if spec is not None and spec.origin else Path("TimGM6mb.sf2")
    if not path.is_file():
        raise DatasetError(f"{path} is missing; reinstall pretty_midi (pip install --force-reinstall pretty_midi).")
    return path


def _pitches(low: int, high: int, config: RenderConfig) -> tuple[int, ...]:
    pitches = list(range(low, high + 1, config.pitch_step))
    if config.max_pitches is not None and len(pitches) > config.max_pitches:
        pick = np.unique(np.round(np.linspace(0, len(pitches) - 1, config.max_pitches)).astype(int))
        pitches = [pitches[i] for i in pick]
    return tuple(pitches)


# ------------------------------------------------------------------ worker side
@dataclass(frozen=True)
class _ProgramTask:
    """One GM program of one SoundFont to render into ``out_dir`` (picklable)."""

    soundfont: str
    program: int
    name: str
    family: str
    source: str
    instrument: int  # 128 * position of the SoundFont + program
    pitches: tuple[int, ...]
    config: RenderConfig
    out_dir: str

    @property
    def n_notes(self) -> int:
        return sum(len(self.velocities(p)) for p in self.pitches)

    def velocities(self, pitch: int) -> tuple[int, ...]:
        """The velocities of ``pitch``: the fixed levels, or one draw per sub-range."""
        return note_velocities(self.config, soundfont=Path(self.soundfont).name, program=self.program, pitch=pitch)


def note_velocities(config: RenderConfig, *, soundfont: str, program: int, pitch: int) -> tuple[int, ...]:
    """The MIDI velocities rendered for one pitch of one program of one SoundFont.

    ``config.velocities`` unless ``config.velocity_range`` is set; then one velocity drawn
    uniformly from each of ``config.velocity_draws`` equal sub-ranges of it, seeded by
    ``(soundfont, program, pitch)``.
    """
    if config.velocity_range is None:
        return tuple(config.velocities)
    low, high = config.velocity_range
    seed = int.from_bytes(hashlib.sha1(f"{soundfont}:{program}:{pitch}".encode()).digest()[:8], "big")
    rng = np.random.default_rng(seed)
    edges = np.linspace(low, high + 1, config.velocity_draws + 1)
    return tuple(int(rng.integers(int(np.ceil(a)), max(int(np.ceil(b)), int(np.ceil(a)) + 1)))
                 for a, b in zip(edges[:-1], edges[1:]))


def _render_program(task: _ProgramTask) -> list[dict]:
    """Render every note of one program of one SoundFont; write wavs; return example rows."""
    config = task.config
    renderer = renderer_for(task.soundfont, config.renderer)
    synth, sfid = cached_soundfont(task.soundfont, config.sample_rate, renderer)
    if not select_program(synth, sfid, task.program, renderer):
        log.warning("%s has no GM program %d; skipped", Path(task.soundfont).name, task.program)
        return []
    preset = synth.sfpreset_name(sfid, 0, task.program) or ""
    held = round(config.held_seconds * config.sample_rate)
    release = round(config.release_seconds * config.sample_rate)
    instrument_str = f"{task.family}_{task.source}_{task.instrument:03d}"
    rows = []
    for pitch in task.pitches:
        for velocity in task.velocities(pitch):
            y = play_note(synth, renderer=renderer, pitch=pitch, velocity=velocity, held=held,
                          release=release)
            peak = float(np.max(np.abs(y)))
            if peak < _SILENT_PEAK:
                log.info("%s program %d pitch %d is silent; skipped", task.soundfont, task.program, pitch)
                continue
            note_str = f"{instrument_str}-{pitch:03d}-{velocity:03d}"
            write_audio(Path(task.out_dir) / "audio" / f"{note_str}.wav", y, sample_rate=config.sample_rate,
                        like=_PCM_16_WAV)
            rows.append({
                "note_str": note_str,
                "pitch": pitch,
                "velocity": velocity,
                "sample_rate": config.sample_rate,
                "instrument": task.instrument,
                "instrument_str": instrument_str,
                "instrument_family": NSYNTH_FAMILIES.index(task.family),
                "instrument_family_str": task.family,
                "instrument_source": NSYNTH_SOURCES.index(task.source),
                "instrument_source_str": task.source,
                "soundfont": Path(task.soundfont).name,
                "renderer": renderer,
                "program": task.program,
                "program_name": task.name,
                "preset_name": preset,
                "peak": round(peak, 6),
            })
    return rows


# ------------------------------------------------------------------ public entry
def _program_table(*, families, programs, heldout_programs: str) -> pd.DataFrame:
    """The rows of :func:`gm_programs` a render covers."""
    table = gm_programs()
    table = table[table.family != ""]
    if families is not None:
        table = table[table.family.isin(list(families))]
    if programs is not None:
        table = table[table.program.isin(programs)]
    if heldout_programs == "exclude":
        table = table[table.heldout_program == 0]
    elif heldout_programs == "only":
        table = table[table.heldout_program == 1]
    if table.empty:
        raise DatasetError("No GM programs left to render; check families/programs.")
    return table


def render_soundfont(out_dir, *, soundfonts, config: RenderConfig = RenderConfig(),
                     families=None, heldout_programs: str = "include",
                     progress: bool = True, client=None) -> pd.DataFrame:
    """Render notes from GM SoundFonts into an NSynth-layout folder.

    Parameters
    ----------
    out_dir : path-like
        Output folder; gets ``examples.json``, ``render.json`` and ``audio/<note_str>.wav``.
        It is locked while the render writes it
        (:func:`~auditory_deepdream.dataset.locks.folder_lock`), and the temporary files a
        killed render left there are removed first.
    soundfonts : sequence of path-like
        SF2/SF3 files, or TiMidity++ ``.cfg`` patch sets (played by ``timidity``; see
        :mod:`~auditory_deepdream.dataset.timidity`). Instrument numbers are
        ``128 * position + program``, so the same program in two SoundFonts is two instruments.
    config : RenderConfig
    families : iterable of str, optional
        NSynth families to render (default: all in the program table).
    heldout_programs : {'include', 'exclude', 'only'}
        What to do with the programs flagged ``heldout_program`` in ``gm_programs.csv``
        (exclude them from a training render, or render only them for a held-out set).
    progress : bool
        Show a tqdm bar.
    client : distributed.Client, optional
        Render on this Dask cluster (its workers must see ``out_dir`` and the SoundFonts);
        default: ``config.jobs`` local worker processes.

    Returns
    -------
    examples : pd.DataFrame
        One row per rendered note (the content of ``examples.json``), sorted by ``note_str``.

    Raises
    ------
    DatasetError
        Missing or unloadable SoundFonts, a renderer that is not installed, no programs left
        to render, every note silent, or another render or build writing ``out_dir`` now.
    """
    if heldout_programs not in ("include", "exclude", "only"):
        raise DatasetError("heldout_programs must be 'include', 'exclude' or 'only'.")
    soundfonts = [Path(p) for p in soundfonts]
    for renderer in {renderer_for(p, config.renderer) for p in soundfonts}:
        require_renderer(renderer)  # say what to install here, not from inside every worker
    if not soundfonts:
        raise DatasetError("No SoundFonts given; pass at least one .sf2/.sf3 path.")
    for path in soundfonts:
        if not path.is_file():
            raise DatasetError(f"SoundFont {path} does not exist.")
    table = _program_table(families=families, programs=config.programs, heldout_programs=heldout_programs)
    out_dir = Path(out_dir)
    # ordered by SoundFont, so each worker mostly keeps one SoundFont loaded
    tasks = [_ProgramTask(soundfont=str(sf_path), program=int(r.program), name=r.name, family=r.family,
                          source=r.source, instrument=128 * i + int(r.program),
                          pitches=_pitches(int(r.low), int(r.high), config), config=config,
                          out_dir=str(out_dir))
             for i, sf_path in enumerate(soundfonts) for r in table.itertuples()]
    rows: list[dict] = []
    with folder_lock(out_dir, job="render", clean=("audio",)):
        (out_dir / "audio").mkdir(exist_ok=True)
        with tqdm(total=sum(t.n_notes for t in tasks), desc="render notes", unit="note",
                  disable=not progress) as bar:
            for task, result in map_jobs(_render_program, tasks, jobs=config.jobs, client=client,
                                         name="render", announce=tqdm.write if progress else None):
                rows.extend(result)
                bar.update(task.n_notes)
        if not rows:
            raise DatasetError("Every rendered note was silent; is the SoundFont a General MIDI one?")
        examples = pd.DataFrame(rows).sort_values("note_str").reset_index(drop=True)
        examples.insert(1, "note", np.arange(len(examples)))
        # examples.json last: a folder without it is an unfinished render
        write_json_atomic(out_dir / "examples.json",
                          {r["note_str"]: r for r in examples.to_dict(orient="records")})
        write_json_atomic(out_dir / "render.json", {
            "soundfonts": [str(p) for p in soundfonts], "config": asdict(config),
            "heldout_programs": heldout_programs, "n_notes": len(examples)})
    return examples
