"""The atlas's dreams: a chunk of one layer's filters dreamed on every clip in batched runs.

A *unit* of the build is ``(layer, first filter)``: its filters are dreamed on each clip in one
batched run per clip (:func:`~auditory_deepdream.dreamer.audition_layer`), and each dream
becomes a change picture (PNG), a compressed sound (MP3) and the model outputs it raises most.
A unit writes its files atomically and its record last, so a killed build resumes at the first
unit without a record and every file it finds is whole.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..atomic import atomic_path
from ..players import compressed_audio
from .config import AtlasConfig
from .pictures import change_png

__all__ = ["write_bytes_atomic", "mp3", "dream_unit", "unit_name"]


def write_bytes_atomic(path, data: bytes) -> Path:
    """Write ``data`` to ``path`` through a temporary file and a rename."""
    with atomic_path(path) as tmp:
        Path(tmp).write_bytes(data)
    return Path(path)


def mp3(y: np.ndarray, *, sample_rate: int, kbps: int) -> bytes:
    """A mono clip as MP3 bytes at about ``kbps`` kbit/s (:func:`~auditory_deepdream.players.compressed_audio`)."""
    return compressed_audio(np.asarray(y, np.float32), sample_rate=sample_rate, max_seconds=None, kbps=kbps)


def unit_name(layer: str, first: int) -> str:
    """The record name of the unit of ``layer`` that starts at filter ``first``."""
    return f"{layer}__{first:04d}"


def _logits(dreamer, mel: np.ndarray) -> np.ndarray | None:
    """Class or tag logits of spectrograms ``(batch, n_mels, n_frames)``, or None for a model without them."""
    if dreamer.info.n_classes is None:
        return None
    import tensorflow as tf

    from ..dreamer.objectives import LOGITS

    fn = dreamer.activations(frozenset({LOGITS}))
    return np.asarray(fn(tf.constant(np.asarray(mel, np.float32)[..., None]))[LOGITS])


def dream_unit(dreamer, clips: dict, *, layer: str, filters, config: AtlasConfig, out: Path) -> dict:
    """Dream ``filters`` of ``layer`` on every clip and write their pictures and sounds.

    Parameters
    ----------
    dreamer : Dreamer
    clips : dict of str to np.ndarray [shape=(n_samples,)]
        Atlas clips at the model's rate, by name.
    layer : str
    filters : sequence of int
    config : AtlasConfig
    out : Path
        The atlas folder; files go to ``out/layers/<layer>/``.

    Returns
    -------
    record : dict
        ``{"layer", "filters": [{"index", "clips": {name: {"change", "sound", "scale_db", "level_db",
        "change_db"}}, "raises": [[output, mean logit rise], ...]}, ...]}``, paths relative to ``out``.
    """
    from ..dreamer import audition_layer
    from ..dreamer.result import CHANGE_FLOOR_DB

    filters = [int(f) for f in filters]
    sr = dreamer.settings.sample_rate
    names = list(dreamer.info.classes) or [str(i) for i in range(dreamer.info.n_classes or 0)]
    rises = np.zeros((len(filters), len(names)), np.float64)
    entries = [{"index": f, "clips": {}} for f in filters]
    folder = Path(out) / "layers" / layer
    for name, y in clips.items():
        res = audition_layer(y, model=dreamer, layer=layer, filters=filters, options=config.dream_options(),
                             progress=False)
        before, after = _logits(dreamer, res.mel_before[:1]), _logits(dreamer, res.mel_after)
        if before is not None:
            rises += (after - before) / len(clips)
        for i, f in enumerate(filters):
            before_i, after_i = res.mel_before[i], res.mel_after[i]
            floor = before_i.max() - CHANGE_FLOOR_DB
            png, scale, level = change_png(after_i - before_i, heard=(before_i > floor) | (after_i > floor))
            stem = f"f{f:04d}_{name}"
            write_bytes_atomic(folder / f"{stem}.png", png)
            write_bytes_atomic(folder / f"{stem}.mp3", mp3(res.audio[i], sample_rate=sr, kbps=config.kbps))
            entries[i]["clips"][name] = {
                "change": f"layers/{layer}/{stem}.png", "sound": f"layers/{layer}/{stem}.mp3",
                "scale_db": scale, "level_db": level, "change_db": round(float(res.spectral_change_db[i]), 2)}
    for i, entry in enumerate(entries):
        order = np.argsort(-rises[i], kind="stable")[:config.top_outputs] if names else []
        entry["raises"] = [[names[k], round(float(rises[i, k]), 3)] for k in order]
    return {"layer": layer, "filters": entries}
