"""Training on several machines: TF_CONFIG read, two worker processes on loopback kept in step."""

import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pandas as pd
import pytest
from training_fixtures import make_store

from auditory_deepdream import cli
from auditory_deepdream.errors import ModelError
from auditory_deepdream.training import cluster_from_environment


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


def tf_config(workers, kind="worker", index=0, chief=None):
    cluster = {"worker": workers} | ({"chief": chief} if chief else {})
    return json.dumps({"cluster": cluster, "task": {"type": kind, "index": index}})


def test_tf_config_names_the_cluster_and_who_writes(monkeypatch):
    monkeypatch.delenv("TF_CONFIG", raising=False)
    assert cluster_from_environment() is None
    monkeypatch.setenv("TF_CONFIG", tf_config(["a:1", "b:1"], index=1))
    assert cluster_from_environment() == {"workers": 2, "rank": 1, "type": "worker", "index": 1, "chief": False}
    monkeypatch.setenv("TF_CONFIG", tf_config(["a:1", "b:1"], index=0, chief=["c:1"]))
    assert cluster_from_environment() == {"workers": 3, "rank": 1, "type": "worker", "index": 0, "chief": False}
    monkeypatch.setenv("TF_CONFIG", tf_config(["a:1"], kind="chief", index=0, chief=["c:1"]))
    assert cluster_from_environment()["chief"] and cluster_from_environment()["rank"] == 0


@pytest.mark.parametrize("text, match", [("{not json", "not a cluster description"),
                                         ('{"task": {"type": "worker", "index": 0}}', "not a cluster description"),
                                         (tf_config(["a:1", "b:1"], index=2), "not in its cluster")])
def test_a_bad_tf_config_is_a_clear_error(monkeypatch, text, match, capsys, tmp_path):
    monkeypatch.setenv("TF_CONFIG", text)
    with pytest.raises(ModelError, match=match):
        cluster_from_environment()
    assert cli.main(["train", "--store", str(tmp_path), "--out", str(tmp_path / "m")]) == 2
    assert "TF_CONFIG" in capsys.readouterr().err


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


def test_two_workers_on_loopback_train_in_step_and_only_the_chief_writes(store, tmp_path):
    workers = [f"127.0.0.1:{p}" for p in _free_ports(2)]
    script = textwrap.dedent(f"""
        import json, sys
        import numpy as np
        from auditory_deepdream.training import TrainConfig, strategy_from_environment, train
        strategy = strategy_from_environment()
        from auditory_deepdream.dataset import FeatureStore
        result = train(FeatureStore({str(store.path)!r}), hp={{"width": 0.25, "dense_units": 16}},
                       config=TrainConfig(epochs=2, batch_size=32, verbose=0, op_determinism=False),
                       strategy=strategy, log_dir={str(tmp_path / "logs")!r})
        np.savez(sys.argv[1], *result.model.get_weights())
        print(json.dumps({{"replicas": strategy.num_replicas_in_sync, "history": result.history.to_dict("list"),
                          "test_accuracy": result.test_accuracy}}))
    """)
    procs = []
    for index in range(2):
        env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", "TF_CONFIG": tf_config(workers, index=index)}
        procs.append(subprocess.Popen([sys.executable, "-c", script, str(tmp_path / f"w{index}.npz")],
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env))
    outs = []
    for proc in procs:
        stdout, stderr = proc.communicate(timeout=400)
        assert proc.returncode == 0, stderr[-3000:]
        outs.append(json.loads(stdout.strip().splitlines()[-1]))
    chief, worker = outs
    assert chief["replicas"] == worker["replicas"] == 2
    assert chief["history"] == worker["history"]  # the same all-reduced logs on both workers
    assert len(chief["history"]["loss"]) == 2 and chief["history"]["loss"][1] < chief["history"]["loss"][0]
    assert chief["test_accuracy"] == worker["test_accuracy"]
    a, b = np.load(tmp_path / "w0.npz"), np.load(tmp_path / "w1.npz")
    assert all(np.array_equal(a[k], b[k]) for k in a.files)  # gradients were summed over both workers
    logged = pd.read_csv(tmp_path / "logs" / "history" / "model_0.csv")
    assert logged["loss"].tolist() == pytest.approx(chief["history"]["loss"])
    assert len(pd.read_csv(tmp_path / "logs" / "aim_runs.csv")) == 1  # the other worker wrote nothing
