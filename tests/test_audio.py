import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream import AudioInputError, AuditoryDeepDreamError
from auditory_deepdream.audio import (check_audio, decode, encode, example_clip, istft, load_audio,
                                      mel_to_magnitude, n_segments, save_audio, segment, stft, trim)


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


def test_too_short_to_encode(settings):
    with pytest.raises(AudioInputError, match="too short"):
        encode(np.ones(100, dtype=np.float32), settings=settings)


# ------------------------------------------------------------------------------ trim / segment
def test_trim_removes_silence_around_a_note(cello, settings):
    pad = np.zeros(settings.sample_rate // 2, dtype=np.float32)
    padded = np.concatenate([pad, cello, pad])
    trimmed = trim(padded, settings=settings)
    assert len(trimmed) < len(cello) + settings.n_fft
    assert len(trimmed) > 0.5 * len(cello)


def test_trim_of_silence_is_an_error(settings):
    with pytest.raises(AudioInputError, match="silent"):
        trim(np.zeros(5000, dtype=np.float32), settings=settings)


@pytest.mark.parametrize("n, hop, expected", [(22_050, 22_050, 1), (22_051, 22_050, 2), (55_125, 22_050, 3),
                                              (100, 22_050, 1), (44_100, 11_025, 3), (44_101, 11_025, 4)])
def test_segment_counts(n, hop, expected, settings):
    assert n_segments(n, segment_samples=settings.segment_samples, hop_samples=hop) == expected
    y = np.arange(1, n + 1, dtype=np.float32)
    segs = segment(y, settings=settings, hop_samples=hop)
    assert segs.shape == (expected, settings.segment_samples)


def test_segments_carry_the_signal_and_zero_pad_the_last(settings):
    seg = settings.segment_samples
    y = np.arange(1, 2 * seg + 101, dtype=np.float32)
    segs = segment(y, settings=settings, hop_seconds=0.5)
    hop = seg // 2
    for i, s in enumerate(segs):
        n_real = min(seg, len(y) - i * hop)
        np.testing.assert_array_equal(s[:n_real], y[i * hop:i * hop + n_real])
        assert not s[n_real:].any()
    assert segs[-1, -1] == 0 and segs[-1, 0] != 0


# ------------------------------------------------------------------------------ encode / decode
def test_encode_shapes_and_floor(cello, settings):
    segs = segment(cello, settings=settings)
    mel = encode(segs, settings=settings)
    assert mel.shape == (len(segs), settings.n_mels, settings.n_frames) and mel.dtype == np.float32
    assert mel.min() >= settings.db_floor and mel.max() < 30
    np.testing.assert_allclose(encode(segs[0], settings=settings), mel[0], atol=1e-4)


def test_stft_round_trip_is_exact(cello, settings):
    y = istft(stft(cello, settings=settings), settings=settings, length=len(cello))
    snr = 10 * np.log10(np.sum(cello ** 2) / np.sum((cello - y) ** 2))
    assert snr > 60


def test_decode_is_deterministic_and_batched(cello, settings):
    segs = segment(cello, settings=settings)
    mel = encode(segs, settings=settings)
    a = decode(mel, settings=settings, n_iter=8, seed=3, length=settings.segment_samples)
    b = decode(mel, settings=settings, n_iter=8, seed=3, length=settings.segment_samples)
    c = decode(mel, settings=settings, n_iter=8, seed=4, length=settings.segment_samples)
    assert a.shape == segs.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    one = decode(mel[1], settings=settings, n_iter=8, seed=3, length=settings.segment_samples)
    assert one.shape == (settings.segment_samples,)


def test_decode_sounds_like_the_input(cello, settings):
    """Griffin-Lim loses phase but keeps the spectrum: re-encoding stays close in dB."""
    segs = segment(cello, settings=settings)[:1]
    mel = encode(segs, settings=settings)
    back = encode(decode(mel, settings=settings, n_iter=32, seed=0, length=settings.segment_samples),
                  settings=settings)
    loud = mel > mel.max() - 50
    assert np.median(np.abs(back - mel)[loud]) < 2.0


def test_mel_to_magnitude_reproduces_the_mel_in_batch_and_alone(cello, settings):
    """NNLS has many solutions; each must map back onto the mel it came from, batched or not."""
    from auditory_deepdream.audio import mel_basis, power_to_db

    mel = encode(segment(cello, settings=settings), settings=settings)
    batch = mel_to_magnitude(mel, settings=settings)
    single = mel_to_magnitude(mel[1], settings=settings)
    assert batch.shape == (len(mel), 1 + settings.n_fft // 2, settings.n_frames)
    for S, target in ((batch[1], mel[1]), (single, mel[1]), (batch[0], mel[0])):
        back = power_to_db(mel_basis(settings) @ S ** 2, settings=settings)
        loud = target > target.max() - 60
        assert np.median(np.abs(back - target)[loud]) < 1.0


def test_save_audio_is_atomic_and_readable(tmp_path, cello, settings):
    path = save_audio(tmp_path / "sub" / "x.wav", cello, sample_rate=settings.sample_rate)
    y, sr = sf.read(path)
    assert sr == settings.sample_rate and np.allclose(y, cello, atol=1e-6)
    assert [p.name for p in path.parent.iterdir()] == ["x.wav"]


def test_example_clip_unknown():
    with pytest.raises(AudioInputError, match="choose one of"):
        example_clip("kazoo")
