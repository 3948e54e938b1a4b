"""SoundFont rendering into the NSynth layout, with pip's TimGM6mb.sf2."""

import dataclasses
import json
import os
import re
import shutil
import struct
import sys

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream.atomic import atomic_path
from auditory_deepdream.dataset import (
    NSYNTH_FAMILIES,
    RENDER_PRESETS,
    RenderConfig,
    find_soundfonts,
    gm_programs,
    load_soundfont,
    pip_soundfont,
    render_soundfont,
    synths,
)
from auditory_deepdream.dataset.locks import folder_lock
from auditory_deepdream.dataset.soundfont import note_velocities
from auditory_deepdream.errors import DatasetError

FAST = RenderConfig(held_seconds=0.5, release_seconds=0.25, velocities=(60, 127),
                    programs=(40, 73), max_pitches=2, jobs=1)
FAST_FLUID = dataclasses.replace(FAST, renderer="fluidsynth")
NOTE_STR = re.compile(r"^[a-z_]+_(acoustic|electronic|synthetic)_\d{3}-\d{3}-\d{3}$")


def require_fluidsynth() -> None:
    """Skip the calling test without FluidSynth (library or binding); fail instead under CI."""
    try:
        import fluidsynth  # noqa: F401
    except (ImportError, OSError) as exc:  # the binding raises either when libfluidsynth is missing
        message = (f"renderer='fluidsynth' needs FluidSynth ({exc}); install it with "
                   "`apt-get install fluidsynth` and `pip install pyfluidsynth`")
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def write_sine_soundfont(path, *, program: int = 0, sample_rate: int = 22050):
    """Write a one-preset SF2: GM ``program`` (bank 0) plays a looped 440 Hz sine at key 69."""
    n = sample_rate // 10  # 0.1 s: 44 whole periods, so the loop is seamless
    wave = (0.5 * 32767 * np.sin(2 * np.pi * 440 * np.arange(n) / sample_rate)).astype("<i2")

    def chunk(tag, data):
        return tag + struct.pack("<I", len(data)) + data + b"\0" * (len(data) % 2)

    def records(fmt, *rows):
        return b"".join(struct.pack(fmt, *row) for row in rows)

    info = b"INFO" + chunk(b"ifil", struct.pack("<HH", 2, 1)) + chunk(b"isng", b"EMU8000\0") \
        + chunk(b"INAM", b"Sine test\0")
    sdta = b"sdta" + chunk(b"smpl", wave.tobytes() + bytes(2 * 46))  # 46 zero samples after each sample
    pdta = b"pdta" + b"".join([
        chunk(b"phdr", records("<20sHHHIII", (b"Sine", program, 0, 0, 0, 0, 0), (b"EOP", 0, 0, 1, 0, 0, 0))),
        chunk(b"pbag", records("<HH", (0, 0), (1, 0))),
        chunk(b"pmod", bytes(10)),
        chunk(b"pgen", records("<HH", (41, 0), (0, 0))),  # instrument 0
        chunk(b"inst", records("<20sH", (b"Sine", 0), (b"EOI", 1))),
        chunk(b"ibag", records("<HH", (0, 0), (2, 0))),
        chunk(b"imod", bytes(10)),
        chunk(b"igen", records("<HH", (54, 1), (53, 0), (0, 0))),  # loop continuously; sample 0
        chunk(b"shdr", records("<20sIIIIIBbHH", (b"Sine", 0, n, 0, n, sample_rate, 69, 0, 0, 1),
                               (b"EOS", 0, 0, 0, 0, 0, 0, 0, 0, 0))),
    ])
    body = b"sfbk" + b"".join(chunk(b"LIST", part) for part in (info, sdta, pdta))
    path.write_bytes(chunk(b"RIFF", body))
    return path


def dominant_hz(y, sample_rate=22050):
    spectrum = np.abs(np.fft.rfft(y * np.hanning(len(y))))
    return np.argmax(spectrum) * sample_rate / len(y)


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    return out, render_soundfont(out, soundfonts=[pip_soundfont()], config=FAST, progress=False)


