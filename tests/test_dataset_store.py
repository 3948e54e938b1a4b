"""The feature store: chunked atomic writes, resumption, settings checks, random batches."""

import numpy as np
import pandas as pd
import pytest

from auditory_deepdream.audio import encode, segment
from auditory_deepdream.dataset import STORE_DTYPE, FeatureStore, StoreWriter
from auditory_deepdream.errors import DatasetError, SettingsMismatchError


@pytest.fixture(scope="module")
def features(notes, settings):
    """Log-mel segments of the three bundled real notes, shape (n, n_mels, n_frames)."""
    segs = np.concatenate([segment(y, settings=settings, hop_seconds=0.25) for y in notes])
    return encode(segs, settings=settings)


def _index(n, start):
    return pd.DataFrame({"segment_id": [f"s{i}" for i in range(start, start + n)],
                         "family": ["string", "flute", "piano"][start % 3]})


def _write(path, features, settings, chunks):
    writer = StoreWriter(path, settings=settings)
    bounds = np.linspace(0, len(features), 4).astype(int)
    for c in chunks:
        a, b = bounds[c], bounds[c + 1]
        writer.write_chunk(c, features[a:b], _index(b - a, a))
    return writer


def test_roundtrip_and_random_batches(features, settings, tmp_path):
    store = _write(tmp_path / "s", features, settings, range(3)).finalize({"classes": ["string", "flute", "piano"]})
    assert len(store) == len(features)
    assert list(store.index.row) == list(range(len(features)))
    assert store.classes == ["string", "flute", "piano"]
    rows = np.random.default_rng(0).permutation(len(features))[:17]
    got = store.load(rows)
    assert got.dtype == np.float32 and got.shape == (17, settings.n_mels, settings.n_frames)
    np.testing.assert_array_equal(got, features[rows].astype(STORE_DTYPE).astype(np.float32))
    np.testing.assert_allclose(got, features[rows], atol=0.07)  # float16 storage: < 0.1 dB error
    assert list(store.index.segment_id[rows]) == [f"s{r}" for r in rows]
    half = store.load(rows, dtype=np.float16)
    assert half.dtype == np.float16 and np.array_equal(half.astype(np.float32), got)


def test_resume_writes_only_missing_chunks_and_matches(features, settings, tmp_path):
    full = _write(tmp_path / "a", features, settings, range(3)).finalize()
    partial = _write(tmp_path / "b", features, settings, [0, 2])
    assert partial.done_chunks() == {0, 2}
    # a half-written shard (no index part) does not count as done
    (tmp_path / "b" / "shards" / "shard-00001.npy").write_bytes(b"partial")
    assert StoreWriter(tmp_path / "b", settings=settings).done_chunks() == {0, 2}
    resumed = _write(tmp_path / "b", features, settings, [1]).finalize()
    pd.testing.assert_frame_equal(resumed.index, full.index)
    for c in range(3):
        name = f"shards/shard-{c:05d}.npy"
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def test_settings_are_saved_and_checked(features, settings, tmp_path):
    _write(tmp_path / "s", features, settings, range(3)).finalize()
    other = settings.replace(n_mels=64)
    with pytest.raises(SettingsMismatchError, match="n_mels"):
        FeatureStore(tmp_path / "s", settings=other)
    with pytest.raises(SettingsMismatchError):
        StoreWriter(tmp_path / "s", settings=other)
    assert FeatureStore(tmp_path / "s", settings=settings).settings == settings


def test_bad_requests(features, settings, tmp_path):
    writer = StoreWriter(tmp_path / "s", settings=settings)
    with pytest.raises(DatasetError, match="shape"):
        writer.write_chunk(0, features[:, :10], _index(len(features), 0))
    with pytest.raises(DatasetError, match="index rows"):
        writer.write_chunk(0, features, _index(3, 0))
    with pytest.raises(DatasetError, match="No chunks"):
        writer.finalize()
    with pytest.raises(DatasetError, match="build-dataset"):
        FeatureStore(tmp_path / "s")
    # an empty chunk (every note skipped) is a done chunk that adds no rows
    writer.write_chunk(0, features[:0], _index(0, 0))
    writer.write_chunk(1, features[:4], _index(4, 0))
    assert writer.done_chunks() == {0, 1}
    assert writer.chunk_index(0).empty and writer.chunk_index(1, columns=["segment_id"]).columns.tolist() == ["segment_id"]
    assert writer.finalize().index.segment_id.tolist() == ["s0", "s1", "s2", "s3"]
    store = _write(tmp_path / "t", features, settings, range(3)).finalize()
    with pytest.raises(DatasetError, match="Row numbers"):
        store.load([len(store)])


def test_store_pickles_for_worker_processes(features, settings, tmp_path):
    import pickle

    store = _write(tmp_path / "s", features, settings, range(3)).finalize()
    store.load([0, 1])
    clone = pickle.loads(pickle.dumps(store))
    np.testing.assert_array_equal(clone.load([5, 0]), store.load([5, 0]))
