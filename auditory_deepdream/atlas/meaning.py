"""A measure of meaning: does a filter's dream raise the family its natural examples are?

For each filter of a classifier, two families are compared: the one whose logit the filter's
dream raises most, and the one most of its top-k natural examples belong to. Their agreement
rate is reported per layer and overall against a permutation baseline: the same families with
the pairing between filters shuffled within each layer, so a layer whose filters all point to
one family gets no credit for it.
"""

from __future__ import annotations

from collections import Counter

import numpy as np

__all__ = ["dominant", "family_pairs", "agreement"]


def dominant(families) -> str:
    """The most common family (ties: the one seen first, i.e. the higher-ranked example)."""
    counts = Counter(families)
    best = max(counts.values())
    return next(f for f in families if counts[f] == best)


def family_pairs(records, examples: dict) -> dict:
    """Per layer, each filter's (family its dream raises most, family most of its examples belong to).

    ``records`` are the atlas's unit records (``units/*.json``: ``layer`` and ``filters``, each with
    ``index`` and ``raises``), ``examples`` its ``examples.json`` (``top`` and ``rows``).
    """
    pairs: dict = {}
    for rec in records:
        for f in rec["filters"]:
            shown = [examples["rows"][str(r)]["family"] for r in examples["top"][rec["layer"]][f["index"]]]
            pairs.setdefault(rec["layer"], []).append((f["raises"][0][0], dominant(shown)))
    return pairs


def agreement(pairs: dict, *, permutations: int = 2000, seed: int = 0) -> dict:
    """Agreement of dreamed and exemplified families, per layer and overall, with its baseline.

    Parameters
    ----------
    pairs : dict of str to list of (str, str)
        Layer -> ``(family the dream raises most, family of most natural examples)`` per filter.
    permutations : int
        Shuffles of the pairing (within each layer) that make the baseline.
    seed : int

    Returns
    -------
    report : dict
        ``layers`` (each ``filters``, ``agreement``, ``baseline_mean``, ``baseline_p95``, ``p_value``)
        and ``overall`` (the same over every filter). ``p_value`` is the share of shuffles that agree
        at least as often as the real pairing (one-sided, with the real pairing counted).
    """
    rng = np.random.default_rng(seed)
    report, all_real, all_shuffled = {}, 0, np.zeros(permutations)
    n_all = 0
    for layer, items in pairs.items():
        dreamed = np.array([d for d, _ in items])
        shown = np.array([e for _, e in items])
        real = int(np.sum(dreamed == shown))
        shuffled = np.array([np.sum(dreamed == rng.permutation(shown)) for _ in range(permutations)], float)
        report[layer] = _row(real, shuffled, len(items))
        all_real += real
        all_shuffled += shuffled
        n_all += len(items)
    return {"layers": report, "overall": _row(all_real, all_shuffled, n_all), "permutations": permutations,
            "seed": seed}


def _row(real: int, shuffled: np.ndarray, n: int) -> dict:
    n = max(n, 1)
    return {"filters": int(n), "agreement": round(real / n, 4),
            "baseline_mean": round(float(shuffled.mean()) / n, 4),
            "baseline_p95": round(float(np.percentile(shuffled, 95)) / n, 4),
            "p_value": round(float((1 + np.sum(shuffled >= real)) / (1 + len(shuffled))), 4)}
