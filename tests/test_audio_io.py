"""Loading, checking and saving audio: formats, resampling, and clear errors for bad files."""

import re
from types import SimpleNamespace

import numpy as np
import pytest
import soundfile as sf
from filesystem_faults import tmpfs, unprivileged, unwritable_folder

from auditory_deepdream import AudioInputError, AuditoryDeepDreamError, OutputError
from auditory_deepdream.audio import (
    EXAMPLE_CLIPS,
    AudioFormat,
    check_audio,
    check_channels,
    example_clip,
    load_audio,
    read_audio,
    save_audio,
    write_audio,
)


# ------------------------------------------------------------------------------ loading
def test_load_resamples_and_mixes_to_mono(tmp_path, cello, settings):
    stereo = np.stack([cello, 0.5 * cello], axis=1)
    sf.write(tmp_path / "st.flac", stereo, settings.sample_rate)
    y = load_audio(tmp_path / "st.flac", settings=settings.replace(sample_rate=16_000))
    assert y.ndim == 1 and y.dtype == np.float32
    assert abs(len(y) - round(len(cello) * 16_000 / settings.sample_rate)) <= 1
    np.testing.assert_allclose(np.abs(y).max(), 0.75 * np.abs(cello).max(), rtol=0.05)


@pytest.mark.parametrize("fmt", ["wav", "flac", "ogg", "mp3"])
def test_reads_common_formats(tmp_path, cello, settings, fmt):
    path = tmp_path / f"c.{fmt}"
    sf.write(path, cello, settings.sample_rate)
    y = load_audio(path, settings=settings)
    assert abs(len(y) - len(cello)) < 3000  # mp3 adds encoder delay/padding
    assert np.abs(y).max() > 0.1


def test_sample_rate_zero_keeps_the_files_rate(tmp_path, cello, settings):
    sf.write(tmp_path / "c.wav", cello, 16_000)
    y = load_audio(tmp_path / "c.wav", settings=settings, sample_rate=0)
    np.testing.assert_allclose(y, cello, atol=1e-4)  # PCM_16 round trip, no resampling


def test_bundled_clips_are_real_notes(settings):
    for name in EXAMPLE_CLIPS:
        y = load_audio(example_clip(name), settings=settings)
        assert 0.5 * settings.sample_rate < len(y) and 0.05 < np.abs(y).max() <= 1.0


# ------------------------------------------------------------------------------ bad input
def test_missing_file(tmp_path):
    with pytest.raises(AudioInputError, match="not found"):
        load_audio(tmp_path / "nope.wav")


def test_empty_file(tmp_path):
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioInputError, match="empty"):
        load_audio(tmp_path / "empty.wav")


def test_not_audio(tmp_path):
    (tmp_path / "notes.wav").write_text("these are not the samples you are looking for\n" * 20)
    with pytest.raises(AudioInputError, match="Could not read"):
        load_audio(tmp_path / "notes.wav")


@pytest.mark.parametrize("name, content", [
    ("notes.txt", b"these are not the samples you are looking for\n" * 20),
    ("noise.wav", np.random.default_rng(5).integers(0, 256, 8000, dtype=np.uint8).tobytes()),
])
def test_a_file_that_is_not_audio_is_refused_quietly_with_the_reason(tmp_path, capfd, recwarn, name, content):
    path = tmp_path / name
    path.write_bytes(content)
    for reader in (load_audio, read_audio):
        with pytest.raises(AudioInputError, match="not an audio file.*no decoder here recognises") as err:
            reader(path)
        assert str(path) in str(err.value) and "Format not recognised" in str(err.value)
    assert [str(w.message) for w in recwarn] == []  # librosa's and audioread's warnings stay inside the reader
    assert capfd.readouterr().err == ""


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(AudioInputError, match="folder"):
        load_audio(tmp_path)


def test_zero_length_file(tmp_path, settings):
    sf.write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), settings.sample_rate)
    with pytest.raises(AudioInputError, match="zero length"):
        load_audio(tmp_path / "zero.wav")


def test_silent_file(tmp_path, settings):
    sf.write(tmp_path / "silent.wav", np.zeros(settings.sample_rate, dtype=np.float32), settings.sample_rate)
    with pytest.raises(AudioInputError, match="silent"):
        load_audio(tmp_path / "silent.wav")


