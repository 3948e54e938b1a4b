"""The dissertation's three generator tests (section 4.4) and the generator's contract."""

import numpy as np
import pytest
from training_fixtures import make_store

from auditory_deepdream import audio
from auditory_deepdream.dataset import PITCH_CLASSES
from auditory_deepdream.errors import DatasetError
from auditory_deepdream.generator import (
    InstrumentSequence,
    audio_fraction,
    balance,
    build_index,
)


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


def test_one_hot_labels_match_each_samples_class(store):
    index = build_index(store)
    classes = store.classes
    assert len(index) == len(store)
    by_row = store.index.set_index("row")
    for _, item in index.iterrows():
        assert item["family_label"].shape == (len(classes),)
        assert item["family_label"].sum() == 1.0
        assert classes[int(np.argmax(item["family_label"]))] == by_row.loc[item["row"], "family"] == item["family"]
        assert item["family_code"] == classes.index(item["family"])
        assert item["pitch_label"].shape == (12,)
        assert PITCH_CLASSES[int(np.argmax(item["pitch_label"]))] == by_row.loc[item["row"], "pitch_class"]


def test_balanced_frames_hold_equal_counts(store):
    index = build_index(store, split="train", samples_per_family=30, seed=3)
    counts = index["family"].value_counts()
    assert sorted(counts.index) == sorted(store.classes)
    assert set(counts) == {30}
    again = build_index(store, split="train", samples_per_family=30, seed=3)
    assert again["row"].tolist() == index["row"].tolist()
    other = build_index(store, split="train", samples_per_family=30, seed=4)
    assert other["row"].tolist() != index["row"].tolist()
    assert not index.duplicated("row").any()  # enough rows per family: no oversampling
    with pytest.raises(DatasetError, match="fewer than"):
        balance(index, 31)
    assert set(balance(index, 31, replace=True)["family"].value_counts()) == {31}


@pytest.mark.parametrize("workers", [1, 2])
def test_every_batchs_labels_match_its_samples(store, workers):
    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=16, seed=1, workers=workers)
    classes = store.classes
    family_of_row = store.index.set_index("row")["family"]
    for epoch in range(2):
        seen = []
        for i in range(len(seq)):
            x, y = seq[i]
            pos = seq.batch_positions(i)
            rows = index["row"].to_numpy()[pos]
            assert x.shape == (len(pos), *store.feature_shape, 1) and x.dtype == np.float32
            np.testing.assert_array_equal(x[..., 0], store.load(rows))
            assert [classes[c] for c in y.argmax(axis=1)] == family_of_row.loc[rows].tolist()
            seen.append(pos)
        assert sorted(np.concatenate(seen)) == list(range(len(index)))  # each sample once per epoch
        seq.on_epoch_end()


def test_shuffle_is_deterministic_per_seed_and_epoch(store):
    index = build_index(store, split="train")
    a = InstrumentSequence(store, index, batch_size=8, seed=5)
    b = InstrumentSequence(store, index, batch_size=8, seed=5)
    first = a.batch_positions(0).copy()
    np.testing.assert_array_equal(first, b.batch_positions(0))
    a.on_epoch_end()
    assert not np.array_equal(first, a.batch_positions(0))
    c = InstrumentSequence(store, index, batch_size=8, seed=6)
    assert not np.array_equal(first, c.batch_positions(0))
    fixed = InstrumentSequence(store, index, batch_size=8, shuffle=False)
    np.testing.assert_array_equal(fixed.batch_positions(0), np.arange(8))


def test_sample_weights_balance_families(store):
    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=len(index), shuffle=False, sample_weight=True)
    _, y, w = seq[0]
    per_family = [w[y.argmax(axis=1) == c].sum() for c in range(y.shape[1])]
    np.testing.assert_allclose(per_family, per_family[0], rtol=1e-5)


def test_keras_fit_consumes_the_sequence_with_workers(store):
    import keras

    from auditory_deepdream.models import build_model

    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=32, workers=2)
    model = build_model("conv_blocks", {"width": 0.25}, settings=store.settings,
                        n_classes=len(store.classes), seed=0)
    history = model.fit(seq, epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])
    assert isinstance(seq, keras.utils.PyDataset)


