"""Consistent mel dreams: ascent on a mel-band gain through the sonification, and ``strength``."""

import numpy as np
import pytest

from auditory_deepdream import audio
from auditory_deepdream.audio import example_clip, load_audio
from auditory_deepdream.dreamer import (
    Jitter,
    ascend_gain,
    audition_objective,
    control_for,
    layer_objective,
    spectral_change,
)
from auditory_deepdream.audio.loudness import match_rms
from auditory_deepdream.dreamer.sonification import sonify
from auditory_deepdream.errors import DreamError

OBJECTIVE = layer_objective("stage2_conv1")


@pytest.fixture(scope="module")
def flute_short(settings):
    """Half a second of the bundled flute: a second clip, unlike the cello."""
    return load_audio(example_clip("flute_A4"), settings=settings)[:11025]


def test_zero_steps_give_zero_gain_and_hear_the_input(dreamer, short, settings):
    gain, heard, history = ascend_gain(dreamer, short, OBJECTIVE, steps=0)
    frames = 1 + len(short) // settings.hop_length
    assert gain.shape == heard.shape == (1, settings.n_mels, frames)
    assert not gain.any()
    assert history.shape == (0, 1)
    np.testing.assert_allclose(heard, audio.encode(short[None], settings=settings), atol=1e-3)


@pytest.mark.parametrize("max_gain_db", [24.0, 6.0])
def test_steps_raise_the_objective_of_what_is_heard(dreamer, short, settings, max_gain_db):
    gain, heard, history = ascend_gain(dreamer, short, OBJECTIVE, steps=5, step_size=1.0, max_gain_db=max_gain_db)
    before = dreamer.evaluate(audio.encode(short[None], settings=settings), OBJECTIVE)
    assert history.shape == (5, 1)
    assert np.mean(np.diff(history[:, 0])) > 0 and history[-1, 0] > history[0, 0]
    np.testing.assert_allclose(history[0], before, rtol=1e-4)  # the first value is the input's
    # the climbed spectrogram is the sound's: sonify the gain, match the level, encode again
    sound = match_rms(sonify(short[None], gain, settings=settings, max_gain_db=max_gain_db), short[None])
    encoded = audio.encode(sound, settings=settings)
    np.testing.assert_allclose(heard, encoded, atol=1e-2)
    np.testing.assert_allclose(dreamer.evaluate(heard, OBJECTIVE), dreamer.evaluate(encoded, OBJECTIVE), rtol=1e-4)
    assert dreamer.evaluate(encoded, OBJECTIVE)[0] > history[-1, 0] > before[0]


def test_strength_lands_on_the_asked_change_for_every_item(dreamer, short, flute_short, settings):
    clips = np.stack([short, flute_short])
    gain, heard, history = ascend_gain(dreamer, clips, OBJECTIVE, strength=3.0, max_steps=40)
    change = spectral_change(audio.encode(clips, settings=settings), heard)
    assert change.shape == (2,)
    np.testing.assert_allclose(change, [3.0, 3.0], atol=0.1)
    assert history.shape[1] == 2 and 1 <= history.shape[0] < 40  # it stopped once both got there
    assert not np.allclose(gain[0], gain[1], atol=0.1)  # two clips, two dreams
    # the landing is a scale-back: a larger strength needs a larger gain
    more, _, _ = ascend_gain(dreamer, clips, OBJECTIVE, strength=5.0, max_steps=40)
    assert np.all(np.abs(more).mean(axis=(1, 2)) > np.abs(gain).mean(axis=(1, 2)))


def test_a_single_clip_is_copied_to_a_batched_objective(dreamer, short):
    batched = audition_objective("stage1_conv1", [0, 5])
    gain, heard, history = ascend_gain(dreamer, short, batched, steps=2)
    assert gain.shape[0] == heard.shape[0] == 2 and history.shape == (2, 2)
    assert not np.allclose(gain[0], gain[1])


def test_gain_is_clamped_to_max_gain_db(dreamer, short):
    gain, _, _ = ascend_gain(dreamer, short, OBJECTIVE, steps=3, step_size=5.0, max_gain_db=2.0)
    assert np.max(np.abs(gain)) <= 2.0 + 1e-6
    assert np.max(np.abs(gain)) == pytest.approx(2.0, abs=1e-4)  # the clamp did bite


def test_deterministic_for_a_seed_and_different_for_another_with_jitter(dreamer, short):
    kwargs = {"steps": 3, "transforms": (Jitter(3),)}
    first, heard, _ = ascend_gain(dreamer, short, OBJECTIVE, seed=1, **kwargs)
    again, heard_again, _ = ascend_gain(dreamer, short, OBJECTIVE, seed=1, **kwargs)
    other, _, _ = ascend_gain(dreamer, short, OBJECTIVE, seed=2, **kwargs)
    np.testing.assert_array_equal(first, again)
    np.testing.assert_array_equal(heard, heard_again)
    assert np.max(np.abs(first - other)) > 0.1


@pytest.mark.parametrize("kwargs, match", [({"steps": -1}, "steps"), ({"strength": -3.0}, "strength"),
                                           ({"strength": 0.0}, "strength"), ({"max_steps": 0}, "max_steps")])
def test_bad_steps_or_strength_raise_dream_error(dreamer, short, kwargs, match):
    with pytest.raises(DreamError, match=match):
        ascend_gain(dreamer, short, OBJECTIVE, **kwargs)


