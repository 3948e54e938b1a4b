"""Natural examples: the store segments that excite each filter most, from one batched pass.

Every layer's mean activation per filter is computed for the store's segments in one pass
(all atlas layers at once), the ``top_k`` segments of each filter are kept, and each becomes a
short MP3. Its sound is the note's own recording where the store's sources are still on disk and
the segment is unaugmented, else the segment's stored log-mel made audible by Griffin-Lim (the
label says which).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from .config import AtlasConfig, AtlasError
from .dreams import mp3, write_bytes_atomic

__all__ = ["open_store", "filter_activations", "top_segments", "write_examples"]


def open_store(path, *, settings):
    """The :class:`~auditory_deepdream.dataset.FeatureStore` at ``path``, checked to have segments."""
    from ..dataset.store import FeatureStore

    store = FeatureStore(path, settings=settings)
    if len(store) == 0:
        raise AtlasError(f"The store {path} has no segments; build one with segments "
                         "(auditory-deepdream build-dataset), or leave out --store.")
    return store


def selected_rows(n: int, limit: int | None) -> np.ndarray:
    """Evenly spaced row numbers, at most ``limit`` of ``n`` (all when ``limit`` is None)."""
    if limit is None or n <= limit:
        return np.arange(n)
    return np.unique(np.linspace(0, n - 1, limit).round().astype(np.int64))


def filter_activations(dreamer, store, *, layers, rows, batch: int = 64, progress: bool = True) -> dict:
    """Mean activation of every filter of ``layers`` on the store segments ``rows``.

    Returns
    -------
    acts : dict of str to np.ndarray [shape=(len(rows), n_filters)]
    """
    import tensorflow as tf
    from tqdm.auto import tqdm

    fn = dreamer.activations(frozenset(layers))
    compiled = tf.function(lambda x: {k: tf.reduce_mean(v, axis=[1, 2]) for k, v in fn(x).items()},
                           reduce_retracing=True)
    parts = {layer: [] for layer in layers}
    for start in tqdm(range(0, len(rows), batch), desc="natural examples", unit="batch", disable=not progress):
        x = store.load(rows[start:start + batch])[..., None]
        for layer, value in compiled(tf.constant(x)).items():
            parts[layer].append(np.asarray(value, np.float32))
    return {layer: np.concatenate(parts[layer]) for layer in layers}


def top_segments(acts: np.ndarray, k: int, *, groups=None) -> np.ndarray:
    """Positions of the ``k`` highest activations of each filter, highest first (ties: lower position).

    Parameters
    ----------
    acts : np.ndarray [shape=(n_segments, n_filters)]
    k : int
    groups : array-like [shape=(n_segments,)], optional
        A group per segment (its note): at most one segment of a group is kept, so a filter's
        examples are ``k`` different notes where there are that many.

    Returns
    -------
    top : np.ndarray [shape=(n_filters, k)]
    """
    order = np.argsort(-acts.T, axis=1, kind="stable")
    k = min(k, acts.shape[0])
    if groups is None:
        return order[:, :k]
    groups = np.asarray(groups)
    top = np.empty((acts.shape[1], k), np.int64)
    for f, ranked in enumerate(order):
        _, first = np.unique(groups[ranked], return_index=True)  # each group's best segment
        kept = ranked[np.sort(first)][:k]
        top[f] = np.concatenate([kept, ranked[~np.isin(ranked, kept)][: k - len(kept)]])
    return top


def _roots(store) -> list[Path]:
    return [Path(s["path"]) for s in store.meta.get("sources", []) if isinstance(s, dict) and "path" in s]


def _render_notes(store) -> dict:
    """Note name -> its entry in a SoundFont render's ``examples.json`` (preset, SoundFont), where one is on disk."""
    import json

    notes = {}
    for root in _roots(store):
        found = root / "examples.json"
        if found.is_file():
            notes.update(json.loads(found.read_text()))
    return notes


def _label(row: dict, note: dict | None) -> tuple[str, str]:
    """(source, label) of an example: the SoundFont and preset where the render says them."""
    import librosa

    pitch = row.get("pitch")
    name = librosa.midi_to_note(int(pitch), unicode=False) if str(pitch) not in ("", "nan", "None") else ""
    if note and note.get("soundfont"):
        return str(note["soundfont"]), f"{note.get('preset_name') or note.get('program_name')}, {name}".strip(", ")
    return str(row.get("source", "")), f"{row.get('instrument', '')} {name}".strip()


def _source_audio(store, row: dict, settings, seconds: float) -> np.ndarray | None:
    """The segment's own recording, or None when it is augmented or its source is gone."""
    from ..audio import load_audio, segment, trim

    if str(row.get("augmentation", "none")) != "none":
        return None
    relative = Path(str(row.get("source_file", "")))
    found = next((root / relative for root in _roots(store) if (root / relative).is_file()), None)
    if found is None:
        return None
    y = trim(load_audio(found, settings=settings), settings=settings)
    segments = segment(y, settings=settings, hop_seconds=float(row.get("hop_seconds") or settings.segment_seconds))
    i = int(row.get("segment_index", 0))
    return segments[i][: int(seconds * settings.sample_rate)] if i < len(segments) else None


def write_examples(store, rows: np.ndarray, *, settings, config: AtlasConfig, out: Path) -> dict:
    """Write an MP3 of each store row in ``rows`` under ``out/examples/``.

    Returns
    -------
    examples : dict of int to dict
        Row -> ``{"sound", "family", "source", "label", "audio"}`` (``audio``: ``"recording"`` or
        ``"griffin-lim"``).
    """
    from ..audio.inverse import griffin_lim, mel_to_magnitude

    index = store.index
    n = int(config.example_seconds * settings.sample_rate)
    notes = _render_notes(store)
    found = {}
    for r in sorted(int(x) for x in rows):
        row = index.iloc[r].to_dict()
        y = _source_audio(store, row, settings, config.example_seconds)
        kind = "recording"
        if y is None:
            mel = store.load([r])
            y = griffin_lim(mel_to_magnitude(mel, settings=settings), settings=settings, seed=0)[0][:n]
            kind = "griffin-lim"
        path = f"examples/row{r:07d}.mp3"
        write_bytes_atomic(out / path, mp3(y, sample_rate=settings.sample_rate, kbps=config.kbps))
        source, label = _label(row, notes.get(Path(str(row.get("source_file", ""))).stem))
        found[r] = {"sound": path, "family": str(row.get("family", "")), "source": source, "label": label,
                    "audio": kind}
    return found
