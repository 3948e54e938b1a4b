"""Pictures of dreams, drawn without matplotlib figures: spectrograms, change maps and a layer's grid.

Each picture is one pixel per (pooled) mel bin in a 64-colour palette, a few kB, drawn in a
millisecond or two, so a page or a widget can show a whole layer at once and a slider can
swap pictures without redrawing a figure. The page or widget scales them up.
"""

from __future__ import annotations

import io

import numpy as np

__all__ = ["pooled", "change_png", "spectrogram_png", "grid_png"]

#: pictures are pooled to at most this many bands and frames, and kept in a palette of 64 colours
MAX_BANDS, MAX_FRAMES, COLOURS = 64, 128, 64


def pooled(a: np.ndarray, *, bands: int = MAX_BANDS, frames: int = MAX_FRAMES) -> np.ndarray:
    """Mean-pool a ``(n_mels, n_frames)`` array by whole factors to at most ``bands`` x ``frames``."""
    fb, ft = -(-a.shape[0] // bands), -(-a.shape[1] // frames)
    h, w = a.shape[0] // fb * fb, a.shape[1] // ft * ft
    return a[:h, :w].reshape(h // fb, fb, w // ft, ft).mean(axis=(1, 3))


def _png(rgb: np.ndarray) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    image = Image.fromarray(np.ascontiguousarray(rgb[::-1]))  # low bands at the bottom
    image.quantize(colors=COLOURS, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE).save(
        buf, format="PNG", optimize=True)
    return buf.getvalue()


def change_png(change_db: np.ndarray, *, heard=None) -> tuple[bytes, float, float]:
    """A change spectrogram as a PNG on a red-blue scale fitted to the change.

    A dream is loudness-matched to its clip, so most of what it did not raise goes down by the
    same few dB; that common level change (the median over heard bins) is taken out, so the
    picture shows the pattern, and returned so that the page can say it.

    Parameters
    ----------
    change_db : np.ndarray [shape=(n_mels, n_frames)]
        After minus before, in dB.
    heard : np.ndarray of bool [shape=(n_mels, n_frames)], optional
        The bins that are not silent (default: all).

    Returns
    -------
    png : bytes
        One pixel per pooled bin (:func:`pooled`; the page scales it up), red where the dream
        raised a bin more than the clip's level changed, blue where it cut it more.
    scale_db : float
        The change shown at full colour (the 99th percentile of ``|change - level|``, at least 0.5 dB).
    level_db : float
        The common level change taken out.
    """
    import matplotlib

    change = np.nan_to_num(np.asarray(change_db, np.float32))
    mask = np.ones(change.shape, bool) if heard is None else np.asarray(heard, bool)
    level = float(np.median(change[mask])) if mask.any() else 0.0
    pattern = pooled(np.where(mask, change - level, 0.0))
    scale = float(max(0.5, np.percentile(np.abs(pattern), 99)))
    rgba = matplotlib.colormaps["RdBu_r"](np.clip(0.5 + 0.5 * pattern / scale, 0.0, 1.0), bytes=True)
    return _png(rgba[..., :3]), round(scale, 2), round(level, 2)


def spectrogram_png(mel_db: np.ndarray, *, range_db: float = 80.0) -> bytes:
    """A log-mel spectrogram (magma, top ``range_db`` dB) as a PNG, one pixel per pooled bin.

    Parameters
    ----------
    mel_db : np.ndarray [shape=(n_mels, n_frames)]
    """
    import matplotlib

    mel = pooled(np.nan_to_num(np.asarray(mel_db, np.float32), nan=-120.0))
    top = float(mel.max())
    rgba = matplotlib.colormaps["magma"](np.clip((mel - top + range_db) / range_db, 0.0, 1.0), bytes=True)
    return _png(rgba[..., :3])


def grid_png(pictures, *, labels=None, columns: int = 8, cell=(96, 56), gap: int = 3) -> bytes:
    """Many PNG pictures in one grid PNG (a layer at a glance), each scaled to ``cell`` and labelled.

    Parameters
    ----------
    pictures : sequence of bytes
        PNG pictures (e.g. :func:`change_png`'s), in order.
    labels : sequence of str, optional
        Drawn in each cell's top-left corner (default: the position).
    columns : int
    cell : (int, int)
        Width and height of a cell in pixels.
    gap : int
    """
    from PIL import Image, ImageDraw

    pictures = list(pictures)
    labels = [str(i) for i in range(len(pictures))] if labels is None else [str(x) for x in labels]
    rows = max(1, -(-len(pictures) // columns))
    w, h = cell
    sheet = Image.new("RGB", (columns * (w + gap) + gap, rows * (h + gap) + gap), (250, 250, 250))
    draw = ImageDraw.Draw(sheet)
    for k, data in enumerate(pictures):
        x, y = gap + (k % columns) * (w + gap), gap + (k // columns) * (h + gap)
        sheet.paste(Image.open(io.BytesIO(data)).convert("RGB").resize((w, h), Image.Resampling.NEAREST), (x, y))
        draw.text((x + 2, y + 1), labels[k], fill=(0, 0, 0))
        draw.text((x + 1, y), labels[k], fill=(255, 255, 255))
    buf = io.BytesIO()
    sheet.save(buf, format="PNG", optimize=True)
    return buf.getvalue()
