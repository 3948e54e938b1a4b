"""Long audio in bounded memory: a file read block by block with context, and written block by block.

:func:`block_spans` plans the spans, :func:`read_span` reads one, and
:func:`stream_writer` writes a file one block at a time, atomically (a temporary file in
the same folder, renamed onto the path only when every block is in), in the format
:func:`~auditory_deepdream.audio.io.write_audio` would choose. :func:`stream_mel` draws a
file of any length as one log-mel picture, block by block.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import soundfile as sf

from ..atomic import atomic_path, lost_errno
from ..errors import AudioInputError
from .io import _FLOAT_SUBTYPES, _SF_ERR_SYSTEM, AudioFormat, _existing_file, sound_format

__all__ = ["stream_info", "block_spans", "read_span", "stream_writer", "stream_mel"]


def stream_info(path) -> tuple[AudioFormat, int] | None:
    """``(format, n_frames)`` of a file libsndfile can seek in, or None (it is then read whole)."""
    path = _existing_file(path)
    try:
        with sf.SoundFile(path) as f:
            if not f.seekable() or f.frames <= 0:
                return None
            return AudioFormat(f.samplerate, f.channels, f.subtype, f.format), int(f.frames)
    except (sf.LibsndfileError, RuntimeError, TypeError):
        return None


def block_spans(n_frames: int, *, hop: int, context: int) -> list[tuple[int, int, int, int]]:
    """How a recording of ``n_frames`` is cut into overlapping blocks.

    Block ``k`` owns ``[k * hop, (k + 1) * hop)`` and is read with ``context`` samples more
    on each side (clipped to the recording), which its neighbours own.

    Returns
    -------
    list of (read_start, read_stop, own_start, own_stop)
    """
    if hop <= 0 or context < 0:
        raise AudioInputError(f"Blocks need hop > 0 and context >= 0 samples; got {hop} and {context}.")
    n_blocks = max(1, -(-int(n_frames) // hop))
    return [(max(0, k * hop - context), min(n_frames, (k + 1) * hop + context), k * hop,
             min(n_frames, (k + 1) * hop)) for k in range(n_blocks)]


def read_span(path, start: int, stop: int) -> np.ndarray:
    """Samples ``[start, stop)`` of every channel, ``(channels, stop - start)`` float32 (checked finite)."""
    with sf.SoundFile(Path(path)) as f:
        f.seek(int(start))
        y = f.read(int(stop) - int(start), dtype="float32", always_2d=True).T
    if not np.all(np.isfinite(y)):
        raise AudioInputError(f"{path} has NaN or infinite samples between samples {start} and {stop}; "
                              "repair or re-export the file.")
    return np.ascontiguousarray(y)


class _Writer:
    def __init__(self, handle: sf.SoundFile, clip: bool, folder: Path):
        self._handle, self._clip, self._folder = handle, clip, folder
        self.frames = 0

    def write(self, block) -> None:
        """Append ``block`` [shape=(channels, n_samples)]."""
        data = np.asarray(block, dtype=np.float32).T
        if self._clip:
            data = np.clip(data, -1.0, 1.0)
        try:
            self._handle.write(data)
        except sf.LibsndfileError as exc:
            if exc.code != _SF_ERR_SYSTEM:
                raise
            raise lost_errno(self._folder, needed=data.nbytes, detail=f"libsndfile: {exc.error_string}") from None
        self.frames += data.shape[0]


@contextlib.contextmanager
def stream_writer(path, *, sample_rate: int, channels: int, like: AudioFormat | None = None):
    """Write an audio file block by block; it appears at ``path`` only when the ``with`` block ends well.

    Parameters
    ----------
    path : path-like
        Its suffix picks the container; ``like`` the sample format (as :func:`write_audio`).
    sample_rate, channels : int
    like : AudioFormat, optional

    Yields
    ------
    writer
        ``writer.write(block)`` appends ``(channels, n_samples)`` samples.

    Raises
    ------
    AudioInputError
        An unsupported suffix.
    OutputError
        The system refused the file; nothing is left behind.
    """
    path = Path(path)
    fmt, subtype = sound_format(path, like=like)
    with atomic_path(path) as tmp:
        with sf.SoundFile(tmp, "w", samplerate=int(sample_rate), channels=int(channels), subtype=subtype,
                          format=fmt) as handle:
            yield _Writer(handle, subtype not in _FLOAT_SUBTYPES, tmp.parent)


def stream_mel(path, *, settings, span: tuple[int, int] | None = None, max_frames: int = 2400,
               block_seconds: float = 30.0) -> np.ndarray:
    """The log-mel spectrogram of a file's mid signal, read block by block and pooled to a picture's width.

    Parameters
    ----------
    path : path-like
        Any file :func:`stream_info` can seek in; another is read whole.
    settings : AudioSettings
        The spectrogram's rate, bands and hop (each block is brought to its rate).
    span : (int, int), optional
        Frames ``[first, last)`` of the file (default: all of it).
    max_frames : int
        At most this many columns: neighbouring frames' power is averaged, ``ceil(frames / max_frames)``
        at a time, so a one-hour file draws in bounded memory.
    block_seconds : float
        How much is read at a time.

    Returns
    -------
    mel_db : np.ndarray [shape=(n_mels, n_columns), dtype=float32]
    """
    from .io import read_audio
    from .resampling import resample
    from .spectral import encode

    info = stream_info(path)
    if info is None:
        y, fmt = read_audio(path)
        first, last = span or (0, y.shape[1])
        blocks, sr = iter([y[:, first:last]]), fmt.sample_rate
        n = last - first
    else:
        fmt, total = info
        sr = fmt.sample_rate
        first, last = span or (0, total)
        n = last - first
        step = max(1, round(block_seconds * sr))
        blocks = (read_span(path, a, min(last, a + step)) for a in range(first, last, step))
    frames = n * settings.sample_rate / sr / settings.hop_length
    factor = max(1, int(np.ceil(frames / max_frames)))
    columns = []
    for y in blocks:
        mid = resample(y.mean(axis=0), orig_sr=sr, target_sr=settings.sample_rate)
        if len(mid) < settings.n_fft // 2 + 1:  # a last sliver: too short to encode, too short to see
            continue
        power = 10.0 ** (encode(mid, settings=settings) / 10.0)
        cut = -(-power.shape[1] // factor) * factor
        power = np.pad(power, ((0, 0), (0, cut - power.shape[1])), mode="edge")
        columns.append(power.reshape(power.shape[0], -1, factor).mean(axis=-1))
    return (10.0 * np.log10(np.maximum(np.concatenate(columns, axis=1), 1e-20))).astype(np.float32)
