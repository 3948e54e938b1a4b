"""Trimming silence and cutting segments."""

import numpy as np
import pytest

from auditory_deepdream import AudioInputError
from auditory_deepdream.audio import n_segments, segment, trim


def test_trim_removes_silence_around_a_note(cello, settings):
    pad = np.zeros(settings.sample_rate // 2, dtype=np.float32)
    padded = np.concatenate([pad, cello, pad])
    trimmed = trim(padded, settings=settings)
    assert len(trimmed) < len(cello) + settings.n_fft
    assert len(trimmed) > 0.5 * len(cello)


def test_trim_of_silence_is_an_error(settings):
    with pytest.raises(AudioInputError, match="silent"):
        trim(np.zeros(5000, dtype=np.float32), settings=settings)


@pytest.mark.parametrize("n, hop, expected", [(22_050, 22_050, 1), (22_051, 22_050, 2), (55_125, 22_050, 3),
                                              (100, 22_050, 1), (44_100, 11_025, 3), (44_101, 11_025, 4)])
def test_segment_counts(n, hop, expected, settings):
    assert n_segments(n, segment_samples=settings.segment_samples, hop_samples=hop) == expected
    y = np.arange(1, n + 1, dtype=np.float32)
    segs = segment(y, settings=settings, hop_samples=hop)
    assert segs.shape == (expected, settings.segment_samples)


def test_segments_carry_the_signal_and_zero_pad_the_last(settings):
    seg = settings.segment_samples
    y = np.arange(1, 2 * seg + 101, dtype=np.float32)
    segs = segment(y, settings=settings, hop_seconds=0.5)
    hop = seg // 2
    for i, s in enumerate(segs):
        n_real = min(seg, len(y) - i * hop)
        np.testing.assert_array_equal(s[:n_real], y[i * hop:i * hop + n_real])
        assert not s[n_real:].any()
    assert segs[-1, -1] == 0 and segs[-1, 0] != 0


def test_bad_hop(settings):
    with pytest.raises(AudioInputError, match="hop must be positive"):
        segment(np.ones(100, np.float32), settings=settings, hop_samples=0)
