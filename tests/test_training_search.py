"""Bayesian search: complete, parseable logs of every trial; resume without retraining; proposals deterministic."""

import dataclasses
import json

import keras
import numpy as np
import pandas as pd
import pytest
from training_fixtures import make_store

from auditory_deepdream.errors import ModelError
from auditory_deepdream.training import TrainConfig, evaluate
from auditory_deepdream.training.search import (
    _propose,
    hp_to_params,
    params_to_hp,
    read_logs,
    search,
)

FAST = TrainConfig(epochs=2, batch_size=32, patience=2, verbose=0)
FIXED = {"width": 0.25, "dense_units": 16}
BOUNDS = {"blocks_stage1": (1, 2, int), "dropout": (0.0, 0.4), "log10_learning_rate": (-3.3, -2.5)}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


class _Kill(keras.callbacks.Callback):
    """Stands in for a killed process: raises during the first epoch of one trial."""

    def on_epoch_end(self, epoch, logs=None):
        raise KeyboardInterrupt("simulated kill")


def test_search_logs_everything_and_resumes_only_unfinished_trials(store, tmp_path):
    log_dir = tmp_path / "logs"
    trained = []

    def killing(model_id):
        trained.append(model_id)
        return [_Kill()] if model_id == 1 else []

    kwargs = dict(builder="conv_blocks", log_dir=log_dir, n_trials=3, init_points=2, bounds=BOUNDS,
                  fixed=FIXED, config=FAST)
    with pytest.raises(KeyboardInterrupt):
        search(store, callbacks=killing, **kwargs)
    assert trained == [0, 1]
    assert read_logs(log_dir)["model_id"].tolist() == [0]
    first_history = (log_dir / "history" / "model_0.csv").read_bytes()

    trained.clear()
    result = search(store, callbacks=lambda k: trained.append(k) or [], **kwargs)
    assert trained == [1, 2]  # trial 0 re-registered from the logs, not retrained
    assert (log_dir / "history" / "model_0.csv").read_bytes() == first_history
    assert sorted(result["model_id"]) == [0, 1, 2]

    hps = pd.read_csv(log_dir / "hyperparameters.csv")
    assert hps["model_id"].tolist() == [0, 1, 2]
    assert {"blocks_stage1", "dropout", "learning_rate", "width", "n_classes"} <= set(hps.columns)
    assert (hps["width"] == 0.25).all() and (hps["n_classes"] == len(store.classes)).all()
    assert hps["learning_rate"].between(10 ** -3.3, 10 ** -2.5).all()
    evaluation = pd.read_csv(log_dir / "evaluation.csv")
    assert evaluation["model_id"].tolist() == [0, 1, 2]
    assert np.isfinite(evaluation["loss"]).all()
    for k in range(3):  # each logged score is the reloaded best checkpoint's, on the test split
        model = keras.models.load_model(log_dir / "checkpoints" / f"model_{k}.keras")
        scores = evaluate(model, store, settings=store.settings, classes=store.classes, split="test",
                          min_audio_fraction=FAST.min_audio_fraction)
        assert evaluation.loc[k, "accuracy"] == pytest.approx(scores["accuracy"])
    runs = pd.read_csv(log_dir / "aim_runs.csv")
    assert runs["model_id"].tolist() == [0, 1, 2]
    for k in range(3):
        arch = json.loads((log_dir / "architecture" / f"model_{k}.json").read_text())
        assert arch["class_name"] == "Functional"
        architecture = (log_dir / "architecture" / f"model_{k}.txt").read_text()
        assert "stage1_conv1" in architecture and "Total params:" in architecture
        history = pd.read_csv(log_dir / "history" / f"model_{k}.csv")
        assert {"epoch", "loss", "accuracy", "val_loss", "val_accuracy", "learning_rate"} <= set(history)
        assert len(history) == FAST.epochs
        model = keras.models.load_model(log_dir / "checkpoints" / f"model_{k}.keras")
        assert model.output_shape == (None, len(store.classes))

    import aim

    run = aim.Run(run_hash=runs.loc[2, "run_hash"], repo=str(log_dir / "aim"),
                  system_tracking_interval=None, capture_terminal_logs=False)
    try:
        assert run["hparams"]["model_id"] == 2
        assert run["hparams"]["learning_rate"] == pytest.approx(hps.loc[2, "learning_rate"])
        tracked = {(m.name, m.context.to_dict()["subset"]): list(m.values.values_list()) for m in run.metrics()}
        assert len(tracked[("learning_rate", "train")]) == FAST.epochs
        assert len(tracked[("accuracy", "val")]) == FAST.epochs
    finally:
        run.close()

    with pytest.raises(ModelError, match="different search"):
        search(store, **{**kwargs, "fixed": {"width": 0.5}})
    # logs written before an option existed resume, since they ran with its default
    plan = json.loads((log_dir / "search.json").read_text())
    del plan["config"]["warp_semitones"]
    (log_dir / "search.json").write_text(json.dumps(plan))
    trained.clear()
    search(store, callbacks=lambda k: trained.append(k) or [], **kwargs)
    assert trained == []
    with pytest.raises(ModelError, match=r"differs in \['config'\]"):
        search(store, **{**kwargs, "config": dataclasses.replace(FAST, warp_semitones=1.0)})


