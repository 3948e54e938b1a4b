"""MagnaTagATune and Million Song Dataset tag names that name the same thing (no TensorFlow).

musicnn's MTT taggers and its MSD taggers answer in two vocabularies of 50 tags each: MTT's
are instruments, voices, moods and a few genres (``female vocal``, ``piano``, ``techno``);
MSD's are last.fm genres, eras and vocalist genders (``female vocalists``, ``electronica``,
``80s``). ``data/tag_pairs.csv`` pairs the tags that name the same sound or genre, one row a
pair, many to many: ``electronic`` is MSD's ``electronic`` and ``electronica``, and MTT's
``female vocal``, ``female voice``, ``female`` and ``woman`` are all MSD's
``female vocalists``. ``relation`` is ``same`` (the two names mean one thing) or ``close``
(the MSD genre is broader: ``techno`` and ``electronic``).

:func:`counterparts` gives a tag's names in the other vocabulary, and :func:`tag_map` the
matrix that carries one tagger's logits into another's tags, as a cross-data
:class:`~auditory_deepdream.dreamer.Ensemble` needs.
"""

from __future__ import annotations

import csv
from functools import lru_cache
from importlib import resources

import numpy as np

from ..errors import ModelError

__all__ = ["RELATIONS", "TagPair", "counterparts", "tag_map", "tag_pairs"]

RELATIONS = ("same", "close")


class TagPair(tuple):
    """One row of the table: ``(mtt, msd, relation)``."""

    __slots__ = ()

    def __new__(cls, mtt: str, msd: str, relation: str):
        return super().__new__(cls, (mtt, msd, relation))

    mtt = property(lambda self: self[0])
    msd = property(lambda self: self[1])
    relation = property(lambda self: self[2])


@lru_cache(maxsize=1)
def tag_pairs() -> tuple[TagPair, ...]:
    """Every row of ``auditory_deepdream/data/tag_pairs.csv``, in file order."""
    path = resources.files("auditory_deepdream") / "data" / "tag_pairs.csv"
    with path.open(newline="") as f:
        rows = tuple(TagPair(r["mtt"], r["msd"], r["relation"]) for r in csv.DictReader(f))
    bad = [r for r in rows if r.relation not in RELATIONS]
    if bad:
        raise ModelError(f"tag_pairs.csv: relation must be one of {RELATIONS}, got {bad[0]!r}.")
    return rows


def counterparts(tag: str, *, relations=RELATIONS) -> list[str]:
    """The tags of the other vocabulary that name ``tag``, in table order.

    Parameters
    ----------
    tag : str
        An MTT or an MSD tag (a name in both, such as ``rock``, gives its pairs from both sides).
    relations : iterable of str
        Which rows count (default: ``same`` and ``close``).

    Returns
    -------
    names : list of str
        Empty when the table pairs ``tag`` with nothing (``piano``: MSD has no instruments
        but the guitar).
    """
    relations = set(relations)
    out = [r.msd for r in tag_pairs() if r.mtt == tag and r.relation in relations]
    out += [r.mtt for r in tag_pairs() if r.msd == tag and r.relation in relations]
    return list(dict.fromkeys(out))


def tag_map(lead_classes, member_classes, *, relations=RELATIONS) -> np.ndarray:
    """The weights that carry a member tagger's logits into the lead's tags.

    Column *j* averages the member's logits of the tags that name the lead's tag *j*: the
    tag itself when the member has it, else its :func:`counterparts`. ``logits_member @
    tag_map(...)`` is then ``(batch, n_lead)``; a lead tag the member cannot name has a
    column of zeros.

    Parameters
    ----------
    lead_classes, member_classes : sequence of str
    relations : iterable of str
        Which rows of the table count.

    Returns
    -------
    weights : np.ndarray [shape=(n_member, n_lead), dtype=float32]
        Each column sums to 1 or is all zero.
    """
    member = {t: i for i, t in enumerate(member_classes)}
    weights = np.zeros((len(member_classes), len(lead_classes)), np.float32)
    for j, tag in enumerate(lead_classes):
        names = [tag] if tag in member else [t for t in counterparts(tag, relations=relations) if t in member]
        for name in names:
            weights[member[name], j] = 1.0 / len(names)
    return weights
