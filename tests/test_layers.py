import numpy as np
import pytest
import tensorflow as tf

from auditory_deepdream.audio import encode, segment, trim
from auditory_deepdream.layers import LogMelSpectrogram
from auditory_deepdream.settings import AudioSettings


@pytest.mark.parametrize("preset", ["default", "dissertation", "full_rate_48k"])
def test_twin_agrees_with_librosa_on_real_audio(notes, preset):
    """The TF layer is the same transform as the librosa encoder: within 0.1 dB above the floor."""
    s = AudioSettings.preset(preset)
    from auditory_deepdream.audio import example_clip, load_audio
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


def test_twin_serialises(tmp_path, settings):
    import keras
    inp = keras.Input((settings.segment_samples,))
    model = keras.Model(inp, LogMelSpectrogram(settings.replace(n_mels=64))(inp))
    model.save(tmp_path / "m.keras")
    back = keras.models.load_model(tmp_path / "m.keras")
    assert back.layers[-1].settings == settings.replace(n_mels=64)
