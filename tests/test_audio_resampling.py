"""Sample-rate conversion: librosa's soxr_hq resample, without librosa."""

import librosa
import numpy as np
import pytest

from auditory_deepdream.audio.resampling import fit_length, resample


@pytest.mark.parametrize("orig, target", [(44100, 22050), (48000, 22050), (22050, 44100), (16000, 22050)])
@pytest.mark.parametrize("shape", [(12345,), (2, 9999)])
def test_resample_is_librosas(orig, target, shape):
    y = np.random.default_rng(orig + target).normal(size=shape).astype(np.float32) * 0.1
    ours = resample(y, orig_sr=orig, target_sr=target)
    theirs = librosa.resample(y, orig_sr=orig, target_sr=target, res_type="soxr_hq", axis=-1)
    assert ours.dtype == np.float32 and ours.shape == theirs.shape
    assert ours.shape[-1] == int(np.ceil(shape[-1] * target / orig))
    np.testing.assert_array_equal(ours, theirs)


def test_resample_to_a_length_and_at_the_same_rate():
    y = np.arange(10, dtype=np.float32)
    np.testing.assert_array_equal(resample(y, orig_sr=8000, target_sr=8000), y)
    assert resample(y[None], orig_sr=8000, target_sr=8000, length=12).shape == (1, 12)
    assert resample(np.ones(4410, np.float32), orig_sr=44100, target_sr=22050, length=2000).shape == (2000,)


def test_fit_length_cuts_and_pads_with_zeros():
    y = np.arange(1, 6, dtype=np.float32)
    np.testing.assert_array_equal(fit_length(y, 3), [1, 2, 3])
    np.testing.assert_array_equal(fit_length(y, 7), [1, 2, 3, 4, 5, 0, 0])
    assert fit_length(y, 5) is y
    assert fit_length(np.ones((2, 3)), 4).shape == (2, 4)
