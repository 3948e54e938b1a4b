import struct

import pytest

from auditory_deepdream.dataset import pip_soundfont, sample_names, shared_sample_names
from auditory_deepdream.errors import AuditoryDeepDreamError, DatasetError


def _chunk(cid: bytes, body: bytes) -> bytes:
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if len(body) % 2 else b"")


def _soundfont(path, names):
    """A minimal SF2: an INFO list, then pdta holding a phdr and the sample headers (with EOS)."""
    records = b"".join(n.encode("latin-1").ljust(20, b"\0")[:20] + bytes(26) for n in [*names, "EOS"])
    pdta = _chunk(b"LIST", b"pdta" + _chunk(b"phdr", bytes(38)) + _chunk(b"shdr", records))
    info = _chunk(b"LIST", b"INFO" + _chunk(b"ifil", struct.pack("<HH", 2, 1)))
    path.write_bytes(_chunk(b"RIFF", b"sfbk" + info + pdta))
    return path


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
