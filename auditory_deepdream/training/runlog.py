"""The run logs of one training run (the dissertation's section 3.7), kept per model id.

With a ``log_dir``, :func:`~auditory_deepdream.training.train` leaves::

    hyperparameters.csv          one row per model id
    evaluation.csv               model_id, loss, accuracy (+ val accuracy, best epoch, seconds)
    architecture/model_<id>.json Keras architecture JSON
    architecture/model_<id>.txt  printed model summary
    checkpoints/model_<id>.keras best epoch
    history/model_<id>.csv       per-epoch metrics and learning rate
    aim/                         Aim repository (``aim up --repo <log_dir>/aim``)
    aim_runs.csv                 model_id -> Aim run hash
    .locks/                      lock files that keep parallel trials from overwriting each other

Every file is written atomically (temporary file, then rename), so a killed run leaves
each file either as it was or complete.
"""

from __future__ import annotations

import contextlib
import json
from pathlib import Path

import keras
import pandas as pd
from filelock import FileLock

from ..atomic import write_csv_atomic, write_text_atomic
from ..extras import require

__all__ = ["RunLog", "upsert_csv"]


def _lock(folder: Path, name: str) -> FileLock:
    """An inter-process lock on ``name`` in ``folder`` (its lock files live in ``folder/.locks``)."""
    locks = Path(folder) / ".locks"
    locks.mkdir(parents=True, exist_ok=True)
    return FileLock(locks / f"{name}.lock")


def upsert_csv(path, row: dict, *, key: str = "model_id") -> pd.DataFrame:
    """Replace (or add) the row with ``row[key]`` in a CSV, sorted by ``key``, atomically.

    A lock file beside the CSV serialises writers, so parallel trials (other processes,
    other machines on a shared file system) never lose each other's rows.
    """
    path = Path(path)
    with _lock(path.parent, path.name):
        old = pd.read_csv(path) if path.is_file() else pd.DataFrame()
        if len(old) and key in old:
            old = old[old[key] != row[key]]
        frame = pd.concat([old, pd.DataFrame([row])], ignore_index=True).sort_values(key)
        write_csv_atomic(path, frame)
    return frame


def _summary_text(model: keras.Model) -> str:
    """Every layer with its output shape and parameters, as plain text.

    Not ``model.summary(print_fn=...)``: Keras renders that through rich, which in a notebook
    also displays an empty output per call.
    """
    rows = [{"layer": layer.name, "type": type(layer).__name__,
             "output shape": str(tuple(layer.output.shape)),
             "params": layer.count_params()} for layer in model.layers]
    table = pd.DataFrame(rows).to_string(index=False)
    return f"Model: {model.name}\n{table}\nTotal params: {model.count_params():,}\n"


class RunLog:
    """The files and the Aim run of one model id in a log folder.

    Parameters
    ----------
    log_dir : path-like
        The folder shared by every model id of a search (or one training run).
    model_id : int
        Row key of this model in the CSV logs.
    experiment : str
        Aim experiment name.
    """

    def __init__(self, log_dir, *, model_id: int, experiment: str):
        self.log_dir = Path(log_dir)
        self.model_id = int(model_id)
        self.experiment = experiment
        self.aim_run = None

    @property
    def checkpoint(self) -> Path:
        return self.log_dir / "checkpoints" / f"model_{self.model_id}.keras"

    @property
    def history_path(self) -> Path:
        return self.log_dir / "history" / f"model_{self.model_id}.csv"

    def start(self, model: keras.Model, *, builder: str, hp: dict, config: dict, settings: dict) -> None:
        """Log the architecture and hyper-parameters and open the Aim run."""
        upsert_csv(self.log_dir / "hyperparameters.csv", {"model_id": self.model_id, "builder": builder, **hp})
        arch = self.log_dir / "architecture" / f"model_{self.model_id}"
        write_text_atomic(arch.with_suffix(".json"), json.dumps(json.loads(model.to_json()), indent=1))
        write_text_atomic(arch.with_suffix(".txt"), _summary_text(model))
        self.aim_run = self._open_aim_run()
        self.aim_run["hparams"] = {"builder": builder, "model_id": self.model_id, **hp}
        self.aim_run["train_config"] = config
        self.aim_run["audio_settings"] = settings

    def _open_aim_run(self):
        """Open this model id's Aim run, deleting a stale one left by an interrupted attempt."""
        aim = require("aim", extra="train", needed_for="Training's run log (Aim)")

        repo_path = self.log_dir / "aim"
        runs_csv = self.log_dir / "aim_runs.csv"
        # parallel trials must not create the repository at the same time (Aim then sees half of one)
        with _lock(self.log_dir, "aim"):
            if runs_csv.is_file():
                old = pd.read_csv(runs_csv)
                for run_hash in old.loc[old["model_id"] == self.model_id, "run_hash"]:
                    with contextlib.suppress(Exception):  # an unreadable stale run is simply left behind
                        aim.Repo.from_path(str(repo_path)).delete_run(str(run_hash))
            run = aim.Run(repo=str(repo_path), experiment=self.experiment, system_tracking_interval=None,
                          capture_terminal_logs=False)
        upsert_csv(runs_csv, {"model_id": self.model_id, "run_hash": run.hash})
        return run

    def track_epoch(self, row: dict) -> None:
        """Send one epoch's metrics (``val_*`` in the ``val`` subset) to Aim."""
        if self.aim_run is None:
            return
        epoch = row["epoch"]
        for name, value in row.items():
            if name == "epoch":
                continue
            subset = "val" if name.startswith("val_") else "train"
            self.aim_run.track(value, name=name.removeprefix("val_"), step=epoch, epoch=epoch,
                               context={"subset": subset})

    def finish(self, *, test: dict, val_accuracy: float, best_epoch: int, epochs_run: int,
               seconds: float) -> None:
        """Record the finished run in ``evaluation.csv``: from now on it counts as done."""
        upsert_csv(self.log_dir / "evaluation.csv", {
            "model_id": self.model_id, "loss": test["loss"], "accuracy": test["accuracy"],
            "val_accuracy": val_accuracy, "best_epoch": best_epoch, "epochs_run": epochs_run,
            "seconds": round(seconds, 1)})
        if self.aim_run is not None:
            self.aim_run["test"] = {"loss": test["loss"], "accuracy": test["accuracy"], "best_epoch": best_epoch}

    def close(self) -> None:
        if self.aim_run is not None:
            self.aim_run.close()
            self.aim_run = None
