"""Keras layers built on ``tf.signal``: the TensorFlow twin of the librosa mel encoder.

:class:`LogMelSpectrogram` computes exactly the transform of
:func:`auditory_deepdream.audio.encode` (same window, centring, mel bank and dB
scale), so a model can take raw audio and gradients can flow back to the waveform.
``tests/test_layers.py`` holds the twin to within 0.1 dB of librosa on real audio.
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from .audio import mel_basis
from .settings import AudioSettings

__all__ = ["LogMelSpectrogram", "hann_window"]


def hann_window(settings: AudioSettings) -> np.ndarray:
    """Periodic Hann window of ``win_length`` zero-padded (centred) to ``n_fft``, as librosa does."""
    import librosa

    win = librosa.filters.get_window("hann", settings.win_length, fftbins=True)
    return librosa.util.pad_center(win, size=settings.n_fft).astype(np.float32)


@keras.saving.register_keras_serializable(package="auditory_deepdream")
class LogMelSpectrogram(keras.layers.Layer):
    """Waveform to log-mel spectrogram in dB, differentiable with respect to the samples.

    Input shape ``(batch, n_samples)``; output shape ``(batch, n_mels, 1 + n_samples //
    hop_length)``, or with a trailing channel axis of 1 when ``channel_axis=True`` (the
    layout the model builders expect).

    Parameters
    ----------
    settings : AudioSettings or dict
        The audio settings whose encoder this layer reproduces.
    channel_axis : bool
        Append a channel axis of size 1.
    """

    def __init__(self, settings: AudioSettings | dict | None = None, *, channel_axis: bool = True, **kwargs):
        super().__init__(**kwargs)
        if isinstance(settings, dict):
            settings = AudioSettings.from_dict(settings)
        self.settings = settings or AudioSettings()
        self.channel_axis = channel_axis
        self._window = tf.constant(hann_window(self.settings))
        self._mel = tf.constant(mel_basis(self.settings).T)  # (n_freq, n_mels)

    def call(self, y):
        s = self.settings
        y = tf.convert_to_tensor(y, dtype=tf.float32)
        pad = s.n_fft // 2
        y = tf.pad(y, [[0, 0], [pad, pad]])
        frames = tf.signal.frame(y, s.n_fft, s.hop_length)  # (batch, n_frames, n_fft)
        spec = tf.signal.rfft(frames * self._window)
        power = tf.math.square(tf.math.real(spec)) + tf.math.square(tf.math.imag(spec))
        mel = tf.linalg.matmul(power, self._mel)  # (batch, n_frames, n_mels)
        db = 10.0 * tf.math.log(tf.maximum(mel, s.amin) / s.db_ref) / tf.math.log(10.0)
        db = tf.transpose(db, [0, 2, 1])
        return db[..., None] if self.channel_axis else db

    def compute_output_shape(self, input_shape):
        n = input_shape[-1]
        frames = None if n is None else 1 + n // self.settings.hop_length
        shape = (input_shape[0], self.settings.n_mels, frames)
        return shape + (1,) if self.channel_axis else shape

    def get_config(self):
        return {**super().get_config(), "settings": self.settings.to_dict(),
                "channel_axis": self.channel_axis}
