"""Dream quality: measures of the sound that no dreaming path passes by construction."""

import librosa
import numpy as np
import pytest

from auditory_deepdream.dataset.pieces import break_beat
from auditory_deepdream.dreamer import (
    JUDGES,
    DreamQuality,
    class_log_probability,
    concentration_increase,
    control_for,
    energy_concentration,
    judge_log_probabilities,
    load_judges,
    log_spectral_distance,
    max_jump_ratio,
    measure_dream,
    noise_lift,
    other_class_margins,
    phase_randomised,
    pitch_shift_cents,
    transfer_margins,
    transfer_table,
    transient_collapse,
)
from auditory_deepdream.errors import AudioInputError, DreamError, ModelError

SR = 22_050


@pytest.fixture(scope="module")
def judges():
    """The four benchmark models, loaded once for the module."""
    return load_judges()


@pytest.fixture(scope="module")
def drums():
    """Four seconds of a real drum break: transient by nature."""
    return break_beat(seconds=4)


@pytest.fixture(scope="module")
def noise():
    return 0.1 * np.random.default_rng(0).standard_normal(3 * SR)


def clicks_over_noise(n, *, seed=0):
    """What a collapsed dream sounds like: two 5 ms bursts over a -40 dB remainder."""
    rng = np.random.default_rng(seed)
    y = 0.01 * rng.standard_normal(n)
    for at in (n // 3, 2 * n // 3):
        y[at:at + 110] += 0.5 * rng.standard_normal(110)
    return y


def mel_magnitude(y):
    return librosa.filters.mel(sr=SR, n_fft=2048, n_mels=64) @ np.abs(librosa.stft(y, n_fft=2048, hop_length=512))


# ------------------------------------------------------------------ log-spectral distance
def test_log_spectral_distance_is_zero_for_itself_and_the_log_power_ratio_for_a_gain(noise, cello):
    assert log_spectral_distance(noise, noise, sample_rate=SR) == 0.0
    assert log_spectral_distance(cello, cello, sample_rate=SR) == 0.0
    louder = noise * 10 ** (6 / 20)
    assert log_spectral_distance(noise, louder, sample_rate=SR) == pytest.approx(np.log(10 ** 0.6), abs=0.01)


def test_log_spectral_distance_mixes_channels_and_trims_to_the_shorter(noise):
    louder = noise * 2.0
    mono = log_spectral_distance(noise, louder, sample_rate=SR)
    assert log_spectral_distance(np.stack([noise, noise]), louder[: len(noise) - 1000], sample_rate=SR) == \
        pytest.approx(mono, abs=0.01)
    with pytest.raises(AudioInputError, match="silent"):
        log_spectral_distance(np.zeros(SR), noise, sample_rate=SR)


# ---------------------------------------------------------------------------- noise lift
def notes_over_hiss(*, tone=1.0, hiss=1.0, sr=44_100, seconds=3.0):
    """A 440 Hz note every 0.6 s (0.3 s on) over hiss 60 dB down: gaps for the measure to watch."""
    t = np.arange(int(seconds * sr)) / sr
    gate = (t % 0.6) < 0.3
    hiss_part = 1e-3 * np.random.default_rng(1).standard_normal(t.size)
    return tone * 0.3 * np.sin(2 * np.pi * 440 * t) * gate + hiss * hiss_part


def test_noise_lift_is_zero_for_itself_and_for_a_louder_copy_at_matched_loudness():
    y = notes_over_hiss()
    assert noise_lift(y, y, sample_rate=44_100) == pytest.approx(0.0, abs=1e-9)
    assert noise_lift(y, 2 * y, sample_rate=44_100) == pytest.approx(0.0, abs=0.05)
    assert noise_lift(y, 2 * y, sample_rate=44_100, match=False) == pytest.approx(6.02, abs=0.05)
    stereo = np.stack([y, 0.5 * y])
    assert noise_lift(stereo, stereo, sample_rate=44_100) == pytest.approx(0.0, abs=1e-9)


def test_noise_lift_sees_a_cut_only_dream_raise_the_gaps_and_a_boost_lower_them():
    y = notes_over_hiss()
    cut = notes_over_hiss(tone=0.5)  # the notes cut by 6 dB, the hiss untouched
    boost = notes_over_hiss(tone=2.0)
    # brought back to y's loudness, the cut dream's hiss comes up by about the 6 dB the notes lost
    assert noise_lift(y, cut, sample_rate=44_100) == pytest.approx(6.0, abs=0.5)
    assert -6.5 < noise_lift(y, boost, sample_rate=44_100) < -4.0  # some of the quiet cells are the notes' skirts
    assert noise_lift(y, notes_over_hiss(hiss=2.0), sample_rate=44_100) == pytest.approx(6.0, abs=0.5)
    # above 8 kHz does not count: hiss lifted only there leaves the measure near 0
    spectrum = np.fft.rfft(np.random.default_rng(2).standard_normal(y.size))
    spectrum[np.fft.rfftfreq(y.size, 1 / 44_100) < 9000] = 0
    high = 1e-2 * np.fft.irfft(spectrum, n=y.size)
    assert noise_lift(y, y + high, sample_rate=44_100, match=False) < 0.5
    assert noise_lift(y, y + high, sample_rate=44_100, match=False, max_hz=22_050) > 6.0


def test_noise_lift_refuses_silence_and_a_bad_quantile():
    y = notes_over_hiss()
    with pytest.raises(AudioInputError, match="silent"):
        noise_lift(np.zeros(44_100), y[:44_100], sample_rate=44_100)
    with pytest.raises(AudioInputError, match="quantile"):
        noise_lift(y, y, sample_rate=44_100, quantile=0)


# -------------------------------------------------------------------------------- clicks
def test_max_jump_ratio_finds_a_click_and_not_a_gain(cello):
    clicked = cello.copy()
    clicked[5000] += 0.3
    assert max_jump_ratio(cello, clicked) > 2
    assert max_jump_ratio(cello, 0.9 * cello) == pytest.approx(0.9, rel=1e-5)
    assert max_jump_ratio(np.stack([cello, cello]), np.stack([cello, clicked])) > 2  # any channel counts
    with pytest.raises(AudioInputError):
        max_jump_ratio(np.ones(100), cello)


# ------------------------------------------------------------------ energy concentration
def test_energy_concentration_separates_clicks_from_a_sustained_note(cello):
    sustained = energy_concentration(cello, sample_rate=SR)
    clicks = energy_concentration(clicks_over_noise(len(cello)), sample_rate=SR)
    assert 0.02 <= sustained < 0.1  # little more than the 2 % of frames counted
    assert clicks > 0.8
    with pytest.raises(AudioInputError, match="silent"):
        energy_concentration(np.zeros(SR), sample_rate=SR)


def test_collapse_rule_passes_a_drum_break_and_flags_clicks(cello, drums):
    assert energy_concentration(drums, sample_rate=SR) > 0.15  # the break is transient itself...
    for unchanged in (drums, 0.5 * drums, drums + 1e-3 * np.random.default_rng(1).standard_normal(len(drums))):
        assert not transient_collapse(drums, unchanged, sample_rate=SR)  # ...and passes unchanged
    assert not transient_collapse(cello, cello, sample_rate=SR)
    assert transient_collapse(cello, clicks_over_noise(len(cello)), sample_rate=SR)
    assert transient_collapse(drums, clicks_over_noise(len(drums)), sample_rate=SR)
    assert concentration_increase(drums, drums, sample_rate=SR) == 0.0
    assert concentration_increase(cello, clicks_over_noise(len(cello)), sample_rate=SR) > 0.8


# --------------------------------------------------------------------------------- pitch
def test_pitch_shift_of_a_semitone_is_a_hundred_cents(cello):
    up = librosa.effects.pitch_shift(cello, sr=SR, n_steps=1)
    assert pitch_shift_cents(cello, up, sample_rate=SR) == pytest.approx(100.0, abs=20.0)
    assert np.isnan(pitch_shift_cents(np.zeros(SR), np.zeros(SR), sample_rate=SR))  # nothing voiced


# ---------------------------------------------------------------------- the control
def test_phase_randomised_keeps_the_magnitude_and_loses_the_waveform(cello):
    control = phase_randomised(cello, sample_rate=SR, seed=0)
    assert control.shape == cello.shape
    before, after = mel_magnitude(cello), mel_magnitude(control)
    assert np.corrcoef(before.ravel(), after.ravel())[0, 1] > 0.9
    energy = [np.sum(np.abs(librosa.stft(y, n_fft=2048, hop_length=512)) ** 2) for y in (cello, control)]
    assert energy[1] == pytest.approx(energy[0], rel=0.01)  # none lost to the overlap-add of random phases
    assert abs(np.corrcoef(cello, control)[0, 1]) < 0.2
    np.testing.assert_array_equal(phase_randomised(cello, sample_rate=SR, seed=0), control)
    assert not np.allclose(phase_randomised(cello, sample_rate=SR, seed=1), control)


def test_phase_randomised_shares_the_phase_across_channels(cello):
    mono = phase_randomised(cello, sample_rate=SR, seed=3)
    stereo = phase_randomised(np.stack([cello, 0.5 * cello]), sample_rate=SR, seed=3)
    assert stereo.shape == (2, len(cello))
    np.testing.assert_allclose(stereo[0], mono, atol=1e-6)
    np.testing.assert_allclose(stereo[1], 0.5 * mono, atol=1e-6)


def test_control_for_adds_the_randomised_change_to_the_input(cello):
    np.testing.assert_array_equal(control_for(cello, cello, sample_rate=SR), cello)  # no change, no control
    dreamed = 1.5 * cello
    expected = cello + phase_randomised(dreamed - cello, sample_rate=SR, seed=2)
    np.testing.assert_allclose(control_for(cello, dreamed, sample_rate=SR, seed=2), expected)
    with pytest.raises(AudioInputError, match="shape"):
        control_for(cello, cello[:-1], sample_rate=SR)


# -------------------------------------------------------------------------------- judges
def test_judges_hear_a_string_in_the_cello_rather_than_a_flute(judges, cello):
    assert set(judges) == set(JUDGES)
    string = {n: class_log_probability(cello, sample_rate=SR, model=j, target="string") for n, j in judges.items()}
    flute = {n: class_log_probability(cello, sample_rate=SR, model=j, target="flute") for n, j in judges.items()}
    assert all(np.log(1e-7) <= v <= 0 for v in [*string.values(), *flute.values()])
    assert sum(string[n] > flute[n] for n in judges) >= 3  # vgg_like calls the cello a flute


def test_class_log_probability_resamples_mixes_and_checks_the_target(judges, cello):
    judge = judges["timbre"]
    at_44k = librosa.resample(cello, orig_sr=SR, target_sr=44_100)
    back = librosa.resample(at_44k.astype(np.float64), orig_sr=44_100, target_sr=SR, res_type="soxr_hq")
    assert class_log_probability(at_44k, sample_rate=44_100, model=judge, target="string") == pytest.approx(
        class_log_probability(back, sample_rate=SR, model=judge, target="string"), abs=1e-6)
    assert class_log_probability(np.stack([cello, cello]), sample_rate=SR, model=judge, target="string") == \
        pytest.approx(class_log_probability(cello, sample_rate=SR, model=judge, target="string"), abs=1e-6)
    with pytest.raises(ModelError, match="no class 'kazoo'"):
        class_log_probability(cello, sample_rate=SR, model=judge, target="kazoo")


def test_transfer_margins_of_an_unchanged_input_are_exactly_zero(judges, cello):
    margins = transfer_margins(cello, cello, cello, sample_rate=SR, target="string", judges=judges)
    assert margins == {name: 0.0 for name in JUDGES}


def test_transfer_table_is_dream_gain_minus_control_gain(judges, cello):
    two = {name: judges[name] for name in ("timbre", "freq_preserving")}
    dreamed = 1.5 * cello
    table = transfer_table(cello, dreamed, control_for(cello, dreamed, sample_rate=SR), sample_rate=SR,
                           target="string", judges=two)
    assert list(table.index) == list(two)
    np.testing.assert_allclose(table.margin, table.log_p_dream - table.log_p_control, atol=1e-9)
    np.testing.assert_allclose(table.dream_gain, table.log_p_dream - table.log_p_input)


def test_judge_log_probabilities_hold_every_class_and_agree_with_class_log_probability(judges, cello):
    two = {name: judges[name] for name in ("timbre", "vgg_like")}
    table = judge_log_probabilities(cello, sample_rate=SR, judges=two)
    assert list(table) == ["timbre", "vgg_like"]
    for name, judge in two.items():
        assert sorted(table[name]) == sorted(["bass", "brass", "flute", "guitar", "organ", "piano", "reed",
                                              "string", "synth_lead", "vocal"])
        # exp of a mean log-probability is at most the mean probability (Jensen): the sum is at most 1
        assert 0 < sum(np.exp(v) for v in table[name].values()) <= 1 + 1e-6
        for target in ("string", "flute"):
            assert table[name][target] == pytest.approx(
                class_log_probability(cello, sample_rate=SR, model=judge, target=target), abs=1e-9)


def _judged(values):
    """A dream table as judge_log_probabilities gives it: {judge: {class: log p}}."""
    return {j: dict(v) for j, v in values.items()}


def test_other_class_margins_subtract_the_mean_over_the_dreams_toward_other_classes():
    dreams = {
        "flute": _judged({"a": {"flute": -0.5, "reed": -3.0, "brass": -4.0},
                          "b": {"flute": -2.0, "reed": -2.0, "brass": -2.0}}),
        "reed": _judged({"a": {"flute": -4.5, "reed": -0.2, "brass": -5.0},
                         "b": {"flute": -2.0, "reed": -2.0, "brass": -2.0}}),
        "brass": _judged({"a": {"flute": -2.5, "reed": -6.0, "brass": -1.0},
                          "b": {"flute": -2.0, "reed": -2.0, "brass": -2.0}}),
    }
    margins = other_class_margins(dreams)
    assert margins["flute"]["a"] == pytest.approx(-0.5 - (-4.5 - 2.5) / 2)  # 3.0
    assert margins["reed"]["a"] == pytest.approx(-0.2 - (-3.0 - 6.0) / 2)  # 4.3
    assert margins["brass"]["a"] == pytest.approx(-1.0 - (-4.0 - 5.0) / 2)  # 3.5
    # a judge the dreams do not move at all: every margin is exactly zero
    assert all(margins[t]["b"] == 0.0 for t in dreams)


def test_other_class_margins_refuse_one_target_mismatched_judges_and_unknown_classes():
    one = {"flute": _judged({"a": {"flute": -1.0, "reed": -2.0}})}
    with pytest.raises(DreamError, match="at least two targets"):
        other_class_margins(one)
    with pytest.raises(DreamError, match="same judges"):
        other_class_margins(one | {"reed": _judged({"b": {"flute": -1.0, "reed": -2.0}})})
    with pytest.raises(DreamError, match="no class 'kazoo'"):
        other_class_margins(one | {"kazoo": _judged({"a": {"flute": -1.0, "reed": -2.0}})})


def test_other_class_margins_of_real_dreams_carry_the_class_to_the_judges(judges, cello):
    """A flute and a reed dream of the cello with the bundled model: the judges hear each class more in its own dream."""
    from auditory_deepdream.dreamer import Dreamer, class_objective, dream

    model = Dreamer.load("default")
    two = {name: judges[name] for name in ("conv_blocks", "freq_preserving")}
    tables = {}
    for target in ("flute", "reed"):
        result = dream(cello, model=model, objective=class_objective(target, classes=model.info.classes),
                       consistent=True, strength=10.0, step_size=3.0, jitter=3, band_shift=2, seed=0,
                       progress=False, measure=False)
        tables[target] = judge_log_probabilities(result.audio, sample_rate=SR, judges=two)
    margins = other_class_margins(tables)
    assert set(margins) == {"flute", "reed"} and all(set(m) == set(two) for m in margins.values())
    assert np.mean([m for t in margins.values() for m in t.values()]) > 2.0


def test_load_judges_says_where_they_should_be(tmp_path):
    with pytest.raises(ModelError, match="benchmarks/models"):
        load_judges(folder=tmp_path / "nowhere")
    with pytest.raises(ModelError):
        load_judges(("no_such_model",), folder=tmp_path)


# ------------------------------------------------------------------------- all together
def test_measure_dream_of_a_gain_change(cello):
    quality = measure_dream(cello, 0.5 * cello, sample_rate=SR, sustained=True)
    assert isinstance(quality, DreamQuality)
    assert quality.loudness_error_lu == pytest.approx(-6.02, abs=0.05)
    assert quality.max_jump_ratio == pytest.approx(0.5, rel=1e-5)
    assert quality.concentration_out == pytest.approx(quality.concentration_in)
    assert not quality.transient_collapse
    assert quality.pitch_shift_cents == pytest.approx(0.0, abs=5.0)
    assert quality.true_peak_dbtp == pytest.approx(20 * np.log10(0.5 * np.max(np.abs(cello))), abs=0.5)
    assert quality.log_spectral_distance > 0.5
    assert np.isnan(measure_dream(cello, cello, sample_rate=SR).pitch_shift_cents)  # not sustained: not measured
    assert set(quality.to_dict()) >= {"log_spectral_distance", "loudness_error_lu", "pitch_shift_cents"}
