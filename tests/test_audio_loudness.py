"""True loudness: BS.1770 integrated loudness, true peak, the look-ahead limiter, matching."""

import numpy as np
import pyloudnorm
import pytest

from auditory_deepdream import AudioInputError, AuditoryDeepDreamError
from auditory_deepdream.audio import (
    integrated_loudness,
    limit_true_peak,
    match_loudness,
    parse_loudness,
    true_peak_db,
)

SR = 48_000


def _sine(freq, seconds=3.0, amplitude=1.0, phase=0.0, sr=SR):
    t = np.arange(int(seconds * sr)) / sr
    return amplitude * np.sin(2 * np.pi * freq * t + phase)


def _drums(seed=0, seconds=3.0, amplitude=3.0, sr=SR):
    """Loud decaying noise bursts four times a second: sharp attacks, peaks far over 0 dBFS."""
    rng = np.random.default_rng(seed)
    y = np.zeros(int(seconds * sr))
    hit = sr // 4
    envelope = np.exp(-np.arange(hit) / (0.03 * sr))
    for k, start in enumerate(range(0, y.size - hit, hit)):
        y[start:start + hit] += amplitude * (0.5 + 0.5 * (k % 2)) * rng.standard_normal(hit) * envelope
    return y


def _largest_jump(y):
    return float(np.abs(np.diff(y, axis=-1)).max())


# ------------------------------------------------------------------------------ measuring
def test_full_scale_997_hz_sine_is_minus_3_lufs():
    assert integrated_loudness(_sine(997), sample_rate=SR) == pytest.approx(-3.01, abs=0.1)


def test_two_equal_channels_are_3_lu_louder_than_one():
    mono = _sine(997, amplitude=0.5)
    single = integrated_loudness(mono, sample_rate=SR)
    assert integrated_loudness(mono[None], sample_rate=SR) == pytest.approx(single, abs=1e-9)
    stereo = integrated_loudness(np.stack([mono, mono]), sample_rate=SR)
    assert stereo - single == pytest.approx(10 * np.log10(2), abs=0.01)


def test_short_clip_gets_a_finite_loudness():
    clip = _sine(997, seconds=0.1, amplitude=0.5)  # shorter than the 400 ms block
    lufs = integrated_loudness(clip, sample_rate=SR)
    assert np.isfinite(lufs)
    assert lufs == pytest.approx(integrated_loudness(_sine(997, amplitude=0.5), sample_rate=SR), abs=1.0)


def test_silence_and_gated_out_audio_measure_minus_infinity():
    assert integrated_loudness(np.zeros(SR), sample_rate=SR) == -np.inf
    assert integrated_loudness(_sine(997, amplitude=1e-5), sample_rate=SR) == -np.inf  # below -70 LUFS
    assert true_peak_db(np.zeros(100)) == -np.inf


def test_up_to_five_channels_measure_as_pyloudnorm_does():
    # bursts and silences, so both gates drop blocks; the 5 channels carry the Ls/Rs weight of 1.41
    y = np.stack([(0.3 + 0.1 * k) * _drums(seed=k, amplitude=0.5) for k in range(5)])
    meter = pyloudnorm.Meter(SR)
    for n_channels in (1, 2, 5):
        part = y[:n_channels]
        expected = meter.integrated_loudness(part.T if n_channels > 1 else part[0])
        assert integrated_loudness(part, sample_rate=SR) == pytest.approx(expected, abs=1e-9)


def test_channels_beyond_the_fifth_weigh_one():
    # steady noise at eight levels: every block passes both gates, so the loudness is
    # -0.691 + 10 log10(sum_i G_i z_i), z_i the channel's mean square after K-weighting
    rng = np.random.default_rng(3)
    y = (0.05 * np.arange(1, 9))[:, None] * rng.standard_normal((8, 3 * SR))
    meter = pyloudnorm.Meter(SR)
    z = np.array([10 ** ((meter.integrated_loudness(channel) + 0.691) / 10) for channel in y])
    weights = np.array([1.0, 1.0, 1.0, 1.41, 1.41, 1.0, 1.0, 1.0])
    expected = -0.691 + 10 * np.log10(weights @ z)
    assert integrated_loudness(y, sample_rate=SR) == pytest.approx(expected, abs=1e-6)
    # silent extra channels add nothing: the first five measure as pyloudnorm measures them alone
    quiet_extra = np.concatenate([y[:5], np.zeros((3, y.shape[1]))])
    assert integrated_loudness(quiet_extra, sample_rate=SR) == pytest.approx(meter.integrated_loudness(y[:5].T),
                                                                             abs=1e-9)


