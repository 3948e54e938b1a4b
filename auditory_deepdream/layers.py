"""Keras layers over the TensorFlow twin of the front end.

:class:`LogMelSpectrogram` is :func:`auditory_deepdream.audio.encode` as a Keras layer,
computed by :meth:`auditory_deepdream.audio.tf_spectral.TFSpectral.log_mel` (the same
code waveform dreaming and Griffin-Lim use), so a model can take raw audio and gradients
can flow back to the waveform.
"""

from __future__ import annotations

import keras
import tensorflow as tf

from .audio.tf_spectral import tf_spectral
from .settings import AudioSettings

__all__ = ["LogMelSpectrogram"]


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

    def call(self, y):
        db = tf_spectral(self.settings).log_mel(tf.convert_to_tensor(y, dtype=tf.float32))
        return db[..., None] if self.channel_axis else db

    def compute_output_shape(self, input_shape):
        n = input_shape[-1]
        frames = None if n is None else 1 + n // self.settings.hop_length
        shape = (input_shape[0], self.settings.n_mels, frames)
        return shape + (1,) if self.channel_axis else shape

    def get_config(self):
        return {**super().get_config(), "settings": self.settings.to_dict(),
                "channel_axis": self.channel_axis}
