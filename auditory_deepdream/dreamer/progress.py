"""A streamed dream's finished blocks, kept beside its output so that a killed dream resumes.

:func:`~.files.dream_stream` writes each block's share of the dream to a parts file as soon
as no later block reaches it. :class:`StreamProgress` keeps that file in a scratch folder
beside the output (``OUT.blocks/``), and after every block the state needed to go on: how
many blocks and samples are done, the samples summed but not yet final (the crossfade into
the next block), and each block's measures. Run again with the same input, model, objective
and options, the dream starts at the first block not done and writes the same output as an
uninterrupted run; anything else starts afresh. The folder is removed once the output is written.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import soundfile as sf

from ..atomic import write_json_atomic

__all__ = ["StreamProgress"]


class StreamProgress:
    """The scratch folder of one streamed dream (see the module's description).

    Parameters
    ----------
    output_path : path-like
        The dream's output; the folder is ``output_path`` + ``.blocks``.
    key : dict
        What decides the dream (input, span, model, objective, options, blocks): a folder
        left by another dream is not resumed.
    sample_rate, channels : int
        Of the parts file.
    """

    def __init__(self, output_path, *, key: dict, sample_rate: int, channels: int):
        output_path = Path(output_path)
        self.folder = output_path.with_name(output_path.name + ".blocks")
        self.parts = self.folder / "parts.w64"
        self._key = json.loads(json.dumps(key, default=str))
        self._sample_rate, self._channels = int(sample_rate), int(channels)
        self._file = None

    def open(self):
        """Start, or resume where the last run stopped.

        Returns
        -------
        (blocks, done, pending, measures, history)
            Blocks done, samples final in the parts file, the samples summed but not final
            ``(channels, n)``, each done block's measures, and the first block's ascent history.
        """
        state = self._state()
        if state is None:
            shutil.rmtree(self.folder, ignore_errors=True)
            self.folder.mkdir(parents=True)
            self._file = sf.SoundFile(self.parts, "w", samplerate=self._sample_rate, channels=self._channels,
                                      subtype="FLOAT", format="W64")
            return 0, 0, np.zeros((self._channels, 0), np.float32), [], None
        self._file = sf.SoundFile(self.parts, "r+")
        self._file.truncate(state["done"])  # a kill between the write and the state leaves samples past it
        self._file.seek(0, sf.SEEK_END)
        pending = np.load(self.folder / "pending.npy")
        history = None if state["history"] is None else np.asarray(state["history"], np.float32)
        return state["blocks"], state["done"], pending, state["measures"], history

    def _state(self) -> dict | None:
        try:
            state = json.loads((self.folder / "state.json").read_text())
            frames = sf.info(str(self.parts)).frames
        except (OSError, ValueError, RuntimeError):
            return None
        if state.get("key") != self._key or frames < state.get("done", -1) \
                or not (self.folder / "pending.npy").is_file():
            return None
        return state

    def write(self, samples: np.ndarray) -> None:
        """Append final samples ``(channels, n)`` to the parts file."""
        self._file.write(np.asarray(samples, np.float32).T)

    def save(self, *, blocks: int, done: int, pending: np.ndarray, measures: list, history) -> None:
        """Record that ``blocks`` blocks are done: written last, so a kill before it redoes the block."""
        self._file.flush()
        tmp = self.folder / "pending.tmp.npy"
        np.save(tmp, pending)
        tmp.replace(self.folder / "pending.npy")
        write_json_atomic(self.folder / "state.json", {
            "key": self._key, "blocks": int(blocks), "done": int(done), "measures": measures,
            "history": None if history is None else np.asarray(history).tolist()})

    def close(self) -> None:
        """Close the parts file (kept for the loudness and writing passes, or a later run)."""
        if self._file is not None:
            self._file.close()
            self._file = None

    def discard(self) -> None:
        """Remove the folder: the output is written."""
        self.close()
        shutil.rmtree(self.folder, ignore_errors=True)