def test_nan_samples(tmp_path, cello, settings):
    bad = cello.copy()
    bad[100:110] = np.nan
    sf.write(tmp_path / "nan.wav", bad, settings.sample_rate, subtype="FLOAT")
    with pytest.raises(AudioInputError, match="10 NaN or infinite"):
        load_audio(tmp_path / "nan.wav")
    with pytest.raises(AudioInputError, match="NaN"):
        check_audio(np.array([0.1, np.inf]))


def test_wrong_shape_and_errors_share_a_family(cello):
    with pytest.raises(AudioInputError, match="mono waveform"):
        check_audio(np.stack([cello, cello]))
    with pytest.raises(AuditoryDeepDreamError):
        check_audio(np.zeros(10))
    assert check_audio(np.zeros(10), allow_silent=True).dtype == np.float32


# ------------------------------------------------------------------------------ saving
def test_save_audio_is_atomic_and_readable(tmp_path, cello, settings):
    path = save_audio(tmp_path / "sub" / "x.wav", cello, sample_rate=settings.sample_rate)
    y, sr = sf.read(path)
    assert sr == settings.sample_rate and np.allclose(y, cello, atol=1e-6)
    assert [p.name for p in path.parent.iterdir()] == ["x.wav"]


# ------------------------------------------------------------------------------ write faults
def _noise(seconds=1.0, sr=44_100):
    """Stereo noise: incompressible, so any encoding of a second of it overflows the 64 KiB disk."""
    return (0.1 * np.random.default_rng(0).standard_normal((2, int(seconds * sr)))).astype(np.float32)


def test_a_read_only_disk_is_one_error_naming_path_cause_and_remedy(tmp_path):
    with tmpfs(tmp_path / "disk", read_only=True) as disk:
        for path in (disk / "dream.wav", disk / "new" / "dream.flac"):
            with pytest.raises(OutputError) as err:
                write_audio(path, _noise(), sample_rate=44_100)
            assert str(err.value) == (f"Cannot write {path}: {disk} is on a read-only file system. Nothing was "
                                      "written; write to a folder on a writable disk, or remount that one read-write.")
        assert list(disk.iterdir()) == []


def test_a_full_disk_is_one_error_and_keeps_the_old_file(tmp_path, cello):
    with tmpfs(tmp_path / "disk") as disk:
        old = write_audio(disk / "dream.wav", cello[:2000], sample_rate=22_050)
        before = old.read_bytes()
        for path in (disk / "dream.wav", disk / "dream.flac", disk / "dream.aiff"):
            with pytest.raises(OutputError, match=f"Cannot write {re.escape(str(path))}: the disk holding "
                                                  f"{re.escape(str(disk))} is full.*free some space"):
                write_audio(path, _noise(), sample_rate=44_100, like=AudioFormat(44_100, 2, "PCM_16", "FLAC"))
        with pytest.raises(OutputError, match="is full"):
            save_audio(disk / "mono.wav", _noise()[0], sample_rate=44_100)
        assert [p.name for p in disk.iterdir()] == ["dream.wav"] and old.read_bytes() == before


def test_a_path_that_is_a_folder_is_one_error(tmp_path, cello):
    (tmp_path / "dream.wav").mkdir()
    with pytest.raises(OutputError, match="dream.wav: it is an existing folder, not a file"):
        write_audio(tmp_path / "dream.wav", cello, sample_rate=22_050)
    with pytest.raises(OutputError, match="existing folder"):
        save_audio(tmp_path / "dream.wav", cello, sample_rate=22_050)
    assert [p.name for p in tmp_path.iterdir()] == ["dream.wav"] and not any((tmp_path / "dream.wav").iterdir())


def test_a_folder_without_write_permission_is_one_error(cello):
    with unwritable_folder() as folder:
        with unprivileged(), pytest.raises(OutputError) as err:
            write_audio(folder / "dream.wav", cello, sample_rate=22_050)
        assert str(err.value).startswith(f"Cannot write {folder / 'dream.wav'}: there is no permission to write "
                                         f"in {folder}.")
        assert list(folder.iterdir()) == []


def test_example_clip_unknown():
    with pytest.raises(AudioInputError, match="choose one of"):
        example_clip("kazoo")