@pytest.fixture(scope="module")
def fluid_rendered(tmp_path_factory):
    require_fluidsynth()
    out = tmp_path_factory.mktemp("fluid")
    return out, render_soundfont(out, soundfonts=[pip_soundfont()], config=FAST_FLUID, progress=False)


def test_program_table_is_complete_and_consistent():
    table = gm_programs()
    assert list(table.program) == list(range(128))
    assert (table.low <= table.high).all()
    kept = table[table.family != ""]
    assert set(kept.family) <= set(NSYNTH_FAMILIES)
    assert set(kept.source) <= {"acoustic", "electronic", "synthetic"}
    assert table.loc[40, "family"] == "string" and table.loc[73, "family"] == "flute"
    # one held-out program per family that the ontology keeps, so a generalisation test covers all
    held = table[table.heldout_program == 1]
    assert held.family.is_unique and len(held) == 10


def test_render_writes_nsynth_layout(rendered):
    out, examples = rendered
    assert len(examples) == 2 * 2 * 2  # programs x pitches x velocities
    data = json.loads((out / "examples.json").read_text())
    assert set(data) == set(examples.note_str)
    for key, ex in data.items():
        assert NOTE_STR.match(key), key
        assert key == f"{ex['instrument_str']}-{ex['pitch']:03d}-{ex['velocity']:03d}"
        assert ex["instrument_family_str"] in ("string", "flute")
        assert ex["instrument_source_str"] == "acoustic"
        assert ex["sample_rate"] == 22050
        y, sr = sf.read(out / "audio" / f"{key}.wav")
        assert sr == 22050 and y.ndim == 1
        assert len(y) == int(0.75 * 22050)
        assert np.max(np.abs(y)) == pytest.approx(ex["peak"], abs=1 / 2 ** 15)  # 16-bit PCM of the render
    violin = examples[examples.program == 40]
    assert violin.pitch.min() == 55 and violin.pitch.max() == 100  # ends of the playable range


def test_render_has_release_tail_and_velocity_matters(rendered):
    out, examples = rendered
    loud = examples[(examples.program == 73) & (examples.velocity == 127)].iloc[0]
    soft = examples[(examples.note_str == loud.note_str.replace("-127", "-060"))].iloc[0]
    y_loud, _ = sf.read(out / "audio" / f"{loud.note_str}.wav")
    y_soft, _ = sf.read(out / "audio" / f"{soft.note_str}.wav")
    assert np.abs(y_loud).max() > np.abs(y_soft).max()
    held = int(0.5 * 22050)
    assert np.abs(y_loud[held:]).max() < np.abs(y_loud[:held]).max()  # released note decays


def test_render_is_deterministic_and_parallel_equals_serial(rendered, tmp_path):
    out, examples = rendered
    again = render_soundfont(tmp_path, soundfonts=[pip_soundfont()],
                             config=RenderConfig(**{**FAST.__dict__, "jobs": 2}), progress=False)
    assert again.equals(examples)
    for name in examples.note_str:
        assert (tmp_path / "audio" / f"{name}.wav").read_bytes() == (out / "audio" / f"{name}.wav").read_bytes()


def test_a_rerender_removes_what_a_killed_render_left_and_nothing_else(rendered, tmp_path):
    out, examples = rendered
    folder = shutil.copytree(out, tmp_path / "render")
    # a render killed outright (no exception to clean up on) leaves its writers' temporary files
    killed = [atomic_path(folder / "audio" / f"{examples.note_str[0]}.wav"), atomic_path(folder / "examples.json")]
    orphans = [writer.__enter__() for writer in killed]
    user_files = {folder / "audio" / ".my-take.wav": b"RIFF mine", folder / "notes.txt": b"mine"}
    for path, content in user_files.items():
        path.write_bytes(content)
    again = render_soundfont(folder, soundfonts=[pip_soundfont()], config=FAST, progress=False)
    assert not any(orphan.exists() for orphan in orphans)
    assert all(path.read_bytes() == content for path, content in user_files.items())
    assert again.equals(examples)
    for name in examples.note_str:
        assert (folder / "audio" / f"{name}.wav").read_bytes() == (out / "audio" / f"{name}.wav").read_bytes()
    assert sorted(p.name for p in (folder / "audio").iterdir()) == sorted([".my-take.wav",
                                                                          *(f"{n}.wav" for n in examples.note_str)])


