"""SoundFont rendering into the NSynth layout, with pip's TimGM6mb.sf2."""

import json
import re

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream.dataset import (
    NSYNTH_FAMILIES,
    RenderConfig,
    default_soundfonts,
    find_soundfonts,
    gm_programs,
    pip_soundfont,
    render_soundfont,
)
from auditory_deepdream.errors import DatasetError

FAST = RenderConfig(held_seconds=0.5, release_seconds=0.25, velocities=(60, 127),
                    programs=(40, 73), max_pitches=2, jobs=1)
NOTE_STR = re.compile(r"^[a-z_]+_(acoustic|electronic|synthetic)_\d{3}-\d{3}-\d{3}$")


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("render")
    return out, render_soundfont(out, soundfonts=[pip_soundfont()], config=FAST, progress=False)


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


def test_soundfont_discovery_skips_duplicates():
    fonts = find_soundfonts()
    assert pip_soundfont() in fonts
    assert len({p.resolve() for p in fonts}) == len(fonts)
    assert all(p.name != "MuseScore_General_Full.sf3" and p.name != "default-GM.sf2" for p in fonts)
    train, held = default_soundfonts()
    assert train and not set(train) & set(held)
    assert pip_soundfont() in train


def test_bad_inputs(tmp_path):
    with pytest.raises(DatasetError):
        find_soundfonts([tmp_path / "missing.sf2"])
    with pytest.raises(DatasetError):
        RenderConfig(velocities=(0,))
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
