"""Training and Bayesian search: complete, parseable logs; resume; settings check; MirroredStrategy."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pandas as pd
import pytest
from training_fixtures import TINY, make_store

from auditory_deepdream.errors import ModelError, SettingsMismatchError
from auditory_deepdream.search import _propose, hp_to_params, params_to_hp, read_logs, search
from auditory_deepdream.training import TrainConfig, train

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
    assert evaluation["accuracy"].between(0, 1).all() and np.isfinite(evaluation["loss"]).all()
    runs = pd.read_csv(log_dir / "aim_runs.csv")
    assert runs["model_id"].tolist() == [0, 1, 2]
    for k in range(3):
        arch = json.loads((log_dir / "architecture" / f"model_{k}.json").read_text())
        assert arch["class_name"] == "Functional"
        assert "stage1_conv1" in (log_dir / "architecture" / f"model_{k}.txt").read_text()
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


def test_model_and_dataset_with_different_settings_are_refused(store):
    with pytest.raises(SettingsMismatchError, match="n_mels"):
        train(store, settings=TINY.replace(n_mels=64), config=FAST)


def test_train_under_mirrored_strategy_on_two_logical_cpus(store, tmp_path):
    # logical devices must be configured before TensorFlow initialises them: a fresh process
    script = textwrap.dedent(f"""
        import sys, json
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from auditory_deepdream.store import FeatureStore
        from auditory_deepdream.training import TrainConfig, train
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        result = train(FeatureStore({str(store.path)!r}), hp={FIXED!r},
                       config=TrainConfig(epochs=1, batch_size=32, verbose=0, op_determinism=False),
                       strategy=strategy)
        print(json.dumps({{"replicas": strategy.num_replicas_in_sync, "accuracy": result.test_accuracy,
                          "epochs": len(result.history)}}))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2 and out["epochs"] == 1 and 0.0 <= out["accuracy"] <= 1.0