def test_bad_requests_are_clear_errors(store):
    with pytest.raises(DatasetError, match="no rows in split"):
        build_index(store, split="nope")
    with pytest.raises(DatasetError, match="belong to the classes"):
        build_index(store, classes=["theremin"])
    index = build_index(store)
    with pytest.raises(DatasetError, match="target"):
        InstrumentSequence(store, index, target="loudness")


def test_augmentation_is_reproducible_and_keeps_labels(store):
    index = build_index(store, split="train")
    plain = InstrumentSequence(store, index, batch_size=16, seed=2)
    a = InstrumentSequence(store, index, batch_size=16, seed=2, augment=True)
    b = InstrumentSequence(store, index, batch_size=16, seed=2, augment=True)
    (x0, y0), (xa, ya), (xb, _) = plain[0], a[0], b[0]
    np.testing.assert_array_equal(xa, xb)
    np.testing.assert_array_equal(ya, y0)
    assert not np.array_equal(xa, x0)
    assert xa.min() >= store.settings.db_floor
    a.on_epoch_end()
    b.on_epoch_end()
    np.testing.assert_array_equal(a[0][0], b[0][0])


def test_audio_fraction_is_the_share_of_real_note_and_filters_tails(store):
    """Each segment's share of real note equals the share of non-padding samples that
    audio.segment gives it; min_audio_fraction drops padding-dominated tails only."""
    for _, note in store.index.groupby("note_id"):
        real = np.ones(int(note["trimmed_samples"].iloc[0]), dtype=np.float32)
        expected = audio.segment(real, settings=store.settings,
                                 hop_seconds=float(note["hop_seconds"].iloc[0])).mean(axis=1)
        np.testing.assert_allclose(audio_fraction(store, note), expected[note["segment_index"].to_numpy()],
                                   atol=1e-6)
    everything = build_index(store)
    # hops of half a segment leave every segment at least half real: ask for three quarters
    kept = build_index(store, min_audio_fraction=0.75)
    assert 0 < len(kept) < len(everything)
    assert (kept["audio_fraction"] >= 0.75).all()
    dropped = everything[everything["audio_fraction"] < 0.75]
    assert len(kept) + len(dropped) == len(everything)
    assert set(dropped["segment_id"]).isdisjoint(kept["segment_id"])
    # a time-stretched copy is longer by 1 / stretch_rate (0.5 unless the build says otherwise)
    stretched = store.index.iloc[:1].assign(augmentation="stretch")
    plain = store.index.iloc[:1].assign(augmentation="none", segment_index=2)
    seg = store.settings.segment_samples
    length = int(stretched["trimmed_samples"].iloc[0])
    hop = round(float(stretched["hop_seconds"].iloc[0]) * store.settings.sample_rate)
    assert audio_fraction(store, stretched.assign(segment_index=2))[0] == pytest.approx(
        np.clip((2 * length - 2 * hop) / seg, 0, 1))
    assert audio_fraction(store, plain)[0] == pytest.approx(np.clip((length - 2 * hop) / seg, 0, 1))
    with pytest.raises(DatasetError, match="min_audio_fraction"):
        build_index(store, min_audio_fraction=1.5)


def test_per_family_epochs_are_balanced_and_pitch_is_a_target(store):
    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=1000, per_family=20, seed=0)
    _, y = seq[0]
    assert len(seq) == 1 and np.bincount(y.argmax(axis=1)).tolist() == [20] * len(store.classes)
    seq.on_epoch_end()
    assert not np.array_equal(seq.batch_positions(0), InstrumentSequence(
        store, index, batch_size=1000, per_family=20, seed=0).batch_positions(0))  # a fresh draw
    by_pitch = InstrumentSequence(store, index, batch_size=8, target="pitch", shuffle=False)
    _, y = by_pitch[0]
    assert [PITCH_CLASSES[c] for c in y.argmax(axis=1)] == index["pitch_class"][:8].tolist()


