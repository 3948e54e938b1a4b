"""Loading, checking and saving audio: formats, resampling, and clear errors for bad files."""

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream import AudioInputError, AuditoryDeepDreamError
from auditory_deepdream.audio import EXAMPLE_CLIPS, check_audio, example_clip, load_audio, save_audio


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


def test_example_clip_unknown():
    with pytest.raises(AudioInputError, match="choose one of"):
        example_clip("kazoo")
