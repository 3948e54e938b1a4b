"""The ontology: which source labels make which instrument family, and which are left out.

The curation of the dissertation's section 3.1 is a data table,
``auditory_deepdream/data/ontology.csv``, with one row per (source, label,
instrument_source) and the merged ``family`` it belongs to (empty: omitted). Copy and
edit the table to change the curation, then pass its path.
"""

from __future__ import annotations

import logging
from importlib import resources

import pandas as pd

from ..errors import DatasetError
from .soundfont import gm_programs

__all__ = ["apply_ontology", "kept_programs", "load_ontology"]

log = logging.getLogger(__name__)

_KEYS = ["source", "label", "instrument_source"]


def load_ontology(path=None) -> pd.DataFrame:
    """The ontology table: ``source, label, instrument_source, family, note``.

    Parameters
    ----------
    path : path-like, optional
        An edited copy of the table; default the bundled ``data/ontology.csv``.

    Returns
    -------
    ontology : pd.DataFrame
        ``family`` empty means the recordings are omitted.

    Raises
    ------
    DatasetError
        The file is unreadable, lacks columns, or lists a key twice.
    """
    path = path or str(resources.files("auditory_deepdream") / "data" / "ontology.csv")
    try:
        table = pd.read_csv(path, keep_default_na=False, dtype=str)
    except (OSError, ValueError) as exc:
        raise DatasetError(f"Could not read ontology table {path}: {exc}") from None
    need = {*_KEYS, "family"}
    if not need <= set(table.columns):
        raise DatasetError(f"Ontology table {path} needs columns {sorted(need)}.")
    dup = table.duplicated(_KEYS)
    if dup.any():
        raise DatasetError(f"Ontology table {path} lists these keys twice: "
                           f"{table[dup][_KEYS].values.tolist()}")
    return table


def apply_ontology(notes: pd.DataFrame, *, ontology: pd.DataFrame | None = None,
                   on_unknown: str = "error") -> pd.DataFrame:
    """Add the merged ``family`` column and drop omitted notes.

    Parameters
    ----------
    notes : pd.DataFrame
        A notes table (columns ``source``, ``label``, ``instrument_source``).
    ontology : pd.DataFrame, optional
        Default :func:`load_ontology`.
    on_unknown : {'error', 'skip'}
        Labels missing from the table raise :class:`DatasetError` or are dropped with a warning.

    Returns
    -------
    kept : pd.DataFrame
        The notes the ontology keeps, with ``family``.
    """
    ontology = load_ontology() if ontology is None else ontology
    merged = notes.merge(ontology[_KEYS + ["family"]], on=_KEYS, how="left")
    unknown = merged["family"].isna()
    if unknown.any():
        combos = sorted({tuple(r) for r in merged.loc[unknown, _KEYS].itertuples(index=False)})
        msg = (f"{int(unknown.sum())} notes have labels the ontology does not list: {combos[:10]}"
               f"{' ...' if len(combos) > 10 else ''}. Add rows (family empty to omit) to a copy of "
               "auditory_deepdream/data/ontology.csv and pass it as ontology=, or use on_unknown='skip'.")
        if on_unknown == "error":
            raise DatasetError(msg)
        log.warning(msg)
    kept = merged[~unknown & (merged["family"] != "")]
    log.info("ontology keeps %d of %d notes", len(kept), len(notes))
    return kept.reset_index(drop=True)


def kept_programs(*, ontology: pd.DataFrame | None = None, source: str = "soundfont") -> list[int]:
    """GM programs whose (family, source) the ontology keeps: the ones worth rendering.

    Parameters
    ----------
    ontology : pd.DataFrame, optional
        Default :func:`load_ontology`.
    source : str
        The ontology's ``source`` the renders are read as.

    Returns
    -------
    programs : list of int
        In GM program order.
    """
    ontology = load_ontology() if ontology is None else ontology
    keep = ontology[(ontology.source == source) & (ontology.family != "")]
    keys = set(zip(keep.label, keep.instrument_source))
    return [int(r.program) for r in gm_programs().itertuples() if (r.family, r.source) in keys]
