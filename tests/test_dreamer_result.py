"""Dream results: the survival measure, the measures a dream carries, and loudness."""

import numpy as np
import pytest

from auditory_deepdream.dreamer import dream, layer_objective, noise_lift, spectral_change, survival


def test_survival_is_the_share_of_the_gain_that_is_heard():
    before, dreamed, after = np.array([1.0, 2.0, 5.0]), np.array([3.0, 2.0, 4.0]), np.array([2.0, 9.0, 4.5])
    result = survival(before, dreamed, after)
    np.testing.assert_allclose(result[[0, 2]], [0.5, 0.5])
    assert np.isnan(result[1]) and result.dtype == np.float32  # no gain: nothing to survive


def test_dream_result_measures_and_loudness(dreamer, cello, settings):
    loud = cello / np.max(np.abs(cello)) * 0.99
    result = dream(loud, model=dreamer, objective=layer_objective("stage2_conv1"), steps=8, step_size=3.0)
    assert result.audio.shape == loud.shape
    assert np.max(np.abs(result.audio)) < 1.0
    assert abs(result.loudness_out_db[0] - result.loudness_in_db[0]) < 1.5
    assert result.objective_dreamed[0] > result.objective_before[0]
    np.testing.assert_allclose(result.survival, survival(result.objective_before, result.objective_dreamed,
                                                         result.objective_after))
    assert np.isfinite(result.survival[0]) and result.spectral_change_db[0] > 0
    assert result.survival_sonified[0] > 0.3  # the original-phase path keeps most of the gain
    np.testing.assert_allclose(result.objective_after, dreamer.evaluate(result.mel_after, result.objective))
    np.testing.assert_allclose(result.spectral_change_db, spectral_change(result.mel_before, result.mel_after))
    loud = result.mel_before > result.mel_before.max() - 80  # where both are audible it is the plain mean change
    assert result.spectral_change_db[0] <= np.abs(result.mel_after - result.mel_before)[loud].max()
    summary = result.summary()
    assert summary["domain"] == "mel" and summary["sonify"] == "original" and summary["seed"] == 0
    assert summary["survival"] == pytest.approx(float(result.survival[0]))
    assert summary["loudness_out_db"] == pytest.approx(float(result.loudness_out_db[0]))
    assert summary["noise_lift_db"] == pytest.approx(noise_lift(result.input_audio, result.audio,
                                                                sample_rate=result.sample_rate), abs=1e-4)


def test_unmeasured_dream_gives_the_same_sound_without_measures(dreamer, cello):
    objective = layer_objective("stage2_conv1")
    measured = dream(cello, model=dreamer, objective=objective, steps=3, seed=1)
    sound_only = dream(cello, model=dreamer, objective=objective, steps=3, seed=1, measure=False)
    np.testing.assert_array_equal(sound_only.audio, measured.audio)
    assert sound_only.mel_after is None and np.isnan(sound_only.survival).all()
    assert sound_only.summary()["survival"] is None and sound_only.summary()["noise_lift_db"] is None
    assert np.isfinite(measured.survival).all()
    np.testing.assert_array_equal(sound_only.loudness_out_db, measured.loudness_out_db)
