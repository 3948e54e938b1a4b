"""Block reading and block writing: every sample once, the input's format, nothing left on failure."""

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream.audio.io import read_audio
from auditory_deepdream.audio.streams import block_spans, read_span, stream_info, stream_writer
from auditory_deepdream.errors import AudioInputError


@pytest.mark.parametrize("n, hop, context", [(100, 30, 7), (90, 30, 0), (10, 30, 5)])
def test_blocks_own_every_sample_once_and_read_their_context(n, hop, context):
    spans = block_spans(n, hop=hop, context=context)
    owned = np.concatenate([np.arange(a, b) for _, _, a, b in spans])
    np.testing.assert_array_equal(owned, np.arange(n))
    for start, stop, own_start, own_stop in spans:
        assert start == max(0, own_start - context) and stop == min(n, own_stop + context)
    with pytest.raises(AudioInputError):
        block_spans(n, hop=0, context=1)


def test_written_blocks_read_back_in_the_inputs_format(tmp_path):
    rng = np.random.default_rng(0)
    y = (0.5 * rng.standard_normal((2, 10_000))).clip(-1, 1).astype(np.float32)
    src = tmp_path / "in.flac"
    sf.write(src, y.T, 16_000, subtype="PCM_24")
    fmt, n = stream_info(src)
    assert (fmt.sample_rate, fmt.channels, fmt.subtype, n) == (16_000, 2, "PCM_24", 10_000)
    out = tmp_path / "out.flac"
    with stream_writer(out, sample_rate=16_000, channels=2, like=fmt) as writer:
        for start, stop, _, _ in block_spans(n, hop=3_000, context=0):
            writer.write(read_span(src, start, stop))
    back, like = read_audio(out)
    assert like.subtype == "PCM_24" and back.shape == y.shape
    np.testing.assert_allclose(back, read_audio(src)[0], atol=1e-6)


def test_a_writer_that_fails_leaves_nothing(tmp_path):
    with pytest.raises(RuntimeError):
        with stream_writer(tmp_path / "out.wav", sample_rate=8_000, channels=1) as writer:
            writer.write(np.zeros((1, 100), np.float32))
            raise RuntimeError("stopped")
    assert list(tmp_path.iterdir()) == []


def test_a_file_libsndfile_cannot_seek_in_is_read_whole(tmp_path):
    text = tmp_path / "notes.wav"
    text.write_text("not audio")
    assert stream_info(text) is None
