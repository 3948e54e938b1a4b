"""Long audio in bounded memory: a file read block by block with context, and written block by block.

:func:`block_spans` plans the spans, :func:`read_span` reads one, and
:func:`stream_writer` writes a file one block at a time, atomically (a temporary file in
the same folder, renamed onto the path only when every block is in), in the format
:func:`~auditory_deepdream.audio.io.write_audio` would choose.
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
import soundfile as sf

from ..atomic import atomic_path, lost_errno
from ..errors import AudioInputError
from .io import _FLOAT_SUBTYPES, _SF_ERR_SYSTEM, AudioFormat, _existing_file, sound_format

__all__ = ["stream_info", "block_spans", "read_span", "stream_writer"]


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