def test_label_smoothing_serves_smoothed_labels_in_both_feeds(store):
    index = build_index(store, split="train")
    plain = InstrumentSequence(store, index, batch_size=16, seed=4, per_family=8)
    smooth = InstrumentSequence(store, index, batch_size=16, seed=4, per_family=8, label_smoothing=0.2)
    (x0, y0), (x1, y1) = plain[0], smooth[0]
    n = y0.shape[1]
    np.testing.assert_array_equal(x1, x0)  # the same samples, in the same order
    np.testing.assert_allclose(y1, 0.8 * y0 + 0.2 / n, rtol=1e-6)
    np.testing.assert_allclose(y1.sum(axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(smooth.labels, plain.labels)  # `labels` stays one-hot
    _, y_data = next(iter(smooth.dataset()))
    np.testing.assert_array_equal(y_data.numpy(), y1)
    for bad in (-0.1, 1.0):
        with pytest.raises(DatasetError, match="label_smoothing"):
            InstrumentSequence(store, index, label_smoothing=bad)


@pytest.mark.parametrize("augment", [False, True])
def test_dataset_serves_the_sequences_batches_epoch_after_epoch(store, augment):
    """Each pass over ``dataset()`` is one epoch: the batches equal ``seq[i]`` of that epoch
    (float16 rows cast in TensorFlow), then the next pass serves the next epoch's order."""
    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=24, seed=3, sample_weight=True, augment=augment)
    reference = InstrumentSequence(store, index, batch_size=24, seed=3, sample_weight=True, augment=augment)
    data = seq.dataset()
    assert int(data.cardinality()) == len(seq) == len(reference)
    for epoch in range(2):
        batches = [tuple(t.numpy() for t in batch) for batch in data]
        assert len(batches) == len(reference) and reference.epoch == epoch
        for i, (x, y, w) in enumerate(batches):
            x_ref, y_ref, w_ref = reference[i]
            assert x.dtype == np.float32 and x.shape == x_ref.shape
            np.testing.assert_allclose(x, x_ref, atol=1e-3)
            np.testing.assert_array_equal(y, y_ref)
            np.testing.assert_array_equal(w, w_ref)
        reference.on_epoch_end()
    assert seq.epoch == 2


def test_keras_fit_consumes_the_dataset(store):
    from auditory_deepdream.models import build_model

    index = build_index(store, split="train")
    seq = InstrumentSequence(store, index, batch_size=32, augment=True)
    model = build_model("conv_blocks", {"width": 0.25}, settings=store.settings,
                        n_classes=len(store.classes), seed=0)
    history = model.fit(seq.dataset(), epochs=2, shuffle=False, verbose=0)
    assert all(np.isfinite(history.history["loss"]))
    assert seq.epoch == 2  # each Keras epoch was one pass, one reshuffle


def _relabelled(store, folder, kinds):
    """The store's rows under ``folder`` with ``augmentation`` cycling through ``kinds`` (shards linked)."""
    import json
    import shutil

    from auditory_deepdream.dataset import FeatureStore

    folder.mkdir()
    (folder / "shards").symlink_to(store.path.resolve() / "shards")
    shutil.copy(store.path / "settings.json", folder / "settings.json")
    (folder / "meta.json").write_text(json.dumps(store.meta))
    index = store.index.assign(augmentation=[kinds[i % len(kinds)] for i in range(len(store))])
    index.to_csv(folder / "index.csv", index=False)
    return FeatureStore(folder)


def test_build_index_keeps_the_asked_augmentations(store, tmp_path):
    kinds = ["none", "stretch", "recording1", "recording2"]
    mixed = _relabelled(store, tmp_path / "mixed", kinds)
    by_row = mixed.index.set_index("row")["augmentation"]
    plain = build_index(mixed, augmentations=("none",))
    assert set(by_row.loc[plain["row"]]) == {"none"} and len(plain) == (by_row == "none").sum()
    recorded = build_index(mixed, split="train", augmentations=("recording",))
    assert set(by_row.loc[recorded["row"]]) == {"recording1", "recording2"}
    train = mixed.index[mixed.index["split"] == "train"]
    assert len(recorded) == train["augmentation"].str.startswith("recording").sum()
    both = build_index(mixed, augmentations=("none", "stretch"))
    assert set(by_row.loc[both["row"]]) == {"none", "stretch"}
    assert len(build_index(mixed, augmentations=None)) == len(mixed)
    with pytest.raises(DatasetError, match="augmentations"):
        build_index(mixed, augmentations=("reverb",))
    with pytest.raises(DatasetError, match="augmentations"):
        build_index(store, augmentations=("recording",))  # the plain store has no copies
