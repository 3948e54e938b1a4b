"""Keras callbacks of a training run: epoch log, best-epoch checkpoint, time budget."""

from __future__ import annotations

import time
from pathlib import Path

import keras
import numpy as np
import pandas as pd

from ..atomic import save_keras_atomic, write_csv_atomic
from ..errors import ModelError

__all__ = ["EpochLogger", "BestCheckpoint", "TimeBudget", "monitor_mode"]


def monitor_mode(monitor: str) -> str:
    """``"max"`` for accuracy-like metrics, ``"min"`` for losses."""
    return "max" if "acc" in monitor else "min"


class EpochLogger(keras.callbacks.Callback):
    """Per epoch: one history row (metrics and learning rate), written atomically and sent to Aim.

    Parameters
    ----------
    history_path : path-like, optional
        CSV rewritten after every epoch.
    runlog : RunLog, optional
        Receives each row for Aim.
    """

    def __init__(self, history_path: Path | None = None, runlog=None):
        super().__init__()
        self.history_path = history_path
        self.runlog = runlog
        self.rows: list[dict] = []

    def on_epoch_end(self, epoch, logs=None):
        lr = float(keras.ops.convert_to_numpy(self.model.optimizer.learning_rate))
        row = {"epoch": epoch, **{k: float(v) for k, v in (logs or {}).items() if k != "learning_rate"},
               "learning_rate": lr}
        self.rows.append(row)
        if self.history_path is not None:
            write_csv_atomic(self.history_path, pd.DataFrame(self.rows))
        if self.runlog is not None:
            self.runlog.track_epoch(row)


class BestCheckpoint(keras.callbacks.Callback):
    """Save the model atomically whenever the monitored validation metric improves."""

    def __init__(self, path: Path, monitor: str):
        super().__init__()
        self.path, self.monitor = Path(path), monitor
        self.sign = 1.0 if monitor_mode(monitor) == "max" else -1.0
        self.best = -np.inf
        self.best_epoch = -1

    def on_epoch_end(self, epoch, logs=None):
        value = (logs or {}).get(self.monitor)
        if value is None:
            raise ModelError(f"Checkpoint monitor {self.monitor!r} is not among the metrics {sorted(logs or {})}.")
        if self.sign * float(value) > self.best:
            self.best, self.best_epoch = self.sign * float(value), epoch
            save_keras_atomic(self.model, self.path)


class TimeBudget(keras.callbacks.Callback):
    """Stop training at the end of the epoch during which ``seconds`` have passed since ``started``."""

    def __init__(self, seconds: float, started: float):
        super().__init__()
        self.seconds, self.started = float(seconds), started
        self.stopped_epoch: int | None = None

    def on_epoch_end(self, epoch, logs=None):
        if time.perf_counter() - self.started >= self.seconds:
            self.stopped_epoch = epoch
            self.model.stop_training = True