# ------------------------------------------------------------------------------ multi-channel
def _stereo(cello):
    """Two different channels from the cello: the note, and a quieter delayed copy."""
    return np.stack([cello, 0.5 * np.roll(cello, 300)]).astype(np.float32)


def test_stereo_pcm16_wav_round_trip_keeps_channels_rate_subtype(tmp_path, cello):
    stereo = _stereo(cello)
    sf.write(tmp_path / "in.wav", stereo.T, 44_100, subtype="PCM_16")
    y, fmt = read_audio(tmp_path / "in.wav")
    assert fmt == AudioFormat(sample_rate=44_100, channels=2, subtype="PCM_16", format="WAV")
    assert y.shape == stereo.shape and y.dtype == np.float32
    np.testing.assert_allclose(y, stereo, atol=1 / 32768)
    out = write_audio(tmp_path / "out" / "dream.wav", y, sample_rate=fmt.sample_rate, like=fmt)
    info = sf.info(out)
    assert (info.samplerate, info.channels, info.subtype, info.format) == (44_100, 2, "PCM_16", "WAV")
    y2, fmt2 = read_audio(out)
    assert fmt2 == fmt
    np.testing.assert_allclose(y2, stereo, atol=1 / 32768)
    assert [p.name for p in out.parent.iterdir()] == ["dream.wav"]  # atomic: no temporary left


def test_24_bit_flac_keeps_pcm_24(tmp_path, cello):
    stereo = _stereo(cello)
    sf.write(tmp_path / "in.flac", stereo.T, 48_000, subtype="PCM_24")
    y, fmt = read_audio(tmp_path / "in.flac")
    assert (fmt.sample_rate, fmt.channels, fmt.subtype, fmt.format) == (48_000, 2, "PCM_24", "FLAC")
    out = write_audio(tmp_path / "out.flac", y, sample_rate=48_000, like=fmt)
    assert sf.info(out).subtype == "PCM_24"
    np.testing.assert_allclose(read_audio(out)[0], stereo, atol=2 ** -22)


def test_mono_file_reads_as_one_channel(tmp_path, cello, settings):
    sf.write(tmp_path / "m.flac", cello, settings.sample_rate)
    y, fmt = read_audio(tmp_path / "m.flac")
    assert y.shape == (1, len(cello)) and fmt.channels == 1 and fmt.sample_rate == settings.sample_rate


def test_read_audio_through_librosa_has_no_subtype(tmp_path, cello, monkeypatch):
    sf.write(tmp_path / "st.wav", _stereo(cello).T, 22_050)
    def no_libsndfile(*args, **kwargs):
        raise RuntimeError("format not supported by libsndfile")

    # only read_audio's own soundfile fails; librosa (audioread's stand-in here) still reads
    monkeypatch.setattr("auditory_deepdream.audio.io.sf", SimpleNamespace(SoundFile=no_libsndfile))
    y, fmt = read_audio(tmp_path / "st.wav")
    assert y.shape == (2, len(cello)) and fmt == AudioFormat(22_050, 2, None, None)


def test_write_audio_default_subtypes(tmp_path, cello):
    stereo = _stereo(cello)
    assert sf.info(write_audio(tmp_path / "a.wav", stereo, sample_rate=22_050)).subtype == "FLOAT"
    assert sf.info(write_audio(tmp_path / "a.flac", stereo, sample_rate=22_050)).subtype == "PCM_16"
    flac24 = AudioFormat(22_050, 2, "PCM_24", "FLAC")
    # another container than like's: that container's default, not like's subtype
    assert sf.info(write_audio(tmp_path / "b.wav", stereo, sample_rate=22_050, like=flac24)).subtype == "PCM_16"
    assert sf.info(write_audio(tmp_path / "c.ogg", stereo, sample_rate=22_050, like=flac24)).subtype == "VORBIS"
    mono = write_audio(tmp_path / "m.wav", cello, sample_rate=22_050)
    assert sf.info(mono).channels == 1


def test_write_audio_clips_integer_subtypes_only(tmp_path):
    loud = np.array([[0.0, 1.5, -2.0, 0.5] * 100, [0.0, 0.2, -0.2, 0.1] * 100])
    pcm = AudioFormat(22_050, 2, "PCM_16", "WAV")
    y, _ = read_audio(write_audio(tmp_path / "pcm.wav", loud, sample_rate=22_050, like=pcm))
    assert y.max() <= 1.0 and y.min() >= -1.0 and y[0, 1] == pytest.approx(1.0, abs=1e-4)
    y, _ = read_audio(write_audio(tmp_path / "float.wav", loud, sample_rate=22_050))
    np.testing.assert_allclose(y, loud, atol=1e-7)


