"""Scoring: curated segments, note votes and every segment, checked against a model whose answers are known."""

import keras
import numpy as np
import pytest
from training_fixtures import make_store

from auditory_deepdream.errors import ModelError
from auditory_deepdream.generator import build_index
from auditory_deepdream.training import evaluate, note_votes, plot_confusion


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


def constant_model(store, family: str, classes=None) -> keras.Model:
    """A 'classifier' of ``classes`` that always answers ``family`` with probability 0.7: its scores are known."""
    classes = classes or store.classes
    n = len(classes)
    probs = np.full(n, 0.3 / (n - 1), dtype=np.float32)
    probs[classes.index(family)] = 0.7
    inp = keras.Input(shape=(store.settings.n_mels, None, 1))
    out = keras.layers.Lambda(lambda x: keras.ops.zeros_like(x[:, 0, 0, :1]) + probs)(inp)
    return keras.Model(inp, out)


def test_scores_of_a_constant_answer_are_the_shares_of_that_family(store):
    family = store.classes[1]
    rows = build_index(store, split="test")
    curated_rows = rows[rows["audio_fraction"] >= 0.95]
    scores = evaluate(constant_model(store, family), store, settings=store.settings, classes=store.classes,
                      split="test", min_audio_fraction=0.95)  # half-segment hops: every segment is >= 50 % real
    assert scores["n"] == len(curated_rows) < len(rows) == scores["all_segments"]["n"]
    assert scores["accuracy"] == pytest.approx(np.mean(curated_rows["family"] == family))
    assert scores["all_segments"]["accuracy"] == pytest.approx(np.mean(rows["family"] == family))
    notes = curated_rows.groupby("note_id")["family"].first()
    assert scores["n_notes"] == len(notes)
    assert scores["note_accuracy"] == pytest.approx(np.mean(notes == family))
    per_family = scores["per_class_note_accuracy"]
    assert per_family == {f: (1.0 if f == family else 0.0) for f in sorted(set(notes))}
    notes_per_family = notes.value_counts()
    assert all(0.0 <= v <= 1.0 for v in per_family.values())
    assert sum(per_family[f] * notes_per_family[f] for f in per_family) / notes_per_family.sum() == \
        pytest.approx(scores["note_accuracy"])
    assert scores["loss"] == pytest.approx(-np.mean(np.where(curated_rows["family"] == family,
                                                             np.log(0.7), np.log(0.3 / 3))), rel=1e-5)
    assert scores["per_class_accuracy"] == {f: (1.0 if f == family else 0.0)
                                            for f in sorted(set(curated_rows["family"]))}
    confusion = np.asarray(scores["confusion"])
    column = store.classes.index(family)
    assert confusion[:, column].sum() == scores["n"] and confusion.sum() == scores["n"]


def test_families_the_model_does_not_know_are_skipped_and_counted(store):
    known = store.classes[:2]
    scores = evaluate(constant_model(store, known[0], known), store, settings=store.settings, classes=known,
                      split="test")
    test_rows = store.index[store.index["split"] == "test"]
    assert scores["skipped"] == int((~test_rows["family"].isin(known)).sum()) > 0
    assert scores["all_segments"]["n"] == int(test_rows["family"].isin(known).sum())


def test_nothing_left_to_score_is_a_clear_error(store):
    with pytest.raises(ModelError, match="min_audio_fraction"):
        evaluate(constant_model(store, store.classes[0]), store, settings=store.settings, classes=store.classes,
                 split="test", min_audio_fraction=1.01)


def test_note_vote_sums_log_probabilities_per_note():
    """One confident right segment outvotes two unsure wrong ones: votes add
    log-probabilities, not counts."""
    probs = np.array([[0.98, 0.01, 0.01],   # note a: confident class 0
                      [0.30, 0.40, 0.30],   # note a: unsure class 1
                      [0.30, 0.40, 0.30],   # note a: unsure class 1
                      [0.10, 0.20, 0.70]])  # note b: class 2
    predicted, true = note_votes(probs, np.array(["a", "a", "a", "b"]), np.array([0, 0, 0, 1]))
    np.testing.assert_array_equal(predicted, [0, 2])
    np.testing.assert_array_equal(true, [0, 1])


def test_confusion_plot_is_written_atomically_as_a_png(tmp_path):
    path = plot_confusion([[3, 1], [0, 4]], ["a", "b"], tmp_path / "c.png", title="t")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["c.png"]  # no temporary file left behind
