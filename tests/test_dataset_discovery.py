"""Which SoundFonts a default build trains on, holds out and skips (dataset/discovery.py)."""

import pytest

from auditory_deepdream import cli
from auditory_deepdream.dataset import (
    default_soundfonts,
    discovery,
    find_soundfonts,
    pip_soundfont,
    sample_names,
    survey_soundfonts,
)
from auditory_deepdream.errors import DatasetError
from soundfont_files import write_soundfont

TIM = sample_names(pip_soundfont())
HELD = [f"Held sample {i}" for i in range(40)]
OTHER = [f"Other sample {i}" for i in range(30)]


@pytest.fixture
def system(tmp_path, monkeypatch):
    """An empty system SoundFont folder standing in for /usr/share/sounds/sf2 and sf3."""
    folder = tmp_path / "sf2"
    folder.mkdir()
    monkeypatch.setattr(discovery, "_SYSTEM_DIRS", (str(folder),))
    return folder


def _roles(extra=()):
    return {f.path.name: (f.role, f.reason) for f in survey_soundfonts(extra)}


def test_variants_of_the_held_out_soundfont_and_copies_of_a_kept_one_are_skipped(system):
    write_soundfont(system / "MuseScore_General.sf3", HELD)
    write_soundfont(system / "MuseScore_General_Lite.sf3", HELD[:30] + ["Lite only"] * 5)  # as Debian's -small
    write_soundfont(system / "Other_GM.sf2", OTHER)
    write_soundfont(system / "Other_Mono.sf3", OTHER[:20] + ["mono 1", "mono 2"])  # as FluidR3Mono_GM
    write_soundfont(system / "Tim_Copy.sf2", TIM[:300] + OTHER[:10])  # as csound's sf_GMbank
    write_soundfont(system / "Borrows_A_Little.sf2", OTHER[:10] + [f"own {i}" for i in range(12)])
    write_soundfont(system / "GS_Effects.sf2", ["Thunder"], programs=(120, 122), bank=2)  # as FluidR3_GS
    write_soundfont(system / "OPL-3_FM_128M.sf2", [f"128_{i}" for i in range(9)])
    (system / "default-GM.sf2").symlink_to(system / "Other_GM.sf2")
    roles = _roles()
    assert roles["MuseScore_General.sf3"][0] == "held out"
    assert roles["MuseScore_General_Lite.sf3"] == (
        "skipped", "a variant of the held-out MuseScore_General.sf3 (30 of its 31 sample names)")
    assert roles["Other_Mono.sf3"] == ("skipped", "a copy of most of Other_GM.sf2 (20 of its 22 sample names)")
    assert roles["Tim_Copy.sf2"] == ("skipped", "a copy of most of TimGM6mb.sf2 (300 of its 310 sample names)")
    assert roles["GS_Effects.sf2"][0] == "skipped" and "bank 0" in roles["GS_Effects.sf2"][1]
    assert roles["OPL-3_FM_128M.sf2"][0] == "skipped" and "0.535" in roles["OPL-3_FM_128M.sf2"][1]
    assert roles["Other_GM.sf2"][0] == roles["Borrows_A_Little.sf2"][0] == "training"  # 10 of 22: new enough
    assert "default-GM.sf2" not in roles  # a second name of Other_GM.sf2
    assert [p.name for p in find_soundfonts()] == [
        "Borrows_A_Little.sf2", "MuseScore_General.sf3", "Other_GM.sf2", "TimGM6mb.sf2"]
    train, held = default_soundfonts()
    assert [p.name for p in held] == ["MuseScore_General.sf3"]
    assert [p.name for p in train] == ["Borrows_A_Little.sf2", "Other_GM.sf2", "TimGM6mb.sf2"]


def test_the_larger_of_two_copies_is_kept(system):
    write_soundfont(system / "A_Small.sf2", OTHER[:20])
    write_soundfont(system / "B_Large.sf2", OTHER)
    assert _roles()["A_Small.sf2"] == ("skipped", "a copy of most of B_Large.sf2 (20 of its 20 sample names)")
    assert _roles()["B_Large.sf2"][0] == "training"


def test_a_variant_is_held_out_when_the_main_cut_is_missing(system):
    write_soundfont(system / "MuseScore_General_Lite.sf3", HELD)
    write_soundfont(system / "Other_GM.sf2", OTHER)
    assert default_soundfonts()[1] == [system / "MuseScore_General_Lite.sf3"]


def test_soundfonts_the_user_names_are_always_kept(system, tmp_path):
    write_soundfont(system / "Other_GM.sf2", OTHER)
    copy = write_soundfont(tmp_path / "Merlin_like.sf2", TIM[:300] + ["own"])  # mostly TimGM6mb, as Merlin
    fm = write_soundfont(tmp_path / "OPL-3_FM_128M.sf2", ["128_1"])
    roles = _roles([copy, fm])
    assert roles["Merlin_like.sf2"][0] == roles["OPL-3_FM_128M.sf2"][0] == "training"
    # with no MuseScore_General the last of two or more non-TimGM6mb SoundFonts is held out
    assert roles["Other_GM.sf2"][0] == "held out"
    with pytest.raises(DatasetError, match="does not exist"):
        survey_soundfonts([tmp_path / "missing.sf2"])


def test_system_timgm6mb_gives_way_to_pips(system):
    (system / "TimGM6mb.sf2").write_bytes(b"RIFF fake")
    (system / "Other_GM.sf2").write_bytes(b"RIFF fake")  # unreadable headers: compared with nothing, kept
    (system / "default-GM.sf2").symlink_to(system / "TimGM6mb.sf2")  # as Debian links it
    fonts = find_soundfonts()
    assert [p.name for p in fonts] == ["Other_GM.sf2", "TimGM6mb.sf2"]
    assert fonts[-1] == pip_soundfont()
    assert default_soundfonts() == (fonts, [])  # one spare SoundFont is not enough to hold one out
    assert [f.role for f in survey_soundfonts() if f.path == pip_soundfont()] == ["training"]
    assert [f.reason for f in survey_soundfonts() if f.role == "skipped"] == [
        "Debian's packaging of TimGM6mb.sf2, which pip's pretty_midi ships"]


def test_this_machines_soundfonts_are_listed_once_with_a_role():
    fonts = survey_soundfonts()
    assert pip_soundfont() in [f.path for f in fonts]
    assert len({f.path.resolve() for f in fonts if f.role != "skipped"}) == len(find_soundfonts())
    assert {f.role for f in fonts} <= {"training", "held out", "skipped"}
    assert all(f.reason for f in fonts if f.role == "skipped")
    train, held = default_soundfonts()
    assert train and not set(train) & set(held) and pip_soundfont() in train


def test_cli_list_says_why_a_soundfont_is_skipped(system, capsys):
    write_soundfont(system / "MuseScore_General.sf3", HELD)
    write_soundfont(system / "MuseScore_General_Full.sf2", HELD)  # as Debian's -lossless
    assert cli.main(["render-soundfont", "--list"]) == 0
    out = capsys.readouterr().out
    assert "MuseScore_General.sf3  (held out of the default training set)" in out
    assert ("MuseScore_General_Full.sf2  (skipped: a variant of the held-out MuseScore_General.sf3 "
            "(40 of its 40 sample names))") in out
    assert "TimGM6mb.sf2  (training)" in out