# ------------------------------------------------------------------------ contrast
def test_contrast_climbs_the_objective_less_its_expected_controls(dreamer, short, settings):
    before = dreamer.evaluate(audio.encode(short[None], settings=settings), OBJECTIVE)
    # no gain, no change: the control is the input, so the first value is (1 - contrast) times the input's
    _, _, history = ascend_gain(dreamer, short, OBJECTIVE, steps=1, contrast=0.25)
    np.testing.assert_allclose(history[0], 0.75 * before, rtol=1e-3)
    plain, _, _ = ascend_gain(dreamer, short, OBJECTIVE, steps=3)
    np.testing.assert_array_equal(ascend_gain(dreamer, short, OBJECTIVE, steps=3, contrast=0.0)[0], plain)
    assert np.max(np.abs(ascend_gain(dreamer, short, OBJECTIVE, steps=3, contrast=1.0)[0] - plain)) > 0.1


def test_contrast_widens_the_margin_over_the_phase_control(dreamer, cello, settings):
    y = cello[:22050]

    def margin(gain):  # the dreaming model's objective on the dream less on its phase controls
        sound = match_rms(sonify(y[None], gain, settings=settings, max_gain_db=24.0), y[None])[0]
        controls = np.stack([control_for(y, sound, sample_rate=settings.sample_rate, seed=k) for k in range(3)])
        dream = dreamer.evaluate(audio.encode(sound[None], settings=settings), OBJECTIVE)[0]
        return dream - np.mean(dreamer.evaluate(audio.encode(controls.astype(np.float32), settings=settings),
                                                OBJECTIVE))

    plain = margin(ascend_gain(dreamer, y, OBJECTIVE, steps=8, step_size=1.0)[0])
    contrasted = margin(ascend_gain(dreamer, y, OBJECTIVE, steps=8, step_size=1.0, contrast=1.0)[0])
    assert contrasted > 2 * plain > 0


# -------------------------------------------------------------------- max_boost_db
def test_max_boost_bounds_the_gain_and_zero_makes_a_dream_that_only_cuts(dreamer, short):
    free, _, _ = ascend_gain(dreamer, short, OBJECTIVE, steps=4, step_size=2.0)
    assert free.max() > 1.0  # unbounded, the ascent boosts some bands
    capped, _, _ = ascend_gain(dreamer, short, OBJECTIVE, steps=4, step_size=2.0, max_boost_db=1.0)
    assert capped.max() <= 1.0 + 1e-6 and capped.min() < -1.0
    cut, _, history = ascend_gain(dreamer, short, OBJECTIVE, steps=4, step_size=2.0, max_boost_db=0.0)
    assert cut.max() <= 0.0 and cut.min() < -1.0
    assert history[-1, 0] > history[0, 0]  # and still climbs


def test_hold_floor_keeps_the_quietest_cells_from_coming_up_when_the_level_is_held(dreamer, short):
    from auditory_deepdream import audio

    mel0 = audio.encode(short, settings=dreamer.settings)
    quiet = mel0 <= np.quantile(mel0, 0.3)
    _, lifted, _ = ascend_gain(dreamer, short, OBJECTIVE, steps=6, step_size=2.0, max_boost_db=0.0)
    gain, held, history = ascend_gain(dreamer, short, OBJECTIVE, steps=6, step_size=2.0, max_boost_db=0.0,
                                      hold_floor=0.3)
    rise, rise_held = ((m[0][quiet] - mel0[quiet]).mean() for m in (lifted, held))
    assert rise > 1.0  # a cut-only dream at the clip's level raises what it did not cut
    # their neighbours' gains still reach them through the shared STFT bins: held to a third, not to 0
    assert rise_held < rise / 3
    power = 10 ** (mel0 / 10)
    makeup = 10 * np.log10(power.sum() / (power * 10 ** (gain[0] / 10)).sum())
    assert gain[0][quiet].max() <= -makeup + 0.5  # about what the level hold gives back, within a step
    assert history[-1, 0] > history[0, 0]  # and it still climbs


# ----------------------------------------------------------------- spectral_change
def test_spectral_change_ignores_bins_silent_in_both():
    before = np.array([[[0.0, 0.0], [-100.0, -100.0]]], np.float32)  # floor: 0 - 80 = -80 dB
    quiet_change = np.array([[[0.0, 0.0], [-90.0, -100.0]]], np.float32)  # still under the floor
    assert spectral_change(before, quiet_change)[0] == 0.0
    loud_change = np.array([[[6.0, 0.0], [-100.0, -100.0]]], np.float32)
    assert spectral_change(before, loud_change)[0] == pytest.approx(3.0)  # 6 dB over two heard bins
    # a bin that rises above the floor counts, from the floor: |-50 - (-80)| over three heard bins
    rises = np.array([[[0.0, 0.0], [-50.0, -100.0]]], np.float32)
    assert spectral_change(before, rises)[0] == pytest.approx(10.0)
    # and the other way round: a heard bin that falls under the floor counts down to the floor only
    assert spectral_change(rises, before, floor_db=80.0)[0] == pytest.approx(10.0)
    # a lower floor makes the quiet bins heard
    assert spectral_change(before, quiet_change, floor_db=120.0)[0] == pytest.approx(10.0 / 4)


def test_spectral_change_is_the_mean_abs_difference_when_everything_is_loud():
    rng = np.random.default_rng(0)
    before = rng.uniform(-30.0, 0.0, size=(2, 8, 5)).astype(np.float32)
    after = before + rng.normal(0.0, 4.0, size=before.shape).astype(np.float32)
    np.testing.assert_allclose(spectral_change(before, after), np.mean(np.abs(after - before), axis=(1, 2)),
                               rtol=1e-5)
    assert spectral_change(before, before).tolist() == [0.0, 0.0]
