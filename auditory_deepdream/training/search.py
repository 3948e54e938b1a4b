"""Bayesian hyper-parameter search over a model builder (dissertation section 3.7).

Each trial builds a model from suggested hyper-parameters, trains it with early stopping
and a best-epoch checkpoint, reloads the best epoch, evaluates it on the test split and
returns the test accuracy to the optimiser (``bayes_opt`` 3.x). All logs of
:func:`auditory_deepdream.training.train` land in one ``log_dir``; ``aim up --repo
<log_dir>/aim`` shows every trial's curves.

Resuming: a trial counts as finished once its row is in ``evaluation.csv``. Rerunning
:func:`search` with the same ``log_dir`` re-registers finished trials from
``hyperparameters.csv`` and ``evaluation.csv`` (no retraining) and runs only the rest.
Trial ``k``'s suggestion depends only on the seed, ``k`` and the results of trials
``0..k-1``, so a resumed search proposes exactly what an uninterrupted one would have.

Parallel: ``search(..., parallel=k)`` runs trials in rounds of ``k`` on a Dask cluster (a
local one by default, or any ``distributed.Client``); the trials of a round are proposed
together by a constant liar and know the results of every earlier round. The same seed
and ``k`` give the same search, and resuming works as above.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from ..atomic import write_json_atomic
from ..cluster import dask_client, run_jobs
from ..dataset import FeatureStore
from ..errors import ModelError
from ..extras import require
from .config import TrainConfig
from .fit import model_hp, train

__all__ = ["SEARCH_BOUNDS", "ACQUISITIONS", "TRAIN_PARAMS", "search", "propose_round", "params_to_hp",
           "hp_to_params", "read_logs"]

# Keys starting with "log10_" are searched on a log scale and passed to the builder as 10**value;
# (low, high, int) bounds are integer parameters.
SEARCH_BOUNDS: dict[str, dict[str, tuple]] = {
    "conv_blocks": {"blocks_stage1": (1, 2, int), "blocks_stage2": (1, 2, int),
                    "blocks_stage3": (1, 3, int), "blocks_stage4": (1, 2, int),
                    "dropout": (0.0, 0.5), "log10_learning_rate": (-3.7, -2.5)},
    "vgg_like": {"n_stages": (2, 4, int), "base_filters": (8, 32, int), "conv_dropout": (0.0, 0.3),
                 "dropout": (0.0, 0.5), "log10_learning_rate": (-3.7, -2.5)},
    "timbre": {"timbre_filters": (16, 96, int), "time_kernel": (1, 5, int), "n_time_convs": (1, 3, int),
               "dropout": (0.0, 0.5), "log10_learning_rate": (-3.7, -2.5)},
    "freq_preserving": {"n_stages": (2, 4, int), "base_filters": (8, 32, int), "dropout": (0.0, 0.5),
                        "log10_learning_rate": (-3.7, -2.5)},
}

ACQUISITIONS = ("ucb", "ei", "poi")

# Searchable training options: a bound with one of these names sets the trial's TrainConfig
# field instead of a builder hyper-parameter (it is logged with the hyper-parameters).
TRAIN_PARAMS = ("augment_strength",)


def params_to_hp(params: dict) -> dict:
    """Optimiser parameters to builder hyper-parameters (``log10_x`` becomes ``x = 10**value``)."""
    hp = {}
    for key, value in params.items():
        if key.startswith("log10_"):
            hp[key.removeprefix("log10_")] = float(10.0 ** float(value))
        else:
            hp[key] = int(value) if isinstance(value, (int, np.integer)) else float(value)
    return hp


def hp_to_params(hp: dict, bounds: dict) -> dict:
    """Builder hyper-parameters back to optimiser parameters (inverse of :func:`params_to_hp`)."""
    params = {}
    for key, bound in bounds.items():
        name = key.removeprefix("log10_")
        if name not in hp or pd.isna(hp[name]):
            raise ModelError(f"Logged hyper-parameters lack {name!r}; the log does not match this search.")
        value = math.log10(float(hp[name])) if key.startswith("log10_") else hp[name]
        params[key] = int(round(float(value))) if len(bound) == 3 and bound[2] is int else float(value)
    return params


def _bayes_opt():
    return require("bayes_opt", extra="train", needed_for="The Bayesian search")


def _acquisition(name: str):
    acquisition = _bayes_opt().acquisition

    if name == "ucb":
        return acquisition.UpperConfidenceBound(kappa=2.576)
    if name == "ei":
        return acquisition.ExpectedImprovement(xi=0.01)
    if name == "poi":
        return acquisition.ProbabilityOfImprovement(xi=0.01)
    raise ModelError(f"Unknown acquisition {name!r}; choose one of {ACQUISITIONS}.")


def _optimizer(bounds: dict, acquisition, random_state):
    BayesianOptimization = _bayes_opt().BayesianOptimization

    with warnings.catch_warnings():  # bayes_opt flags its (working) integer parameters as experimental
        warnings.filterwarnings("ignore", message="Non-float parameters")
        return BayesianOptimization(f=None, pbounds=bounds, acquisition_function=acquisition,
                                    random_state=random_state, verbose=0, allow_duplicate_points=True)


def _propose(k: int, done: list[tuple[dict, float]], *, bounds: dict, init_points: int, seed: int,
             acquisition: str) -> dict:
    """Trial ``k``'s parameters: random for the first ``init_points``, then the acquisition's argmax."""
    optimizer = _optimizer(bounds, _acquisition(acquisition), np.random.RandomState([seed, k]))
    if k < init_points or not done:
        return optimizer.random_sample(1)[0]
    for params, target in done:
        optimizer.register(params=params, target=target)
    return optimizer.suggest()


def propose_round(trials: list[int], done: list[tuple[dict, float]], *, bounds: dict, init_points: int,
                  seed: int, acquisition: str) -> dict[int, dict]:
    """Parameters for trials that run at the same time, knowing only the trials before them.

    Random trials (below ``init_points``, or before any result exists) draw as in a serial
    search. The others are successive suggestions of a constant liar (bayes_opt's
    :class:`~bayes_opt.acquisition.ConstantLiar`): each pending suggestion counts as a
    result equal to the best so far, so the batch spreads out instead of repeating one
    point. A round of one trial proposes exactly what :func:`search` would serially.

    Parameters
    ----------
    trials : list of int
        The round's trial ids, ascending.
    done : list of (params, accuracy)
        Results of every trial before the round.

    Returns
    -------
    dict
        Trial id -> optimiser parameters. Depends only on ``seed``, the ids and ``done``.
    """
    ConstantLiar = _bayes_opt().acquisition.ConstantLiar

    guided = [k for k in trials if k >= init_points and done]
    proposals = {k: _propose(k, done, bounds=bounds, init_points=init_points, seed=seed,
                             acquisition=acquisition) for k in trials if k not in guided}
    if len(guided) == 1:
        proposals[guided[0]] = _propose(guided[0], done, bounds=bounds, init_points=init_points, seed=seed,
                                        acquisition=acquisition)
    elif guided:
        optimizer = _optimizer(bounds, ConstantLiar(_acquisition(acquisition), strategy="max"),
                               np.random.RandomState([seed, guided[0]]))
        for params, target in done:
            optimizer.register(params=params, target=target)
        for k in guided:
            proposals[k] = optimizer.suggest()
    return {k: proposals[k] for k in trials}


def read_logs(log_dir) -> pd.DataFrame:
    """Finished trials of a search: ``evaluation.csv`` joined with ``hyperparameters.csv``,
    best accuracy first (empty if nothing finished)."""
    log_dir = Path(log_dir)
    if not (log_dir / "evaluation.csv").is_file():
        return pd.DataFrame()
    evaluation = pd.read_csv(log_dir / "evaluation.csv")
    hps = pd.read_csv(log_dir / "hyperparameters.csv")
    return (evaluation.merge(hps, on="model_id", how="left")
            .sort_values(["accuracy", "model_id"], ascending=[False, True]).reset_index(drop=True))


def _run_trial(store_path: str, *, model_id: int, builder: str, hp: dict, config: TrainConfig, log_dir: str,
               experiment: str, callbacks=None) -> tuple[dict, float]:
    """Train trial ``model_id`` (in this process or on a cluster worker) and return its hp and score."""
    options = {k: hp[k] for k in TRAIN_PARAMS if k in hp}
    model_hps = {k: v for k, v in hp.items() if k not in options}
    result = train(FeatureStore(store_path), builder=builder, hp=model_hps,
                   config=dataclasses.replace(config, **options), log_dir=log_dir,
                   model_id=model_id, experiment=experiment, callbacks=callbacks(model_id) if callbacks else ())
    return {**result.hp, **options}, result.test_accuracy


def _check_plan(log_dir: Path, plan: dict, n_trials: int) -> None:
    """Refuse a log folder that holds another search; record this one's plan."""
    plan_file = log_dir / "search.json"
    if plan_file.is_file():
        old = json.loads(plan_file.read_text())
        old.setdefault("parallel", 1)  # logs written before parallel searches existed
        if isinstance(old.get("config"), dict):  # options added since the logs were written had their defaults
            defaults = json.loads(json.dumps(TrainConfig().to_dict(), default=str))
            old["config"] = {**{k: v for k, v in defaults.items() if k in plan["config"]}, **old["config"]}
        stale = [k for k in plan if old.get(k) != json.loads(json.dumps(plan[k], default=str))]
        if stale:
            raise ModelError(f"{log_dir} holds a different search (differs in {stale}). Use a new "
                             "log folder, or rerun with the same options to resume it.")
    write_json_atomic(plan_file, {**plan, "n_trials": n_trials})