def test_a_render_into_a_folder_another_job_writes_is_refused(tmp_path):
    with folder_lock(tmp_path, job="build"), pytest.raises(DatasetError, match=re.escape(
            f"Cannot render into {tmp_path}: another build or render is writing there")):
        render_soundfont(tmp_path, soundfonts=[pip_soundfont()], config=FAST, progress=False)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".lock"]


def test_heldout_programs_are_disjoint(tmp_path):
    cfg = RenderConfig(held_seconds=0.25, release_seconds=0.1, velocities=(100,), max_pitches=1,
                       programs=(40, 41, 73, 74), jobs=1)
    train = render_soundfont(tmp_path / "a", soundfonts=[pip_soundfont()], config=cfg,
                             heldout_programs="exclude", progress=False)
    held = render_soundfont(tmp_path / "b", soundfonts=[pip_soundfont()], config=cfg,
                            heldout_programs="only", progress=False)
    assert set(train.program) == {40, 73} and set(held.program) == {41, 74}


def test_notes_are_sorted_and_numbered(rendered):
    _, examples = rendered
    assert examples.note_str.is_monotonic_increasing and examples.note.tolist() == list(range(len(examples)))
    assert set(examples.instrument) == {40, 73} and set(examples.soundfont) == {"TimGM6mb.sf2"}
    assert set(examples.renderer) == {"tinysoundfont"}


def test_bad_inputs(tmp_path):
    with pytest.raises(DatasetError):
        find_soundfonts([tmp_path / "missing.sf2"])
    with pytest.raises(DatasetError):
        RenderConfig(velocities=(0,))
    with pytest.raises(DatasetError, match="renderer"):
        RenderConfig(renderer="timidity")
    with pytest.raises(DatasetError, match="renderer"):
        load_soundfont(pip_soundfont(), sample_rate=22050, renderer="timidity")
    with pytest.raises(DatasetError):
        render_soundfont(tmp_path, soundfonts=[pip_soundfont()], config=RenderConfig(programs=(47,)))
    not_sf = tmp_path / "fake.sf2"
    not_sf.write_bytes(b"RIFF0000junk")
    with pytest.raises(DatasetError):
        render_soundfont(tmp_path / "o", soundfonts=[not_sf], config=FAST, progress=False)


def test_cli_render_soundfont(tmp_path, capsys):
    from auditory_deepdream import cli

    assert cli.main(["render-soundfont", "--list"]) == 0
    assert "TimGM6mb.sf2" in capsys.readouterr().out
    assert cli.main(["render-soundfont", "--out", str(tmp_path), "--programs", "73",
                     "--velocities", "100", "--jobs", "1"]) == 0
    assert "rendered 4 notes" in capsys.readouterr().out
    assert len(json.loads((tmp_path / "examples.json").read_text())) == 4
    assert cli.main(["render-soundfont"]) == 2  # no --out: a clear error, not a traceback
    # --velocities replaces the full preset's drawn velocities rather than being ignored
    assert cli.main(["render-soundfont", "--out", str(tmp_path / "full"), "--preset", "full", "--programs", "73",
                     "--velocities", "100", "--jobs", "1"]) == 0
    examples = json.loads((tmp_path / "full" / "examples.json").read_text())
    assert len(examples) == len(range(60, 97)) and {e["velocity"] for e in examples.values()} == {100}  # every semitone


def test_cli_render_soundfont_renderer(tmp_path, capsys):
    from auditory_deepdream import cli

    with pytest.raises(SystemExit):  # argparse names the choices
        cli.main(["render-soundfont", "--out", str(tmp_path), "--renderer", "timidity"])
    assert "fluidsynth" in capsys.readouterr().err
    require_fluidsynth()
    assert cli.main(["render-soundfont", "--out", str(tmp_path), "--programs", "73", "--velocities", "100",
                     "--jobs", "1", "--renderer", "fluidsynth"]) == 0
    examples = json.loads((tmp_path / "examples.json").read_text())
    assert len(examples) == 4 and {ex["renderer"] for ex in examples.values()} == {"fluidsynth"}
    assert json.loads((tmp_path / "render.json").read_text())["config"]["renderer"] == "fluidsynth"


