"""The TensorFlow twin of the spectral front end: STFT, inverse STFT and log-mel.

One implementation serves the model's input layer
(:class:`~auditory_deepdream.layers.LogMelSpectrogram`), waveform dreaming and
Griffin-Lim, and reproduces :func:`~auditory_deepdream.audio.stft`,
:func:`~auditory_deepdream.audio.istft` and :func:`~auditory_deepdream.audio.encode`
(same window, centring, zero padding, mel bank and dB scale), differentiably.
``tests/test_audio_tf_spectral.py`` holds the twins together, as ddsp's
``spectral_ops_test.py`` does.

Spectra here are ``(batch, n_frames, 1 + n_fft // 2)``: frames before bins, the layout
``tf.signal`` works in.
"""

from __future__ import annotations

import functools

import numpy as np
import tensorflow as tf

from ..settings import AudioSettings
from .spectral import hann_window, mel_basis

__all__ = ["TFSpectral", "tf_spectral"]


class TFSpectral:
    """STFT, inverse STFT and log-mel of one set of audio settings, in TensorFlow.

    When ``hop_length`` divides ``n_fft`` (every preset), framing and overlap-add work on
    hop-sized blocks: a frame is ``n_fft / hop`` consecutive blocks, and overlap-add sums
    shifted copies of them, which is faster than ``tf.signal.frame`` /
    ``tf.signal.overlap_and_add`` (used otherwise).

    Parameters
    ----------
    settings : AudioSettings
    """

    def __init__(self, settings: AudioSettings):
        self.settings = settings
        self.n_fft, self.hop, self.pad = settings.n_fft, settings.hop_length, settings.n_fft // 2
        with tf.init_scope():  # eager constants, even when first built while a function is traced
            self.window = tf.constant(hann_window(settings))
            self.mel = tf.constant(mel_basis(settings).T)  # (n_freq, n_mels)
        self.blocks_per_frame = self.n_fft // self.hop if self.n_fft % self.hop == 0 else None
        weights = np.full(1 + self.n_fft // 2, 0.5, np.float32)  # see rfft()
        weights[0] = 1.0
        if self.n_fft % 2 == 0:
            weights[-1] = 1.0  # the Nyquist bin, which an odd n_fft does not have
        with tf.init_scope():
            self.rfft_weights = tf.constant(weights.astype(np.complex64))

    def frames_of(self, n_samples):
        """Frames of a centred STFT of ``n_samples`` samples (static when the length is)."""
        return 1 + n_samples // self.hop

    def frame(self, y, n_frames):
        """``(batch, samples) -> (batch, n_frames, n_fft)``: frames ``hop`` apart (zero-padded at the end).

        Its gradient is its adjoint, :meth:`overlap_add` (cut to ``samples``), in one pass
        instead of TensorFlow's gradients of every slice.
        """
        if self.blocks_per_frame is None:
            return tf.signal.frame(y, self.n_fft, self.hop)[:, :n_frames]

        @tf.custom_gradient
        def framed(y):
            def adjoint(g):
                summed = self._overlap_add_blocks(g)
                n, m = tf.shape(y)[1], tf.shape(summed)[1]
                return tf.pad(summed[:, :n], [[0, 0], [0, tf.maximum(n - m, 0)]])
            return self._frame_blocks(y, n_frames), adjoint

        return framed(y)

    def overlap_add(self, frames):
        """``(batch, n_frames, n_fft) -> (batch, (n_frames - 1) * hop + n_fft)``.

        Its gradient is its adjoint, :meth:`frame`.
        """
        if self.blocks_per_frame is None:
            return tf.signal.overlap_and_add(frames, self.hop)

        @tf.custom_gradient
        def summed(frames):
            def adjoint(g):
                return self._frame_blocks(g, tf.shape(frames)[1])
            return self._overlap_add_blocks(frames), adjoint

        return summed(frames)

    def rfft(self, frames):
        """``tf.signal.rfft`` over the last axis (``n_fft``), with its gradient in one inverse FFT.

        For real input the gradient of the real FFT is ``n_fft * irfft(g * w)``, ``w`` one
        at the DC and Nyquist bins and one half at the others (TensorFlow's own gradient
        adds the same terms in several more passes; ``tests/test_audio_tf_spectral.py``
        checks the two agree).
        """
        n_fft = self.n_fft

        @tf.custom_gradient
        def spectrum(frames):
            def adjoint(g):
                return tf.signal.irfft(g * self.rfft_weights, fft_length=[n_fft]) * float(n_fft)
            return tf.signal.rfft(frames), adjoint

        return spectrum(frames)

    def _frame_blocks(self, y, n_frames):
        hop, per = self.hop, self.blocks_per_frame
        n_blocks = n_frames + per - 1
        blocks = tf.reshape(tf.pad(y, [[0, 0], [0, n_blocks * hop]])[:, :n_blocks * hop],
                            [tf.shape(y)[0], n_blocks, hop])
        return tf.concat([blocks[:, k:k + n_frames] for k in range(per)], axis=-1)

    def _overlap_add_blocks(self, frames):
        per = self.blocks_per_frame
        batch, n_frames = tf.shape(frames)[0], tf.shape(frames)[1]
        parts = tf.reshape(frames, [batch, n_frames, per, self.hop])
        summed = tf.add_n([tf.pad(parts[:, :, k], [[0, 0], [k, per - 1 - k], [0, 0]]) for k in range(per)])
        return tf.reshape(summed, [batch, -1])

    def inverse_envelope(self, n_frames):
        """``1 / sum of squared windows`` over ``n_frames`` frames (1 where that sum vanishes).

        Depends only on the number of frames, so loops compute it once, outside their steps.
        """
        squares = tf.tile((self.window * self.window)[None, None], [1, n_frames, 1])
        envelope = self.overlap_add(squares)[0]
        return tf.where(envelope > 1e-8, 1.0 / tf.maximum(envelope, 1e-8), 1.0)

    def stft(self, y, n_frames=None):
        """Complex STFT as :func:`librosa.stft` with ``center=True, pad_mode='constant'``.

        Parameters
        ----------
        y : tf.Tensor [shape=(batch, n_samples), dtype=float32]
        n_frames : int or scalar tf.Tensor, optional
            Default ``1 + n_samples // hop_length``.

        Returns
        -------
        spec : tf.Tensor [shape=(batch, n_frames, 1 + n_fft // 2), dtype=complex64]
        """
        if n_frames is None:
            n = y.shape[-1]
            n_frames = self.frames_of(n if n is not None else tf.shape(y)[-1])
        return self.rfft(self.frame(tf.pad(y, [[0, 0], [self.pad, self.pad]]), n_frames) * self.window)

    def istft(self, spec, length, inverse_envelope=None):
        """Inverse STFT as :func:`librosa.istft`: overlap-add divided by the window's squares.

        Parameters
        ----------
        spec : tf.Tensor [shape=(batch, n_frames, 1 + n_fft // 2), dtype=complex64]
        length : int or scalar tf.Tensor
            Output samples (trimmed or zero-padded).
        inverse_envelope : tf.Tensor, optional
            :meth:`inverse_envelope` of ``n_frames``, when the caller already has it.

        Returns
        -------
        y : tf.Tensor [shape=(batch, length), dtype=float32]
        """
        if inverse_envelope is None:
            inverse_envelope = self.inverse_envelope(tf.shape(spec)[1])
        y = self.overlap_add(tf.signal.irfft(spec, fft_length=[self.n_fft]) * self.window) * inverse_envelope
        y = y[:, self.pad:self.pad + length]
        return tf.pad(y, [[0, 0], [0, length - tf.shape(y)[1]]])

    def log_mel(self, y):
        """Log-mel dB as :func:`~auditory_deepdream.audio.encode`, differentiable w.r.t. ``y``.

        Parameters
        ----------
        y : tf.Tensor [shape=(batch, n_samples), dtype=float32]

        Returns
        -------
        mel_db : tf.Tensor [shape=(batch, n_mels, 1 + n_samples // hop_length), dtype=float32]
        """
        spec = self.stft(y)
        return self.mel_db(tf.math.square(tf.math.real(spec)) + tf.math.square(tf.math.imag(spec)))

    def mel_db(self, power):
        """Log-mel dB of an STFT power spectrum, as :meth:`log_mel` forms it from a signal's.

        Parameters
        ----------
        power : tf.Tensor [shape=(batch, n_frames, 1 + n_fft // 2), dtype=float32]

        Returns
        -------
        mel_db : tf.Tensor [shape=(batch, n_mels, n_frames), dtype=float32]
        """
        s = self.settings
        mel = tf.linalg.matmul(power, self.mel)  # (batch, n_frames, n_mels)
        db = 10.0 * tf.math.log(tf.maximum(mel, s.amin) / s.db_ref) / tf.math.log(10.0)
        return tf.transpose(db, [0, 2, 1])


@functools.lru_cache(maxsize=8)
def tf_spectral(settings: AudioSettings) -> TFSpectral:
    """The :class:`TFSpectral` of ``settings``, built once (its window and mel bank are constants)."""
    return TFSpectral(settings)
