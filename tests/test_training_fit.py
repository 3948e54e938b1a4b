"""Fitting one model: time budget, best epoch reloaded, settings check, MirroredStrategy."""

import dataclasses
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import keras
import numpy as np
import pytest
from training_fixtures import TINY, make_store

from auditory_deepdream.errors import ModelError, SettingsMismatchError
from auditory_deepdream.training import TrainConfig, evaluate, model_hp, train

FIXED = {"width": 0.25, "dense_units": 16}


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


@pytest.fixture(scope="module")
def trained(store):
    config = TrainConfig(epochs=6, batch_size=32, patience=6, verbose=0, max_seconds=0.0)
    return train(store, builder="conv_blocks", hp=FIXED, config=config), config


def test_time_budget_stops_after_the_epoch_it_runs_out_in(trained):
    result, _ = trained
    assert len(result.history) == 1  # a zero budget still finishes (and keeps) one epoch
    assert result.best_epoch == 0


def test_result_holds_the_best_epoch_and_its_test_scores(trained, store):
    result, config = trained
    again = evaluate(result.model, store, settings=result.settings, classes=result.classes, split="test",
                     min_audio_fraction=config.min_audio_fraction)
    assert result.test_accuracy == pytest.approx(again["accuracy"]) == result.test_eval["accuracy"]
    assert result.test_loss == pytest.approx(again["loss"])
    assert result.val_accuracy == pytest.approx(result.history["val_accuracy"].iloc[result.best_epoch])
    assert result.hp == model_hp("conv_blocks", FIXED, len(store.classes))
    assert result.classes == store.classes


def test_same_seed_same_model(store):
    config = TrainConfig(epochs=1, batch_size=32, verbose=0)
    a, b = (train(store, hp=FIXED, config=config) for _ in range(2))
    assert all(np.array_equal(p, q) for p, q in zip(a.model.get_weights(), b.model.get_weights()))


class _ScoreEveryEpoch(keras.callbacks.Callback):
    """Predicts on the test split after every epoch, as the retired budget selection did (benchmarks/results/budget_selection.json)."""

    def __init__(self, store):
        super().__init__()
        self.store, self.scores = store, []

    def on_epoch_end(self, epoch, logs=None):
        self.scores.append(evaluate(self.model, self.store, settings=self.store.settings,
                                    classes=self.store.classes, split="test")["loss"])


def test_a_shorter_run_is_the_start_of_a_longer_one(store):
    # budget_selection reads every shorter run of the recipe off one long run
    config = TrainConfig(epochs=3, batch_size=32, patience=3, reduce_lr_patience=1, verbose=0, augment=True,
                         samples_per_family=20)
    longer = train(store, hp=FIXED, config=config, callbacks=[_ScoreEveryEpoch(store)])
    shorter = train(store, hp=FIXED, config=dataclasses.replace(config, epochs=2))
    np.testing.assert_array_equal(shorter.history["val_loss"], longer.history["val_loss"].iloc[:2])
    assert longer.history["val_loss"].iloc[2] != longer.history["val_loss"].iloc[1]


def test_model_and_dataset_with_different_settings_are_refused(store):
    with pytest.raises(SettingsMismatchError, match="n_mels"):
        train(store, settings=TINY.replace(n_mels=64), config=TrainConfig(epochs=1, verbose=0))


def test_unknown_builder_is_refused_before_any_work():
    with pytest.raises(ModelError, match="Unknown model builder 'resnet'"):
        model_hp("resnet", None, 3)


def test_train_under_mirrored_strategy_on_two_logical_cpus(store, tmp_path):
    # logical devices must be configured before TensorFlow initialises them: a fresh process
    script = textwrap.dedent(f"""
        import sys, json
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        import tensorflow as tf
        cpu = tf.config.list_physical_devices("CPU")[0]
        tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
        from auditory_deepdream.dataset import FeatureStore
        from auditory_deepdream.training import TrainConfig, train
        strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
        result = train(FeatureStore({str(store.path)!r}), hp={FIXED!r},
                       config=TrainConfig(epochs=1, batch_size=32, verbose=0, op_determinism=False),
                       strategy=strategy)
        print(json.dumps({{"replicas": strategy.num_replicas_in_sync, "epochs": len(result.history),
                          "loss": float(result.history["loss"].iloc[0]), "params": result.model.count_params()}}))
    """)
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    proc = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=300, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["replicas"] == 2 and out["epochs"] == 1
    assert np.isfinite(out["loss"]) and out["loss"] > 0
