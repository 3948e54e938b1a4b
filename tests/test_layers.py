"""LogMelSpectrogram: the TF twin as a Keras layer, agreeing with librosa and serialisable."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from auditory_deepdream.audio import encode, example_clip, load_audio, segment, trim
from auditory_deepdream.layers import LogMelSpectrogram
from auditory_deepdream.settings import AudioSettings


@pytest.mark.parametrize("preset", ["default", "dissertation", "full_rate_48k"])
def test_twin_agrees_with_librosa_on_real_audio(preset):
    """The TF layer is the same transform as the librosa encoder: within 0.1 dB above the floor."""
    s = AudioSettings.preset(preset)
    clips = [load_audio(example_clip(n), settings=s) for n in ("cello_C3", "flute_A4", "piano_E4")]
    segs = np.concatenate([segment(trim(y, settings=s), settings=s) for y in clips])
    ref = encode(segs, settings=s)
    twin = LogMelSpectrogram(s, channel_axis=False)(segs).numpy()
    assert twin.shape == ref.shape
    above = ref > s.db_floor
    assert above.mean() > 0.5
    assert np.abs(twin - ref)[above].max() <= 0.1


def test_twin_is_differentiable_and_takes_any_length(cello, settings):
    layer = LogMelSpectrogram(settings)
    y = tf.Variable(cello[None, :30_000])
    with tf.GradientTape() as tape:
        mel = layer(y)
        loss = tf.reduce_mean(mel)
    g = tape.gradient(loss, y)
    assert mel.shape == (1, settings.n_mels, 1 + 30_000 // settings.hop_length, 1)
    assert np.isfinite(g.numpy()).all() and np.abs(g.numpy()).max() > 0


def test_output_shape_is_known_in_a_functional_model(settings):
    fixed = LogMelSpectrogram(settings)(keras.Input((settings.segment_samples,)))
    free = LogMelSpectrogram(settings, channel_axis=False)(keras.Input((None,)))
    assert tuple(fixed.shape) == (None, settings.n_mels, settings.n_frames, 1)
    assert tuple(free.shape) == (None, settings.n_mels, None)


def test_twin_serialises(tmp_path, cello, settings):
    """Saved models find the layer by its registered name and config keys, and compute the same."""
    inp = keras.Input((settings.segment_samples,))
    model = keras.Model(inp, LogMelSpectrogram(settings.replace(n_mels=64))(inp))
    model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    layer = back.layers[-1]
    assert keras.saving.get_registered_name(LogMelSpectrogram) == "auditory_deepdream>LogMelSpectrogram"
    assert {"settings", "channel_axis"} <= set(layer.get_config())
    assert layer.settings == settings.replace(n_mels=64)
    x = cello[None, : settings.segment_samples]
    np.testing.assert_array_equal(back(x).numpy(), model(x).numpy())
