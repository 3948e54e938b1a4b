"""Back to sound: NNLS mel inversion, the one batched Griffin-Lim, and decode = both."""

import dataclasses

import numpy as np
import pytest

from auditory_deepdream.audio import (
    decode,
    encode,
    griffin_lim,
    istft,
    mel_basis,
    mel_to_magnitude,
    power_to_db,
    segment,
    stft,
)


@pytest.mark.parametrize("hop", [None, 300])  # the preset's hop, and one that does not divide n_fft
def test_griffin_lim_follows_the_reference_algorithm(settings, short, hop):
    """The compiled batched Griffin-Lim equals librosa's fast Griffin-Lim update written out
    with the front end's STFT and inverse, from the same initial phase."""
    if hop is not None:
        settings = dataclasses.replace(settings, hop_length=hop)
    S = np.abs(stft(np.stack([short, short[::-1]]), settings=settings))
    angles = np.exp(2j * np.pi * np.random.default_rng(5).random(S.shape)).astype(np.complex64)
    rebuilt = np.zeros_like(angles)
    for _ in range(6):
        previous = rebuilt
        rebuilt = stft(istft(S * angles, settings=settings, length=len(short)), settings=settings)
        angles = rebuilt - (0.99 / 1.99) * previous
        angles /= np.abs(angles) + 1e-16
    reference = istft(S * angles, settings=settings, length=len(short))
    ours = griffin_lim(S, settings=settings, n_iter=6, seed=5, length=len(short))
    assert ours.shape == (2, len(short))
    np.testing.assert_allclose(ours, reference, atol=1e-4 * np.abs(reference).max())


def test_decode_is_nnls_then_griffin_lim(cello, settings):
    mel = encode(segment(cello, settings=settings)[:2], settings=settings)
    S = mel_to_magnitude(mel, settings=settings)
    np.testing.assert_array_equal(decode(mel, settings=settings, n_iter=4, seed=2),
                                  griffin_lim(S, settings=settings, n_iter=4, seed=2))


def test_decode_is_deterministic_and_batched(cello, settings):
    segs = segment(cello, settings=settings)
    mel = encode(segs, settings=settings)
    a = decode(mel, settings=settings, n_iter=8, seed=3, length=settings.segment_samples)
    b = decode(mel, settings=settings, n_iter=8, seed=3, length=settings.segment_samples)
    c = decode(mel, settings=settings, n_iter=8, seed=4, length=settings.segment_samples)
    assert a.shape == segs.shape
    np.testing.assert_array_equal(a, b)
    assert not np.array_equal(a, c)
    one = decode(mel[1], settings=settings, n_iter=8, seed=3, length=settings.segment_samples)
    assert one.shape == (settings.segment_samples,)
    loud = mel[1] > mel[1].max() - 50  # a single spectrogram decodes to the same sound as in a batch
    assert np.median(np.abs(encode(one, settings=settings) - mel[1])[loud]) < 3.0


def test_decode_sounds_like_the_input(cello, settings):
    """Griffin-Lim loses phase but keeps the spectrum: re-encoding stays close in dB."""
    segs = segment(cello, settings=settings)[:1]
    mel = encode(segs, settings=settings)
    back = encode(decode(mel, settings=settings, n_iter=32, seed=0, length=settings.segment_samples),
                  settings=settings)
    loud = mel > mel.max() - 50
    assert np.median(np.abs(back - mel)[loud]) < 2.0


def test_mel_to_magnitude_reproduces_the_mel_in_batch_and_alone(cello, settings):
    """NNLS has many solutions; each must map back onto the mel it came from, batched or not."""
    mel = encode(segment(cello, settings=settings), settings=settings)
    batch = mel_to_magnitude(mel, settings=settings)
    single = mel_to_magnitude(mel[1], settings=settings)
    assert batch.shape == (len(mel), 1 + settings.n_fft // 2, settings.n_frames)
    assert batch.min() >= 0
    for S, target in ((batch[1], mel[1]), (single, mel[1]), (batch[0], mel[0])):
        back = power_to_db(mel_basis(settings) @ S ** 2, settings=settings)
        loud = target > target.max() - 60
        assert np.median(np.abs(back - target)[loud]) < 1.0