def test_eight_channels_are_matched_and_limited():
    y = np.stack([_drums(seed=k) for k in range(8)])
    assert true_peak_db(y) == pytest.approx(max(true_peak_db(channel) for channel in y), abs=1e-9)
    limited = limit_true_peak(y, sample_rate=SR, ceiling_db=-1.0)
    assert limited.shape == y.shape and true_peak_db(limited) <= -1.0 + 0.1
    out = match_loudness(0.01 * y, sample_rate=SR, target_lufs=-16.0)
    assert out.shape == y.shape and true_peak_db(out) <= -1.0 + 0.1
    assert integrated_loudness(out, sample_rate=SR) == pytest.approx(-16.0, abs=0.1)


def test_true_peak_finds_the_peak_between_samples():
    y = _sine(SR / 4, seconds=0.5, phase=np.pi / 4)  # samples land at ±0.707 of the true ±1
    sample_peak = 20 * np.log10(np.abs(y).max())
    assert sample_peak == pytest.approx(-3.01, abs=0.01)
    assert true_peak_db(y, sample_rate=SR) - sample_peak == pytest.approx(3.01, abs=0.3)
    stereo = np.stack([0.25 * y, y])
    assert true_peak_db(stereo) == pytest.approx(true_peak_db(y), abs=1e-9)  # max over channels
    assert true_peak_db(0.5 * y) == pytest.approx(true_peak_db(y) - 6.02, abs=0.01)


def test_bad_arrays_are_refused_with_advice():
    with pytest.raises(AudioInputError, match="channels first"):
        integrated_loudness(np.zeros((SR, 2)), sample_rate=SR)
    with pytest.raises(AudioInputError, match="NaN"):
        true_peak_db(np.array([0.1, np.nan, 0.2]))


# ------------------------------------------------------------------------------ limiting
def test_limiter_brings_true_peak_under_the_ceiling_without_clicks():
    y = _drums()
    assert true_peak_db(y) > 10
    out = limit_true_peak(y, sample_rate=SR, ceiling_db=-1.0)
    assert out.shape == y.shape and out.dtype == np.float32
    assert true_peak_db(out) <= -1.0 + 0.1
    assert _largest_jump(out) <= _largest_jump(y)
    gain = out[np.abs(y) > 0.05] / y[np.abs(y) > 0.05]
    assert 0 < gain.min() and gain.max() <= 1.0 + 1e-6  # only ever turns down


def test_limiter_gain_is_smooth():
    y = _sine(100, amplitude=0.5)
    y[SR:SR + 10] += 4.0  # one sharp spike in a quiet tone
    out = limit_true_peak(y, sample_rate=SR)
    gain = np.where(np.abs(y) > 0.05, out / np.where(y == 0, 1, y), np.nan)
    assert np.nanmin(gain) < 0.5  # the spike was turned down ...
    assert np.nanmax(np.abs(np.diff(gain))) < 0.01  # ... by a ramp over the 5 ms look-ahead, not a dip
    assert _largest_jump(out) <= _largest_jump(y)


def test_limiter_links_the_stereo_channels():
    left = _drums(seed=1)
    right = 0.4 * _drums(seed=1) + 0.1 * _drums(seed=2)
    y = np.stack([left, right])
    out = limit_true_peak(y, sample_rate=SR)
    assert out.shape == y.shape and true_peak_db(out) <= -0.9
    both = (np.abs(y[0]) > 1e-3) & (np.abs(y[1]) > 1e-3)
    np.testing.assert_allclose(out[1][both] / out[0][both], y[1][both] / y[0][both], rtol=1e-3)
    assert _largest_jump(out) <= _largest_jump(y)


def test_limiter_leaves_quiet_audio_alone():
    y = _sine(440, amplitude=0.5)
    np.testing.assert_array_equal(limit_true_peak(y, sample_rate=SR), y.astype(np.float32))


# ------------------------------------------------------------------------------ matching
def test_quiet_noise_burst_matches_a_target():
    rng = np.random.default_rng(3)
    quiet = 0.01 * rng.standard_normal(2 * SR) * np.hanning(2 * SR)
    out = match_loudness(quiet, sample_rate=SR, target_lufs=-14.0)
    assert integrated_loudness(out, sample_rate=SR) == pytest.approx(-14.0, abs=0.2)
    assert true_peak_db(out) <= -1.0 + 0.1


