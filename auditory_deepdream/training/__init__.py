"""Training: fit one model, score it, write its card, log every run, search hyper-parameters.

========================  ==================================================================
module                    what it holds
========================  ==================================================================
``config``                :class:`TrainConfig` (frozen) and :class:`TrainResult`
``fit``                   :func:`train`: build, fit with early stopping, reload the best epoch
``callbacks``             epoch log, best-epoch checkpoint, time budget
``evaluate``              :func:`evaluate` (segments, note votes, every segment), confusion plot
``card``                  :func:`export_model`: the model directory and its card
``ensemble_card``         :func:`export_ensemble`: trained models averaged, in one folder with its card
``runlog``                the per-run CSV, architecture, checkpoint and Aim logs
``multiworker``           training across machines from ``TF_CONFIG``
``search``                :func:`search`: Bayesian search over a builder, resumable
========================  ==================================================================
"""

from .card import card_markdown, export_model, model_card
from .config import TrainConfig, TrainResult
from .ensemble_card import ensemble_card, export_ensemble
from .evaluate import evaluate, note_votes, plot_confusion, predict_rows
from .fit import model_hp, seed_everything, train
from .multiworker import cluster_from_environment, is_chief, strategy_from_environment
from .runlog import RunLog, upsert_csv
from .search import (
    ACQUISITIONS,
    SEARCH_BOUNDS,
    hp_to_params,
    params_to_hp,
    propose_round,
    read_logs,
    search,
)

__all__ = [
    "TrainConfig", "TrainResult", "train", "model_hp", "seed_everything",
    "evaluate", "note_votes", "plot_confusion", "predict_rows",
    "export_model", "model_card", "card_markdown", "export_ensemble", "ensemble_card",
    "RunLog", "upsert_csv",
    "strategy_from_environment", "cluster_from_environment", "is_chief",
    "search", "propose_round", "SEARCH_BOUNDS", "ACQUISITIONS", "params_to_hp", "hp_to_params", "read_logs",
]