def test_check_channels_is_channels_first_and_says_what_is_wrong(cello):
    stereo = np.stack([cello, 0.5 * cello])
    assert check_channels(cello).shape == (1, len(cello)) and check_channels(stereo) is not None
    assert check_channels(stereo.astype(np.float64)).dtype == np.float64  # callers cast
    for bad, words in [(np.zeros((2, 2, 8)), "expected (n_samples,)"), (np.zeros((2, 0)), "zero length"),
                       (stereo.T, "pass y.T"), (np.zeros((3, 100)) + 0.1, "3 channels; at most 2"),
                       (np.array([0.1, np.inf]), "1 NaN or infinite"), (np.zeros(100), "silent")]:
        with pytest.raises(AudioInputError, match=re.escape(words)):
            check_channels(bad, max_channels=2, allow_silent=False)
    assert check_channels(np.zeros(100)).shape == (1, 100)  # silence is allowed by default


def test_write_audio_unknown_suffix_and_bad_arrays(tmp_path, cello):
    with pytest.raises(AudioInputError, match=r"\.wav, \.flac"):
        write_audio(tmp_path / "x.m4a", cello, sample_rate=22_050)
    with pytest.raises(AudioInputError, match="channels first"):
        write_audio(tmp_path / "x.wav", np.stack([cello, cello], axis=1), sample_rate=22_050)
    with pytest.raises(AudioInputError, match="NaN"):
        write_audio(tmp_path / "x.wav", np.array([0.1, np.nan]), sample_rate=22_050)
    assert not (tmp_path / "x.wav").exists()


def test_write_mp3_needs_an_encoder(tmp_path, cello, monkeypatch):
    if "MP3" in sf.available_formats():
        out = write_audio(tmp_path / "x.mp3", _stereo(cello), sample_rate=22_050)
        assert sf.info(out).channels == 2
    monkeypatch.setattr(sf, "available_formats", lambda: {"WAV": "WAV", "FLAC": "FLAC"})
    with pytest.raises(AudioInputError, match="no MP3 encoder"):
        write_audio(tmp_path / "y.mp3", cello, sample_rate=22_050)


def test_read_audio_errors_match_load_audio(tmp_path, cello, settings):
    with pytest.raises(AudioInputError, match="not found"):
        read_audio(tmp_path / "nope.wav")
    with pytest.raises(AudioInputError, match="folder"):
        read_audio(tmp_path)
    (tmp_path / "empty.wav").write_bytes(b"")
    with pytest.raises(AudioInputError, match="empty"):
        read_audio(tmp_path / "empty.wav")
    (tmp_path / "notes.wav").write_text("not samples\n" * 50)
    with pytest.raises(AudioInputError, match="Could not read"):
        read_audio(tmp_path / "notes.wav")
    sf.write(tmp_path / "zero.wav", np.zeros((0, 2), dtype=np.float32), settings.sample_rate)
    with pytest.raises(AudioInputError, match="zero length"):
        read_audio(tmp_path / "zero.wav")
    bad = _stereo(cello)
    bad[1, 100:104] = np.nan
    sf.write(tmp_path / "nan.wav", bad.T, settings.sample_rate, subtype="FLOAT")
    with pytest.raises(AudioInputError, match="4 NaN or infinite"):
        read_audio(tmp_path / "nan.wav")


def test_all_silent_stereo_raises_but_one_silent_channel_is_fine(tmp_path, cello, settings):
    sf.write(tmp_path / "silent.wav", np.zeros((settings.sample_rate, 2)), settings.sample_rate)
    with pytest.raises(AudioInputError, match="silent"):
        read_audio(tmp_path / "silent.wav")
    half = np.stack([cello, np.zeros_like(cello)])
    sf.write(tmp_path / "half.wav", half.T, settings.sample_rate)
    y, fmt = read_audio(tmp_path / "half.wav")
    assert fmt.channels == 2 and not y[1].any() and np.isfinite(y).all()
