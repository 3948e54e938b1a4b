"""Fit-time log-mel augmentation: seeded, floor-respecting, each step doing what it says."""

import numpy as np
import pytest

from auditory_deepdream.audio import mel_centres
from auditory_deepdream.errors import ModelError
from auditory_deepdream.mel_augment import MelAugment, augment_mel
from auditory_deepdream.settings import AudioSettings

FLOOR = -100.0
BATCH, N_MELS, N_FRAMES = 6, 32, 24
QUIET = {"gain_db": (0.0, 0.0), "tilt_db": 0.0, "noise_prob": 0.0, "freq_masks": 0, "time_masks": 0}


@pytest.fixture(scope="module")
def x():
    """Log-mel-like dB values well above the floor, shape (batch, n_mels, n_frames, 1)."""
    rng = np.random.default_rng(0)
    return rng.uniform(-70.0, -10.0, (BATCH, N_MELS, N_FRAMES, 1)).astype(np.float32)


def run(x, config, seed=(1, 2)):
    return augment_mel(x, seed=np.array(seed, np.int64), config=config, db_floor=FLOOR).numpy()


def test_same_key_same_output_other_key_other_output(x):
    config = MelAugment()
    a, b, c = run(x, config, (3, 7)), run(x, config, (3, 7)), run(x, config, (3, 8))
    np.testing.assert_array_equal(a, b)
    assert not np.allclose(a, c)
    assert a.shape == x.shape and a.dtype == np.float32
    assert a.min() >= FLOOR
    assert not np.allclose(a, x)


def test_strength_zero_leaves_the_batch_alone(x):
    out = run(x, MelAugment(strength=0.0, noise_prob=1.0, freq_mask_fraction=0.5, time_mask_fraction=0.5))
    np.testing.assert_allclose(out, x, atol=1e-4)


def test_frequency_masks_floor_whole_bands_within_the_bound(x):
    config = MelAugment(**{**QUIET, "freq_masks": 2, "freq_mask_fraction": 1 / 4})
    most = config.freq_masks * round(N_MELS / 4)
    floored = []
    for seed in range(5):
        out = run(x, config, (seed, 0))[..., 0]
        at_floor = out == FLOOR
        rows = at_floor.all(axis=2)  # (batch, n_mels): whole bands
        assert (at_floor.any(axis=2) == rows).all()  # a band is masked over every frame or not at all
        np.testing.assert_allclose(out[~at_floor], x[..., 0][~at_floor], atol=1e-4)  # the rest untouched
        floored.extend(rows.sum(axis=1))
    assert max(floored) <= most
    assert max(floored) > 0


def test_time_masks_floor_whole_frames_within_the_bound(x):
    config = MelAugment(**{**QUIET, "time_masks": 1, "time_mask_fraction": 1 / 6})
    out = run(x, config)[..., 0]
    at_floor = out == FLOOR
    frames = at_floor.all(axis=1)
    assert (at_floor.any(axis=1) == frames).all()
    assert frames.sum(axis=1).max() <= round(N_FRAMES / 6)


def test_noise_lifts_quiet_bins_to_peak_minus_snr_and_spares_the_loud_ones():
    x = np.full((BATCH, N_MELS, N_FRAMES, 1), FLOOR, np.float32)
    x[:, 10:12, 5:15] = 0.0  # the loudest bins, 100 dB above everything else
    config = MelAugment(**{**QUIET, "noise_prob": 1.0, "snr_db": (40.0, 40.0)})
    out = run(x, config)
    quiet = x == FLOOR
    assert (out[quiet] > FLOOR + 20).mean() > 0.99
    # noise bins are peak - snr plus 10 log10 of an exponential variable (median ln 2)
    assert np.median(out[quiet]) == pytest.approx(-40.0 + 10 * np.log10(np.log(2)), abs=1.0)
    np.testing.assert_allclose(out[~quiet], 0.0, atol=0.5)
    off = run(x, MelAugment(**{**QUIET, "noise_prob": 0.0}))
    np.testing.assert_allclose(off, x, atol=1e-4)


