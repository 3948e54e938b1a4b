"""Run logs: CSV rows replaced by key, atomically."""

import pandas as pd

from auditory_deepdream.training import upsert_csv


def test_upsert_replaces_the_row_with_the_same_key_and_sorts(tmp_path):
    path = tmp_path / "evaluation.csv"
    upsert_csv(path, {"model_id": 2, "accuracy": 0.5})
    upsert_csv(path, {"model_id": 0, "accuracy": 0.1})
    upsert_csv(path, {"model_id": 2, "accuracy": 0.9})
    frame = pd.read_csv(path)
    assert frame["model_id"].tolist() == [0, 2]
    assert frame["accuracy"].tolist() == [0.1, 0.9]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".locks", "evaluation.csv"]  # no temporary file left


def test_parallel_writers_lose_no_rows(tmp_path):
    from concurrent.futures import ProcessPoolExecutor

    path = tmp_path / "hyperparameters.csv"
    with ProcessPoolExecutor(2) as pool:
        list(pool.map(_upsert_one, [path] * 16, range(16)))
    assert pd.read_csv(path)["model_id"].tolist() == list(range(16))


def _upsert_one(path, k):
    upsert_csv(path, {"model_id": k, "accuracy": k / 16})
