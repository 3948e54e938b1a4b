"""The TensorFlow twin agrees with the librosa front end (ddsp's ``spectral_ops_test``).

STFT, inverse STFT and log-mel, on real audio, for a hop that divides ``n_fft`` (block
framing) and one that does not (``tf.signal.frame``).
"""

import dataclasses

import numpy as np
import pytest
import tensorflow as tf

from auditory_deepdream.audio import encode, istft, stft
from auditory_deepdream.audio.tf_spectral import TFSpectral, tf_spectral
from auditory_deepdream.settings import AudioSettings

HOPS = [None, 300]  # the preset's hop (divides n_fft), and one that does not


def _settings(settings, hop):
    return settings if hop is None else dataclasses.replace(settings, hop_length=hop)


@pytest.fixture(scope="module")
def clips(notes):
    """Three real notes, cut to one odd length (not a multiple of any hop)."""
    n = 20_001
    return np.stack([y[:n] for y in notes]).astype(np.float32)


@pytest.mark.parametrize("hop", HOPS)
def test_stft_matches_librosa(settings, clips, hop):
    s = _settings(settings, hop)
    ours = tf_spectral(s).stft(tf.constant(clips)).numpy()
    reference = np.swapaxes(stft(clips, settings=s), -1, -2)  # (batch, frames, bins)
    assert ours.shape == reference.shape == (3, 1 + clips.shape[1] // s.hop_length, 1 + s.n_fft // 2)
    np.testing.assert_allclose(ours, reference, atol=1e-4 * np.abs(reference).max())


@pytest.mark.parametrize("hop", HOPS)
def test_istft_matches_librosa(settings, clips, hop):
    """On a spectrum no signal has (the original with a gain): the inverse is librosa's."""
    s = _settings(settings, hop)
    spec = stft(clips, settings=s)
    gain = np.linspace(0.2, 3.0, spec.shape[-2], dtype=np.float32)[:, None]
    reference = istft(spec * gain, settings=s, length=clips.shape[1] - 7)
    ours = tf_spectral(s).istft(tf.constant(np.swapaxes(spec * gain, -1, -2)), clips.shape[1] - 7).numpy()
    assert ours.shape == reference.shape
    np.testing.assert_allclose(ours, reference, atol=1e-4 * np.abs(reference).max())


@pytest.mark.parametrize("hop", HOPS)
def test_istft_inverts_stft(settings, clips, hop):
    ops = TFSpectral(_settings(settings, hop))
    y = tf.constant(clips)
    back = ops.istft(ops.stft(y), clips.shape[1]).numpy()
    np.testing.assert_allclose(back, clips, atol=1e-5)


@pytest.mark.parametrize("preset,hop", [("default", None), ("default", 300), ("dissertation", None)])
def test_log_mel_matches_encode(clips, preset, hop):
    """Within 0.01 dB above the floor (the floor itself is exact)."""
    s = _settings(AudioSettings.preset(preset), hop)
    reference = encode(clips, settings=s)
    ours = tf_spectral(s).log_mel(tf.constant(clips)).numpy()
    assert ours.shape == reference.shape
    above = reference > s.db_floor + 1
    assert above.mean() > 0.5
    assert np.abs(ours - reference)[above].max() <= 0.01
    np.testing.assert_allclose(ours[~above], reference[~above], atol=0.05)


def test_log_mel_is_differentiable_and_built_once(settings, clips):
    y = tf.constant(clips[:1])
    with tf.GradientTape() as tape:
        tape.watch(y)
        total = tf.reduce_sum(tf_spectral(settings).log_mel(y))
    g = tape.gradient(total, y).numpy()
    assert np.isfinite(g).all() and np.abs(g).max() > 0
    assert tf_spectral(settings) is tf_spectral(settings)


def test_frames_are_static_when_the_length_is(settings):
    fn = tf.function(lambda y: tf_spectral(settings).log_mel(y),
                     input_signature=[tf.TensorSpec([None, 22_050], tf.float32)])
    assert fn.get_concrete_function().structured_outputs.shape.as_list() == [None, settings.n_mels, 44]


@pytest.mark.parametrize("hop", HOPS)
def test_gradients_are_tensorflows_own(settings, clips, hop):
    """The hand-written adjoints (framing, overlap-add, real FFT) give the gradients TensorFlow
    derives itself from plain ``tf.signal`` ops, through STFT, inverse STFT and log-mel."""
    s = _settings(settings, hop)
    ops = TFSpectral(s)
    y = tf.constant(clips[:2])
    n = clips.shape[1]
    n_frames = 1 + n // s.hop_length
    weights = tf.constant(np.random.default_rng(0).normal(size=(2, s.n_mels, n_frames)).astype(np.float32))

    def plain_stft(x):
        padded = tf.pad(x, [[0, 0], [ops.pad, ops.pad + s.n_fft]])
        return tf.signal.rfft(tf.signal.frame(padded, s.n_fft, s.hop_length)[:, :n_frames] * ops.window)

    def plain_log_mel(x):
        spec = plain_stft(x)
        power = tf.math.square(tf.math.real(spec)) + tf.math.square(tf.math.imag(spec))
        db = 10.0 * tf.math.log(tf.maximum(tf.linalg.matmul(power, ops.mel), s.amin) / s.db_ref) / tf.math.log(10.0)
        return tf.transpose(db, [0, 2, 1])

    def loss(x, plain):
        spec = plain_stft(x) if plain else ops.stft(x)
        shaped = spec * tf.complex(tf.abs(spec) ** 0.1, 0.0)  # something non-linear between the two
        if plain:
            frames = tf.signal.irfft(shaped, fft_length=[s.n_fft]) * ops.window
            back = tf.signal.overlap_and_add(frames, s.hop_length)[:, ops.pad:ops.pad + n]
        else:
            back = ops.istft(shaped, n, tf.ones([(n_frames - 1) * s.hop_length + s.n_fft]))
        return tf.reduce_sum((plain_log_mel(back) if plain else ops.log_mel(back)) * weights)

    grads = []
    for plain in (True, False):
        with tf.GradientTape() as tape:
            tape.watch(y)
            value = loss(y, plain)
        grads.append(tape.gradient(value, y).numpy())
    scale = np.abs(grads[0]).max()
    assert scale > 0
    np.testing.assert_allclose(grads[1], grads[0], atol=1e-5 * scale)