def test_tilt_is_a_ramp_across_bands_constant_over_time(x):
    config = MelAugment(**{**QUIET, "tilt_db": 12.0})
    diff = (run(x, config) - x)[..., 0]  # (batch, n_mels, n_frames)
    np.testing.assert_allclose(diff, diff[:, :, :1].repeat(N_FRAMES, axis=2), atol=1e-4)
    per_band = diff[:, :, 0]
    np.testing.assert_allclose(np.diff(per_band, n=2, axis=1), 0.0, atol=1e-3)  # linear in the band
    span = per_band[:, -1] - per_band[:, 0]  # the drawn tilt, end to end
    assert np.abs(span).max() <= 12.0 + 1e-3
    np.testing.assert_allclose(per_band.mean(axis=1), 0.0, atol=1e-3)  # centred: -t/2 .. +t/2
    assert np.ptp(span) > 1.0  # every sample draws its own tilt


def test_warp_scales_every_frequency_by_one_drawn_ratio_per_sample():
    hz = mel_centres(AudioSettings(n_mels=128))
    log_bands = hz > 1200.0  # above 1 kHz the mel scale is logarithmic, so the warp is exact there
    # a level that falls 10 dB per octave: a warp up by u semitones lifts every band by 10 u / 12 dB
    ramp = np.where(hz > 1000.0, -20.0 - 10.0 * np.log2(np.maximum(hz, 1.0) / 1000.0), -20.0).astype(np.float32)
    x = np.repeat(ramp[np.newaxis, :, np.newaxis, np.newaxis], 16, axis=0).repeat(4, axis=2)
    x[:, :, 3:] = FLOOR  # padding
    out = augment_mel(x, seed=np.array([5, 9], np.int64), config=MelAugment(**QUIET, warp_semitones=3.0),
                      db_floor=FLOOR, band_hz=hz).numpy()
    inner = log_bands & (hz < hz[-1] / 2 ** 0.25)  # bands whose source lies inside the bank
    shift = (out[..., 0][:, inner, :3] - x[..., 0][:, inner, :3]) * 12.0 / 10.0  # semitones, per sample and band
    u = shift.mean(axis=(1, 2))
    np.testing.assert_allclose(shift, u[:, np.newaxis, np.newaxis] * np.ones_like(shift), atol=0.02)
    assert np.all(np.abs(u) <= 3.0) and u.max() - u.min() > 2.0  # drawn per sample, within the range
    np.testing.assert_array_equal(out[:, :, 3:], FLOOR)  # padding stays padding
    # a peak at one band moves to the band nearest its frequency times 2 ** (u / 12)
    peak = np.full((16, 128, 1, 1), FLOOR, np.float32)
    k = int(np.argmin(np.abs(hz - 3000.0)))
    peak[:, k] = 0.0
    moved = augment_mel(peak, seed=np.array([5, 9], np.int64), config=MelAugment(**QUIET, warp_semitones=3.0),
                        db_floor=FLOOR, band_hz=hz).numpy()[:, :, 0, 0].argmax(axis=1)
    expected = np.abs(hz[np.newaxis, :] - hz[k] * 2 ** (u[:, np.newaxis] / 12)).argmin(axis=1)
    assert np.all(np.abs(moved - expected) <= 1)


def test_a_warp_without_the_band_frequencies_is_refused(x):
    with pytest.raises(ModelError, match="centre frequencies"):
        run(x, MelAugment(warp_semitones=1.0))


def test_padding_stays_at_the_floor_under_gain(x):
    padded = x.copy()
    padded[:, :, N_FRAMES // 2:] = FLOOR
    out = run(padded, MelAugment(**{**QUIET, "gain_db": (6.0, 6.0)}))
    np.testing.assert_array_equal(out[:, :, N_FRAMES // 2:], FLOOR)
    np.testing.assert_allclose(out[:, :, :N_FRAMES // 2], padded[:, :, :N_FRAMES // 2] + 6.0, atol=1e-4)
    down = run(padded, MelAugment(**{**QUIET, "gain_db": (-80.0, -80.0)}))
    assert down.min() >= FLOOR  # a cut never goes below the floor


@pytest.mark.parametrize("bad", [{"strength": -0.1}, {"strength": 3.5}, {"gain_db": (3.0, -3.0)},
                                 {"snr_db": (40.0, 20.0)}, {"snr_db": (0.0, 20.0)}, {"noise_prob": 1.5},
                                 {"tilt_db": -1.0}, {"freq_masks": -1}, {"time_masks": -1},
                                 {"freq_mask_fraction": 1.5}, {"time_mask_fraction": -0.1},
                                 {"warp_semitones": -1.0}, {"warp_semitones": 13.0}])
def test_invalid_ranges_are_model_errors(bad):
    with pytest.raises(ModelError, match="MelAugment"):
        MelAugment(**bad)