# ------------------------------------------------------------------ FluidSynth
def test_fluidsynth_renders_audible_unclipped_nsynth_notes(fluid_rendered):
    out, examples = fluid_rendered
    assert len(examples) == 2 * 2 * 2
    assert set(examples.renderer) == {"fluidsynth"}
    assert json.loads((out / "render.json").read_text())["config"]["renderer"] == "fluidsynth"
    data = json.loads((out / "examples.json").read_text())
    for key, ex in data.items():
        assert NOTE_STR.match(key), key
        assert ex["renderer"] == "fluidsynth" and ex["preset_name"]
        y, sr = sf.read(out / "audio" / f"{key}.wav")
        assert sr == 22050 and y.ndim == 1 and len(y) == int(0.75 * 22050)
        assert 0.01 < np.max(np.abs(y)) < 0.7  # audible; the gain leaves headroom (no sample near +-1)
        assert np.max(np.abs(y)) == pytest.approx(ex["peak"], abs=1 / 2 ** 15)
    loud = examples[(examples.program == 73) & (examples.velocity == 127)].peak
    soft = examples[(examples.program == 73) & (examples.velocity == 60)].peak
    assert (loud.to_numpy() > soft.to_numpy()).all()


def test_fluidsynth_is_deterministic(fluid_rendered, tmp_path):
    # the second render starts where the first left the synthesizer (another note in its voices)
    out, examples = fluid_rendered
    again = render_soundfont(tmp_path, soundfonts=[pip_soundfont()], config=FAST_FLUID, progress=False)
    assert again.equals(examples)
    for name in examples.note_str:
        assert (tmp_path / "audio" / f"{name}.wav").read_bytes() == (out / "audio" / f"{name}.wav").read_bytes()


def test_fluidsynth_differs_from_tinysoundfont_but_lasts_as_long(fluid_rendered, rendered):
    fluid_out, fluid = fluid_rendered
    tiny_out, tiny = rendered
    assert list(fluid.note_str) == list(tiny.note_str)
    for name in fluid.note_str:
        y_fluid, _ = sf.read(fluid_out / "audio" / f"{name}.wav")
        y_tiny, _ = sf.read(tiny_out / "audio" / f"{name}.wav")
        assert np.max(np.abs(y_fluid - y_tiny)) > 0.01  # another synthesizer
        sounding = [np.nonzero(np.abs(y) > 0.01 * np.max(np.abs(y)))[0] for y in (y_fluid, y_tiny)]
        assert abs(sounding[0][0] - sounding[1][0]) < 0.02 * 22050  # same onset
        assert abs(sounding[0][-1] - sounding[1][-1]) < 0.1 * 22050  # and release


@pytest.mark.parametrize("renderer", ["tinysoundfont", "fluidsynth"])
def test_missing_preset_is_skipped(renderer, tmp_path):
    if renderer == "fluidsynth":
        require_fluidsynth()
    sine = write_sine_soundfont(tmp_path / "sine.sf2", program=0)
    config = RenderConfig(held_seconds=0.3, release_seconds=0.1, velocities=(100,), programs=(0, 40),
                          max_pitches=2, jobs=1, renderer=renderer)
    examples = render_soundfont(tmp_path / "out", soundfonts=[sine], config=config, progress=False)
    assert set(examples.program) == {0}  # program 40 is not in the SoundFont
    assert set(examples.renderer) == {renderer} and set(examples.preset_name) == {"Sine"}
    for ex in examples.itertuples():
        y, _ = sf.read(tmp_path / "out" / "audio" / f"{ex.note_str}.wav")
        assert dominant_hz(y) == pytest.approx(440 * 2 ** ((ex.pitch - 69) / 12), rel=0.03)


