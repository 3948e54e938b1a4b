"""dream() and its recipes: the sound paths, transparency at zero steps, determinism, options."""

import numpy as np
import pytest
from dreamer_fixtures import snr_db

from auditory_deepdream.dreamer import (
    SOUND_PATHS,
    ClassLogit,
    amplify_filter,
    audition_layer,
    class_objective,
    dream,
    dream_layer,
    filter_objective,
    layer_objective,
    layers_objective,
)
from auditory_deepdream.errors import (
    AudioInputError,
    AuditoryDeepDreamError,
    DreamError,
    ModelError,
)


@pytest.mark.parametrize("path", list(SOUND_PATHS))
def test_every_sound_path_dreams_and_says_which_it_took(dreamer, short, path):
    result = dream(short, model=dreamer, objective=layer_objective("stage2_conv1"), steps=2, n_iter=4,
                   **SOUND_PATHS[path])
    assert (result.domain, result.sonify) == (SOUND_PATHS[path]["domain"], SOUND_PATHS[path]["sonify"])
    assert result.audio.shape == short.shape and result.objective_dreamed[0] > result.objective_before[0]


def test_zero_steps_with_original_phase_give_back_the_input(dreamer, cello):
    result = amplify_filter(cello, model=dreamer, layer="stage1_conv1", index=2, steps=0)
    assert snr_db(result.audio, cello) >= 40


def test_recipes_are_dream_with_the_objective_built(dreamer, short):
    options = dict(model=dreamer, steps=2, seed=4, measure=False)
    np.testing.assert_array_equal(
        amplify_filter(short, layer="stage2_conv1", index=3, crop=1, **options).audio,
        dream(short, objective=filter_objective("stage2_conv1", 3, crop=1), **options).audio)
    np.testing.assert_array_equal(
        dream_layer(short, layers=["stage2_conv1", "stage3_conv1"], **options).audio,
        dream(short, objective=layers_objective({"stage2_conv1": 1.0, "stage3_conv1": 1.0}), **options).audio)
    every = audition_layer(short, layer="stage1_conv1", **options)
    assert every.audio.shape == (8, len(short)) and [str(o) for o in every.objective.items][:2] == [
        "stage1_conv1[0]", "stage1_conv1[1]"]


def test_dream_reads_a_path_at_the_models_rate(dreamer, short, settings, tmp_path):
    import soundfile as sf

    sf.write(tmp_path / "c.wav", short, settings.sample_rate, subtype="FLOAT")
    from_path = dream(tmp_path / "c.wav", model=dreamer, objective=layer_objective("stage1_conv1"), steps=1)
    from_array = dream(short, model=dreamer, objective=layer_objective("stage1_conv1"), steps=1)
    np.testing.assert_array_equal(from_path.audio, from_array.audio)


def test_griffin_lim_path_runs_batched_and_is_deterministic(dreamer, short):
    kwargs = dict(model=dreamer, layer="stage1_conv1", filters=[0, 1], steps=2, sonify="griffin-lim", n_iter=8)
    a = audition_layer(short, seed=3, **kwargs)
    b = audition_layer(short, seed=3, **kwargs)
    c = audition_layer(short, seed=4, **kwargs)
    assert a.audio.shape == (2, len(short))
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.allclose(a.audio, c.audio)
    assert np.max(np.abs(a.audio)) < 1.0


def test_deterministic_for_a_seed_with_jitter_and_octaves(dreamer, short):
    kwargs = dict(model=dreamer, objective=layer_objective("stage2_conv1"), steps=4, jitter=5, octaves=2)
    a = dream(short, seed=11, **kwargs)
    b = dream(short, seed=11, **kwargs)
    c = dream(short, seed=12, **kwargs)
    np.testing.assert_array_equal(a.audio, b.audio)
    assert not np.array_equal(a.mel_dreamed, c.mel_dreamed)
    assert a.history.shape == (8, 1)


def test_waveform_dream_keeps_its_gain_in_the_audio_unlike_griffin_lim(dreamer, notes):
    """Issue 7: the default waveform path keeps >= 90 % of its activation gain in the heard audio."""
    clips = np.stack(notes)
    objective = layer_objective("stage2_conv1")
    wave = dream(clips, model=dreamer, objective=objective, domain="waveform", steps=6)
    assert np.all(wave.objective_dreamed > wave.objective_before)
    assert np.all(wave.survival >= 0.9), wave.survival
    np.testing.assert_allclose(wave.loudness_out_db, wave.loudness_in_db, atol=0.1)
    assert np.all(wave.spectral_change_db > 0.1)
    griffin = dream(clips, model=dreamer, objective=objective, sonify="griffin-lim", steps=6, n_iter=16)
    assert np.nanmean(griffin.survival) < np.mean(wave.survival)


def test_unknown_layer_and_filter_out_of_range(dreamer, short):
    with pytest.raises(ModelError, match="Unknown layer 'nope'.*stage1_conv1"):
        amplify_filter(short, model=dreamer, layer="nope", index=0)
    with pytest.raises(ModelError, match="out of range.*8 filters"):
        amplify_filter(short, model=dreamer, layer="stage1_conv1", index=8)
    with pytest.raises(ModelError, match="Unknown layer"):
        audition_layer(short, model=dreamer, layer="nope")
    with pytest.raises(ModelError, match="out of range"):
        dream(short, model=dreamer, objective=ClassLogit(7))
    with pytest.raises(ModelError, match="Unknown class"):
        class_objective("banjo", classes=["brass"])


def test_bad_options(dreamer, short):
    objective = layer_objective("stage1_conv1")
    with pytest.raises(DreamError, match="Unknown sonification 'vocoder'"):
        dream(short, model=dreamer, objective=objective, sonify="vocoder")
    with pytest.raises(DreamError, match="Unknown domain 'phase'"):
        dream(short, model=dreamer, objective=objective, domain="phase")
    with pytest.raises(DreamError, match="mel-domain dreams only"):
        dream(short, model=dreamer, objective=objective, domain="waveform", sonify="griffin-lim")
    with pytest.raises(DreamError, match="octaves"):
        dream(short, model=dreamer, objective=objective, domain="waveform", octaves=2)
    with pytest.raises(AudioInputError, match="expected"):
        dream(np.zeros((1, 2, 100), np.float32), model=dreamer, objective=objective)
    with pytest.raises(AudioInputError, match="silent"):
        dream(np.zeros(5000, np.float32), model=dreamer, objective=objective)
    assert issubclass(DreamError, AuditoryDeepDreamError)
