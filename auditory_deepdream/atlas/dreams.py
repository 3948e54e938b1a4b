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
        "change_db"}}, "raises": [[output, mean logit rise], ...]}, ...]}``, paths relative to ``out``;
        a filter whose ascent diverged on a clip has ``"diverged": true`` there, with the clip unchanged.
    """
    from ..dreamer.result import CHANGE_FLOOR_DB

    filters = [int(f) for f in filters]
    sr = dreamer.settings.sample_rate
    names = list(dreamer.info.classes) or [str(i) for i in range(dreamer.info.n_classes or 0)]
    rises = np.zeros((len(filters), len(names)), np.float64)
    entries = [{"index": f, "clips": {}} for f in filters]
    folder = Path(out) / "layers" / layer
    for name, y in clips.items():
        items = _dream_items(dreamer, y, layer=layer, filters=filters, config=config)
        ok = [i for i, item in enumerate(items) if item is not None]
        if items.logits_before is not None and ok:
            rises[ok] += (_logits(dreamer, np.stack([items[i][1] for i in ok])) - items.logits_before) / len(clips)
        for i, f in enumerate(filters):
            stem = f"f{f:04d}_{name}"
            item = items[i]
            if item is None:  # the ascent diverged on this clip: say so, with the clip as it was
                mel = items.mel_before
                write_bytes_atomic(folder / f"{stem}.png", change_png(np.zeros_like(mel))[0])
                write_bytes_atomic(folder / f"{stem}.mp3", mp3(y, sample_rate=sr, kbps=config.kbps))
                entries[i]["clips"][name] = {
                    "change": f"layers/{layer}/{stem}.png", "sound": f"layers/{layer}/{stem}.mp3", "scale_db": 0.5,
                    "level_db": 0.0, "change_db": 0.0, "diverged": True}
                continue
            before_i, after_i, audio_i, change_db = item
            floor = before_i.max() - CHANGE_FLOOR_DB
            png, scale, level = change_png(after_i - before_i, heard=(before_i > floor) | (after_i > floor))
            write_bytes_atomic(folder / f"{stem}.png", png)
            write_bytes_atomic(folder / f"{stem}.mp3", mp3(audio_i, sample_rate=sr, kbps=config.kbps))
            entries[i]["clips"][name] = {
                "change": f"layers/{layer}/{stem}.png", "sound": f"layers/{layer}/{stem}.mp3",
                "scale_db": scale, "level_db": level, "change_db": round(float(change_db), 2)}
    for i, entry in enumerate(entries):
        order = np.argsort(-rises[i], kind="stable")[:config.top_outputs] if names else []
        entry["raises"] = [[names[k], round(float(rises[i, k]), 3)] for k in order]
    return {"layer": layer, "filters": entries}


class _Items(list):
    """Per filter ``(mel_before, mel_after, audio, change_db)`` or None where its ascent diverged."""

    mel_before: np.ndarray
    logits_before: np.ndarray | None


def _dream_items(dreamer, y, *, layer: str, filters: list, config: AtlasConfig) -> _Items:
    """The filters' dreams on one clip in batched runs; a run whose ascent diverges (a non-finite
    gradient: some filters drive a band past float range) is split in halves until each filter
    that diverges is left on its own."""
    from ..dreamer import audition_layer
    from ..errors import DreamError

    def run(part):
        try:
            res = audition_layer(y, model=dreamer, layer=layer, filters=part, options=config.dream_options(),
                                 progress=False)
        except DreamError:
            if len(part) == 1:
                return [None], None
            half = len(part) // 2
            (a, mel), (b, mel_b) = run(part[:half]), run(part[half:])
            return a + b, mel if mel is not None else mel_b
        return ([(res.mel_before[i], res.mel_after[i], res.audio[i], res.spectral_change_db[i])
                 for i in range(len(part))], res.mel_before[0])

    found, mel = run(list(filters))
    items = _Items(found)
    if mel is None:
        from ..audio import encode

        mel = encode(np.asarray(y, np.float32), settings=dreamer.settings)
    items.mel_before = mel
    items.logits_before = None if dreamer.info.n_classes is None else _logits(dreamer, mel[None])[0]
    return items