def test_peaky_signal_is_limited_and_still_lands_near_the_target():
    rng = np.random.default_rng(4)
    peaky = 0.01 * rng.standard_normal(3 * SR)
    peaky[:: SR // 2] = 1.0  # clicks: plain gain to -14 LUFS would put them near +20 dBTP
    plain = peaky * 10 ** ((-14.0 - integrated_loudness(peaky, sample_rate=SR)) / 20)
    assert true_peak_db(plain) > 10
    out = match_loudness(peaky, sample_rate=SR, target_lufs=-14.0)
    assert integrated_loudness(out, sample_rate=SR) == pytest.approx(-14.0, abs=1.0)
    assert true_peak_db(out) <= -1.0 + 0.1


def test_matches_a_stereo_reference():
    reference = np.stack([_sine(220, amplitude=0.3), _sine(330, amplitude=0.2)])
    y = 0.05 * np.stack([_drums(seed=5), _drums(seed=6)])
    out = match_loudness(y, sample_rate=SR, reference=reference)
    assert out.shape == y.shape
    assert integrated_loudness(out, sample_rate=SR) == pytest.approx(
        integrated_loudness(reference, sample_rate=SR), abs=0.2)
    assert true_peak_db(out) <= -0.9


def test_matching_silence_or_ambiguous_requests_raise():
    with pytest.raises(AudioInputError, match="silent"):
        match_loudness(np.zeros(SR), sample_rate=SR, target_lufs=-14.0)
    with pytest.raises(AudioInputError, match="silent"):
        match_loudness(_sine(440), sample_rate=SR, reference=np.zeros(SR))
    with pytest.raises(AudioInputError, match="exactly one"):
        match_loudness(_sine(440), sample_rate=SR)
    with pytest.raises(AudioInputError, match="exactly one"):
        match_loudness(_sine(440), sample_rate=SR, reference=_sine(440), target_lufs=-14.0)


# ------------------------------------------------------------------------------ the option
@pytest.mark.parametrize(("value", "expected"), [
    ("match", "match"), ("keep", "keep"), (" Match ", "match"), ("-14", -14.0), ("-23.5", -23.5),
    (-70, -70.0), ("0", 0.0),
])
def test_parse_loudness(value, expected):
    assert parse_loudness(value) == expected


@pytest.mark.parametrize("value", ["loud", "3", "-71", "nan", "", None])
def test_parse_loudness_refuses_with_the_choices(value):
    with pytest.raises(AuditoryDeepDreamError, match="'match', 'keep' or a target in LUFS"):
        parse_loudness(value)


def test_true_peak_of_sparse_peaks_equals_the_full_oversampled_measure():
    """The fast path (oversampling only next to the loud samples) agrees with oversampling everything."""
    from auditory_deepdream.audio.peaks import _channels, _peak_envelope

    rng = np.random.default_rng(7)
    for k in range(60):
        n = int(rng.integers(50, 4000))
        y = (0.05 * rng.standard_normal((1 + k % 2, n))).astype(np.float32)
        y[:, rng.integers(0, n, 4)] = rng.uniform(-1, 1, (y.shape[0], 4))  # a few peaks, some at the ends
        y[:, 0] = 0.9 if k % 4 == 0 else y[:, 0]
        full = 20 * np.log10(np.max(_peak_envelope(_channels(y), 4)))
        assert true_peak_db(y) == pytest.approx(full, abs=1e-9)


@pytest.mark.parametrize("rate", [44_100, 48_000, 11_025])
def test_the_meter_fed_in_chunks_equals_the_whole_measurement(rate):
    from auditory_deepdream.audio.loudness import LoudnessMeter

    rng = np.random.default_rng(rate)
    n = 6 * rate + 321
    y = (rng.standard_normal((3, n)) * np.linspace(0.002, 0.3, n)).astype(np.float32)  # quiet blocks are gated
    meter, start = LoudnessMeter(sample_rate=rate, channels=3), 0
    for size in rng.integers(1, rate, 200):
        meter.add(y[:, start:start + size])
        start += size
        if start >= n:
            break
    if start < n:
        meter.add(y[:, start:])
    assert meter.integrated() == pytest.approx(integrated_loudness(y, sample_rate=rate), abs=1e-9)


def test_the_meter_refuses_other_channel_counts_and_reads_silence_as_minus_infinity():
    from auditory_deepdream.audio.loudness import LoudnessMeter

    meter = LoudnessMeter(sample_rate=SR, channels=2)
    with pytest.raises(AudioInputError, match="2 channels"):
        meter.add(np.zeros((3, SR), np.float32))
    meter.add(np.zeros((2, SR), np.float32))
    assert meter.integrated() == float("-inf")
