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
"""

from __future__ import annotations

import json
import math
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
from tqdm.auto import tqdm

from .errors import ModelError
from .atomic import write_json_atomic
from .store import FeatureStore
from .training import TrainConfig, model_hp, train

__all__ = ["SEARCH_BOUNDS", "ACQUISITIONS", "search", "params_to_hp", "hp_to_params", "read_logs"]

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


def _acquisition(name: str):
    from bayes_opt import acquisition

    if name == "ucb":
        return acquisition.UpperConfidenceBound(kappa=2.576)
    if name == "ei":
        return acquisition.ExpectedImprovement(xi=0.01)
    if name == "poi":
        return acquisition.ProbabilityOfImprovement(xi=0.01)
    raise ModelError(f"Unknown acquisition {name!r}; choose one of {ACQUISITIONS}.")


def _propose(k: int, done: list[tuple[dict, float]], *, bounds: dict, init_points: int, seed: int,
             acquisition: str) -> dict:
    """Trial ``k``'s parameters: random for the first ``init_points``, then the acquisition's argmax."""
    from bayes_opt import BayesianOptimization

    with warnings.catch_warnings():  # bayes_opt flags its (working) integer parameters as experimental
        warnings.filterwarnings("ignore", message="Non-float parameters")
        optimizer = BayesianOptimization(f=None, pbounds=bounds, acquisition_function=_acquisition(acquisition),
                                         random_state=np.random.RandomState([seed, k]), verbose=0,
                                         allow_duplicate_points=True)
    if k < init_points or not done:
        return optimizer.random_sample(1)[0]
    for params, target in done:
        optimizer.register(params=params, target=target)
    return optimizer.suggest()


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


def search(store: FeatureStore, *, builder: str, log_dir, n_trials: int = 10, init_points: int = 3,
           bounds: dict | None = None, fixed: dict | None = None, config: TrainConfig = TrainConfig(),
           acquisition: str = "ucb", experiment: str | None = None, strategy=None,
           callbacks=None) -> pd.DataFrame:
    """Run (or resume) a Bayesian search.

    Parameters
    ----------
    store : FeatureStore
        Training data with ``train``/``valid``/``test`` splits.
    builder : str
        Model builder name (a key of :data:`SEARCH_BOUNDS` unless ``bounds`` is given).
    log_dir : path-like
        Where every trial's logs go; rerun with the same folder to resume.
    n_trials : int
        Total trials (finished ones included).
    init_points : int
        Random trials before the Gaussian-process suggestions start.
    bounds : dict, optional
        ``{param: (low, high)}`` or ``(low, high, int)``; default ``SEARCH_BOUNDS[builder]``.
    fixed : dict, optional
        Hyper-parameters held constant in every trial (e.g. ``{"width": 0.5}``).
    config : TrainConfig
        Training settings; trial ``k`` uses seed ``config.seed + k``.
    acquisition : {'ucb', 'ei', 'poi'}
    experiment : str, optional
        Aim experiment name (default ``search-<builder>``).
    strategy : tf.distribute.Strategy, optional
        Passed to :func:`~auditory_deepdream.training.train`.
    callbacks : callable, optional
        ``callbacks(model_id) -> list of keras callbacks`` added to each trial's ``fit``.

    Returns
    -------
    pd.DataFrame
        :func:`read_logs` of the finished search.
    """
    bounds = dict(bounds or SEARCH_BOUNDS.get(builder) or {})
    if not bounds:
        raise ModelError(f"No search bounds for builder {builder!r}; pass bounds= or use one of "
                         f"{sorted(SEARCH_BOUNDS)}.")
    if init_points < 1 or n_trials < 1:
        raise ModelError("n_trials and init_points must be at least 1.")
    _acquisition(acquisition)
    model_hp(builder, fixed, len(store.classes))  # rejects an unknown builder before any work
    log_dir = Path(log_dir)
    plan = {"builder": builder, "bounds": {k: [v[0], v[1], "int" if len(v) == 3 else "float"]
                                           for k, v in sorted(bounds.items())},
            "fixed": fixed or {}, "init_points": init_points, "seed": config.seed,
            "acquisition": acquisition, "config": {**config.to_dict(), "verbose": None},
            "settings": store.settings.to_dict(), "classes": store.classes}
    plan_file = log_dir / "search.json"
    if plan_file.is_file():
        old = json.loads(plan_file.read_text())
        stale = [k for k in plan if old.get(k) != json.loads(json.dumps(plan[k], default=str))]
        if stale:
            raise ModelError(f"{log_dir} holds a different search (differs in {stale}). Use a new "
                             "log folder, or rerun with the same options to resume it.")
    write_json_atomic(plan_file, {**plan, "n_trials": n_trials})

    finished = read_logs(log_dir)
    results: dict[int, tuple[dict, float]] = {
        int(row["model_id"]): (hp_to_params(row, bounds), float(row["accuracy"]))
        for _, row in finished.iterrows()}
    experiment = experiment or f"search-{builder}"
    bar = tqdm(range(n_trials), desc=f"search {builder}", unit="trial", initial=0)
    for k in bar:
        if k in results:
            continue
        done = [results[i] for i in sorted(results) if i < k]
        params = _propose(k, done, bounds=bounds, init_points=init_points, seed=config.seed,
                          acquisition=acquisition)
        hp = {**(fixed or {}), **params_to_hp(params)}
        trial_config = TrainConfig(**{**config.to_dict(), "seed": config.seed + k})
        result = train(store, builder=builder, hp=hp, config=trial_config, log_dir=log_dir, model_id=k,
                       experiment=experiment, strategy=strategy,
                       callbacks=callbacks(k) if callbacks else ())
        results[k] = (hp_to_params(result.hp, bounds), result.test_accuracy)
        bar.set_postfix(best=max(acc for _, acc in results.values()))
    return read_logs(log_dir)