def test_proposals_depend_only_on_seed_trial_and_results():
    done = [({"blocks_stage1": 1, "dropout": 0.1, "log10_learning_rate": -3.0}, 0.5),
            ({"blocks_stage1": 2, "dropout": 0.3, "log10_learning_rate": -2.7}, 0.7)]
    a = _propose(2, done, bounds=BOUNDS, init_points=2, seed=0, acquisition="ucb")
    b = _propose(2, done, bounds=BOUNDS, init_points=2, seed=0, acquisition="ucb")
    assert a == b
    assert set(a) == set(BOUNDS)
    hp = params_to_hp(a)
    assert hp_to_params(hp, BOUNDS) == pytest.approx(a)
    assert _propose(0, [], bounds=BOUNDS, init_points=2, seed=0, acquisition="ei") != \
        _propose(1, [], bounds=BOUNDS, init_points=2, seed=0, acquisition="ei")


class _FailTrial:
    """Callbacks that make one trial fail mid-training (pickled to the cluster's workers)."""

    def __init__(self, model_id: int):
        self.model_id = model_id

    def __call__(self, model_id):
        return [_Fail()] if model_id == self.model_id else []


class _Fail(keras.callbacks.Callback):
    def on_epoch_end(self, epoch, logs=None):
        raise RuntimeError("simulated failure")


def test_parallel_search_resumes_without_retraining_and_is_deterministic(store, tmp_path):
    from auditory_deepdream.cluster import dask_client
    from auditory_deepdream.training import propose_round

    log_dir = tmp_path / "logs"
    kwargs = dict(builder="conv_blocks", log_dir=log_dir, n_trials=4, init_points=2, bounds=BOUNDS,
                  fixed=FIXED, config=FAST, parallel=2)
    with dask_client(n_workers=2, announce=None) as client:
        with pytest.raises(RuntimeError, match="simulated failure"):
            search(store, client=client, callbacks=_FailTrial(3), **kwargs)
        assert sorted(read_logs(log_dir)["model_id"]) == [0, 1, 2]  # round 0 and half of round 1
        runs_before = pd.read_csv(log_dir / "aim_runs.csv").set_index("model_id")["run_hash"]
        result = search(store, client=client, **kwargs)
    assert sorted(result["model_id"]) == [0, 1, 2, 3]
    runs_after = pd.read_csv(log_dir / "aim_runs.csv").set_index("model_id")["run_hash"]
    assert (runs_after.loc[[0, 1, 2]] == runs_before.loc[[0, 1, 2]]).all()  # finished trials not retrained
    assert runs_after.loc[3] != runs_before.get(3)

    # every logged trial is what the seed and the rounds before it propose
    hps = pd.read_csv(log_dir / "hyperparameters.csv").set_index("model_id")
    evaluation = pd.read_csv(log_dir / "evaluation.csv").set_index("model_id")
    done = [(hp_to_params(hps.loc[k], BOUNDS), float(evaluation.loc[k, "accuracy"])) for k in (0, 1)]
    for ids, before in (([0, 1], []), ([2, 3], done)):
        proposed = propose_round(ids, before, bounds=BOUNDS, init_points=2, seed=FAST.seed, acquisition="ucb")
        for k in ids:
            assert params_to_hp(proposed[k])["learning_rate"] == pytest.approx(hps.loc[k, "learning_rate"])
    assert hps.loc[2, "learning_rate"] != pytest.approx(hps.loc[3, "learning_rate"])  # the liar spreads the round

    with pytest.raises(ModelError, match="different search"):
        search(store, **{**kwargs, "parallel": 1})


def test_a_round_of_one_proposes_what_the_serial_search_does():
    from auditory_deepdream.training import propose_round

    done = [({"blocks_stage1": 1, "dropout": 0.1, "log10_learning_rate": -3.0}, 0.5),
            ({"blocks_stage1": 2, "dropout": 0.3, "log10_learning_rate": -2.7}, 0.7)]
    for k in (0, 2):
        assert propose_round([k], done[:k], bounds=BOUNDS, init_points=2, seed=3, acquisition="ei")[k] == \
            _propose(k, done[:k], bounds=BOUNDS, init_points=2, seed=3, acquisition="ei")
