import pytest

from auditory_deepdream.dataset import pip_soundfont, sample_names, shared_sample_names
from auditory_deepdream.dataset.sample_headers import presets
from auditory_deepdream.errors import AuditoryDeepDreamError, DatasetError
from soundfont_files import write_soundfont as _soundfont


def test_sample_names_are_read_from_the_sample_headers_without_the_terminal_record(tmp_path):
    font = _soundfont(tmp_path / "two.sf2", ["Piano C4", "Violin G#5 long name!"])
    # a name fills at most 20 bytes
    assert sample_names(font) == ["Piano C4", "Violin G#5 long name"]


def test_shared_sample_names_are_the_names_both_hold(tmp_path):
    a = _soundfont(tmp_path / "a.sf2", ["Oboe E4", "Piano C4", "Piano C4"])
    b = _soundfont(tmp_path / "b.sf3", ["Flute A4", "Oboe E4", "Piano C4"])
    c = _soundfont(tmp_path / "c.sf2", ["Flute A4"])
    assert shared_sample_names(a, b) == ["Oboe E4", "Piano C4"]
    assert shared_sample_names(a, c) == []


def test_the_pip_soundfont_has_hundreds_of_named_samples():
    names = sample_names(pip_soundfont())
    assert len(names) > 400 and "EOS" not in names
    assert shared_sample_names(pip_soundfont(), pip_soundfont()) == sorted(set(names))


def test_files_that_are_not_soundfonts_get_a_clear_error(tmp_path):
    with pytest.raises(DatasetError, match="does not exist"):
        sample_names(tmp_path / "missing.sf2")
    (tmp_path / "note.wav").write_bytes(b"RIFF\x04\x00\x00\x00WAVE")
    with pytest.raises(DatasetError, match="not a SoundFont"):
        sample_names(tmp_path / "note.wav")
    whole = _soundfont(tmp_path / "whole.sf2", ["Piano C4"]).read_bytes()
    (tmp_path / "cut.sf2").write_bytes(whole[: len(whole) - 60])  # the sample headers cut off
    with pytest.raises(AuditoryDeepDreamError, match="no readable sample headers"):
        sample_names(tmp_path / "cut.sf2")


def test_an_odd_chunk_without_its_pad_byte_is_read_as_its_writer_meant(tmp_path):
    # Debian's FluidR3Mono_GM.sf3 and MuseScore_General_Lite.sf3 leave out the pad byte after the odd
    # sdta list; the padded position then reads the next header one byte late ("IST~", "ISTZ")
    for smpl in (5, 6):  # odd: an unpadded sample chunk and list; even: nothing to pad
        for pad in (True, False):
            font = _soundfont(tmp_path / f"{smpl}{pad}.sf2", ["Piano C4", "Oboe E4"], programs=(0, 68),
                              sdta_bytes=smpl, pad=pad)
            assert sample_names(font) == ["Piano C4", "Oboe E4"]
            assert presets(font) == [(0, 0, "Preset 0"), (0, 68, "Preset 68")]


def test_presets_give_bank_program_and_name():
    found = presets(pip_soundfont())
    assert (0, 73, "Flute TB") in found and "EOP" not in {name for *_, name in found}
    assert {program for bank, program, _ in found if bank == 0} == set(range(128))  # a whole GM set
    assert any(bank == 128 for bank, *_ in found)  # and drum kits