def test_fluidsynth_missing_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "fluidsynth", None)  # import fluidsynth now raises ImportError
    synths._fluidsynth_write_float.cache_clear()
    try:
        with pytest.raises(DatasetError, match="apt-get install fluidsynth.*pip install pyfluidsynth"):
            render_soundfont(tmp_path, soundfonts=[pip_soundfont()], config=FAST_FLUID, progress=False)
    finally:
        synths._fluidsynth_write_float.cache_clear()


def test_fluidsynth_unloadable_soundfont(tmp_path):
    require_fluidsynth()
    not_sf = tmp_path / "fake.sf2"
    not_sf.write_bytes(b"RIFF0000junk")
    with pytest.raises(DatasetError, match="Could not load SoundFont"):
        load_soundfont(not_sf, sample_rate=22050, renderer="fluidsynth")


# ------------------------------------------------------------------ velocity ranges
RANGE = RenderConfig(velocity_range=(20, 127), velocity_draws=3)


def test_velocity_range_draws_one_velocity_per_stratum():
    strata = [(20, 55), (56, 91), (92, 127)]  # (20..127) cut into three equal parts
    draws = {}
    for pitch in range(36, 97):
        velocities = note_velocities(RANGE, soundfont="TimGM6mb.sf2", program=40, pitch=pitch)
        assert len(velocities) == 3 and len(set(velocities)) == 3
        assert all(low <= v <= high for v, (low, high) in zip(velocities, strata))
        assert velocities == note_velocities(dataclasses.replace(RANGE, jobs=1), soundfont="TimGM6mb.sf2",
                                             program=40, pitch=pitch)  # seeded by the note, not the call
        draws[pitch] = velocities
    assert len(set(draws.values())) > len(draws) // 2  # pitches get their own draws
    assert note_velocities(RANGE, soundfont="FluidR3_GM.sf2", program=40, pitch=60) != draws[60]
    narrow = RenderConfig(velocity_range=(60, 62), velocity_draws=3)
    assert note_velocities(narrow, soundfont="x.sf2", program=0, pitch=60) == (60, 61, 62)
    assert note_velocities(FAST, soundfont="x.sf2", program=0, pitch=60) == (60, 127)  # fixed levels


def test_full_preset_renders_every_semitone_at_one_velocity_drawn_across_the_range():
    # every third semitone taught the bundled model the grid: between its pitches a held-out
    # SoundFont's notes were named far less often (benchmarks/results/pitch_grid.json)
    full = RENDER_PRESETS["full"]
    assert (full.velocity_range, full.velocity_draws, full.pitch_step, full.max_pitches) == ((20, 127), 1, 1, None)
    velocities = {note_velocities(full, soundfont="FluidR3_GM.sf2", program=41, pitch=p)[0] for p in range(48, 89)}
    assert min(velocities) < 50 and max(velocities) > 100  # one velocity per note, spread over 20..127


@pytest.mark.parametrize("velocity_range, draws", [((0, 100), 3), ((100, 20), 3), ((20, 128), 3),
                                                   ((50, 51), 3), ((20, 127), 0)])
def test_invalid_velocity_range(velocity_range, draws):
    with pytest.raises(DatasetError, match="velocity_range"):
        RenderConfig(velocity_range=velocity_range, velocity_draws=draws)


def test_render_uses_the_drawn_velocities(tmp_path):
    config = RenderConfig(held_seconds=0.25, release_seconds=0.1, velocity_range=(20, 127), velocity_draws=2,
                          programs=(73,), max_pitches=2, jobs=1)
    examples = render_soundfont(tmp_path, soundfonts=[pip_soundfont()], config=config, progress=False)
    expected = {(pitch, v) for pitch in (60, 96)
                for v in note_velocities(config, soundfont="TimGM6mb.sf2", program=73, pitch=pitch)}
    assert set(zip(examples.pitch, examples.velocity)) == expected and len(examples) == 4
    for ex in examples.itertuples():
        assert ex.note_str == f"flute_acoustic_073-{ex.pitch:03d}-{ex.velocity:03d}"
        assert (tmp_path / "audio" / f"{ex.note_str}.wav").is_file()