def search(store: FeatureStore, *, builder: str, log_dir, n_trials: int = 10, init_points: int = 3,
           bounds: dict | None = None, fixed: dict | None = None, config: TrainConfig = TrainConfig(),
           acquisition: str = "ucb", callbacks=None, parallel: int = 1, client=None) -> pd.DataFrame:
    """Run (or resume) a Bayesian search, one trial at a time or ``parallel`` at once.

    Parameters
    ----------
    store : FeatureStore
        Training data with ``train``/``valid``/``test`` splits.
    builder : str
        Model builder name (a key of :data:`SEARCH_BOUNDS` unless ``bounds`` is given).
    log_dir : path-like
        Where every trial's logs go; rerun with the same folder to resume. With a cluster,
        it and the store must be on a file system every worker sees.
    n_trials : int
        Total trials (finished ones included).
    init_points : int
        Random trials before the Gaussian-process suggestions start.
    bounds : dict, optional
        ``{param: (low, high)}`` or ``(low, high, int)``; default ``SEARCH_BOUNDS[builder]``.
        Names in :data:`TRAIN_PARAMS` (``augment_strength``) set the trial's
        :class:`TrainConfig` field instead of a hyper-parameter.
    fixed : dict, optional
        Hyper-parameters held constant in every trial (e.g. ``{"width": 0.5}``).
    config : TrainConfig
        Training settings; trial ``k`` uses seed ``config.seed + k``.
    acquisition : {'ucb', 'ei', 'poi'}
    callbacks : callable, optional
        ``callbacks(model_id) -> list of keras callbacks`` added to each trial's ``fit``
        (pickled to the workers of a parallel search).
    parallel : int
        Trials that run at once. Trials go in rounds of ``parallel``; a round's proposals
        (:func:`propose_round`) depend only on the seed, ``parallel`` and the rounds before,
        so a search is reproducible for a seed and ``parallel`` and resumes exactly.
    client : distributed.Client, optional
        The Dask cluster that runs the trials (default: a local cluster of ``parallel``
        worker processes when ``parallel > 1``, else this process; see
        :func:`auditory_deepdream.cluster.dask_client`).

    Returns
    -------
    pd.DataFrame
        :func:`read_logs` of the finished search.

    Raises
    ------
    ModelError
        Bad bounds, builder or counts, a log folder holding another search, or a failed trial
        (finished trials stay logged: rerun to resume).
    ClusterError
        The cluster cannot be reached, or a trial kept killing its workers.
    """
    bounds = dict(bounds or SEARCH_BOUNDS.get(builder) or {})
    if not bounds:
        raise ModelError(f"No search bounds for builder {builder!r}; pass bounds= or use one of "
                         f"{sorted(SEARCH_BOUNDS)}.")
    if init_points < 1 or n_trials < 1 or parallel < 1:
        raise ModelError("n_trials, init_points and parallel must be at least 1.")
    _acquisition(acquisition)
    model_hp(builder, fixed, len(store.classes))  # rejects an unknown builder before any work
    log_dir = Path(log_dir)
    plan = {"builder": builder, "bounds": {k: [v[0], v[1], "int" if len(v) == 3 else "float"]
                                           for k, v in sorted(bounds.items())},
            "fixed": fixed or {}, "init_points": init_points, "seed": config.seed,
            "acquisition": acquisition, "config": {**config.to_dict(), "verbose": None},
            "settings": store.settings.to_dict(), "classes": store.classes, "parallel": parallel}
    _check_plan(log_dir, plan, n_trials)

    results: dict[int, tuple[dict, float]] = {
        int(row["model_id"]): (hp_to_params(row, bounds), float(row["accuracy"]))
        for _, row in read_logs(log_dir).iterrows()}
    trial = functools.partial(_run_trial, str(store.path), builder=builder, config=config,
                              log_dir=str(log_dir), experiment=f"search-{builder}", callbacks=callbacks)
    with contextlib.ExitStack() as stack:
        if client is None and parallel == 1:
            run_round = _serial_round
        else:
            run_round = functools.partial(_cluster_round,
                                          client or stack.enter_context(dask_client(n_workers=parallel)))
        bar = stack.enter_context(tqdm(total=n_trials, desc=f"search {builder}", unit="trial",
                                       initial=len([k for k in results if k < n_trials])))
        for start in range(0, n_trials, parallel):
            ids = list(range(start, min(start + parallel, n_trials)))
            if all(k in results for k in ids):
                continue
            done = [results[i] for i in sorted(results) if i < start]
            proposals = propose_round(ids, done, bounds=bounds, init_points=init_points, seed=config.seed,
                                      acquisition=acquisition)
            pending = {k: {**(fixed or {}), **params_to_hp(proposals[k])} for k in ids if k not in results}
            for k, (hp, accuracy) in run_round(trial, pending, config):
                results[k] = (hp_to_params(hp, bounds), accuracy)
                bar.update(1)
                bar.set_postfix(best=max(acc for _, acc in results.values()))
    return read_logs(log_dir)


def _trial_config(config: TrainConfig, k: int) -> TrainConfig:
    return dataclasses.replace(config, seed=config.seed + k)


def _serial_round(trial, pending: dict[int, dict], config: TrainConfig):
    for k, hp in pending.items():
        yield k, trial(model_id=k, hp=hp, config=_trial_config(config, k))


def _cluster_round(client, trial, pending: dict[int, dict], config: TrainConfig):
    jobs = {k: {"model_id": k, "hp": hp, "config": _trial_config(config, k)} for k, hp in pending.items()}
    yield from run_jobs(client, trial, jobs, name="trial")
