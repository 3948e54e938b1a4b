"""Training one model: time budget, curated scoring (tails, note votes) and the model card."""

import json

import numpy as np
import pytest
from training_fixtures import make_store

from auditory_deepdream.errors import ModelError
from auditory_deepdream.generator import build_index
from auditory_deepdream.models import load_model
from auditory_deepdream.training import TrainConfig, evaluate, export_model, note_votes, train


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


@pytest.fixture(scope="module")
def trained(store):
    config = TrainConfig(epochs=6, batch_size=32, patience=6, verbose=0, max_seconds=0.0)
    return train(store, builder="conv_blocks", hp={"width": 0.25, "dense_units": 16}, config=config), config


def test_time_budget_stops_after_the_epoch_it_runs_out_in(trained):
    result, _ = trained
    assert len(result.history) == 1  # a zero budget still finishes (and keeps) one epoch
    assert result.best_epoch == 0


def test_evaluate_scores_curated_segments_note_votes_and_everything(trained, store):
    result, _ = trained
    curated = evaluate(result.model, store, settings=result.settings, classes=result.classes, split="test",
                       min_audio_fraction=0.95)  # half-segment hops: every segment is >= 50 % real
    every = evaluate(result.model, store, settings=result.settings, classes=result.classes, split="test")
    test_rows = build_index(store, split="test")
    assert every["n"] == len(test_rows) == curated["all_segments"]["n"]
    assert 0 < curated["n"] == int((test_rows["audio_fraction"] >= 0.95).sum()) < every["n"]
    assert curated["all_segments"]["accuracy"] == pytest.approx(every["accuracy"])
    assert curated["n_notes"] == test_rows["note_id"].nunique()
    assert 0.0 <= curated["note_accuracy"] <= 1.0
    assert np.sum(curated["confusion"]) == curated["n"]
    with pytest.raises(ModelError, match="min_audio_fraction"):
        evaluate(result.model, store, settings=result.settings, classes=result.classes, split="test",
                 min_audio_fraction=1.01)


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


def test_card_reports_curated_and_every_segment_accuracy(trained, store, tmp_path):
    result, config = trained
    card = export_model(result, tmp_path / "model", store=store, command="auditory-deepdream train ...",
                        name="tiny", config=config, heldout=store)
    text = (tmp_path / "model" / "card.md").read_text()
    assert "at least 50% real note" in text and "Note-level vote" in text and "every segment" in text
    saved = json.loads((tmp_path / "model" / "card.json").read_text())
    assert saved["test"]["all_segments"]["n"] >= saved["test"]["n"]
    assert saved["train_config"]["max_seconds"] == 0.0
    assert saved["heldout"]["skipped"] == 0
    model, settings, _ = load_model(tmp_path / "model")
    assert settings == store.settings and model.count_params() == result.model.count_params()
