"""The sample names of a SoundFont, read from its sample headers: do two SoundFonts share recordings?

General MIDI SoundFonts borrow from each other. MuseScore_General grew out of FluidR3, and
SCAMP's ``Merlin.sf2`` reuses much of TimGM6mb. A model scored on a SoundFont "it never
heard" has heard it in part when a training SoundFont holds the same samples, so a fold or a
held-out score should say how many sample names its training and scoring SoundFonts share.

An SF2 or SF3 file is a RIFF ``sfbk`` form; its ``pdta`` list holds ``shdr``, one 46-byte
record per sample whose first 20 bytes are the sample's name, ending with an ``EOS``
record. Only chunk headers and sample headers are read, never the sample data, so this is
fast on any size of file. Equal names are a lead, not a proof: two authors may name
different recordings alike.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..errors import DatasetError

__all__ = ["sample_names", "shared_sample_names"]

_RECORD = 46  # bytes per sample header (sfSample)
_NAME = 20  # bytes of its name


def _chunks(file, start: int, end: int):
    """``(id, data offset, size)`` of each whole RIFF chunk between ``start`` and ``end`` of ``file``,
    read header by header (the chunks' data is skipped, not read)."""
    while start + 8 <= end:
        file.seek(start)
        header = file.read(8)
        cid, size = header[:4], struct.unpack("<I", header[4:])[0]
        if start + 8 + size > end:  # cut short
            return
        yield cid, start + 8, size
        start += 8 + size + (size & 1)


def sample_names(path) -> list[str]:
    """The names of every sample in a SoundFont, in file order.

    Only the chunk headers and the sample headers are read, not the sample data.

    Parameters
    ----------
    path : path-like
        An ``.sf2`` or ``.sf3`` file.

    Returns
    -------
    list of str
        One name per sample header (the terminal ``EOS`` record left out); names may repeat.

    Raises
    ------
    DatasetError
        When the file is missing or is not a SoundFont with sample headers.
    """
    path = Path(path)
    if not path.is_file():
        raise DatasetError(f"SoundFont {path} does not exist; pass the path of an .sf2 or .sf3 file.")
    with path.open("rb") as file:
        head = file.read(12)
        if head[:4] != b"RIFF" or head[8:12] != b"sfbk":
            raise DatasetError(f"{path} is not a SoundFont (no RIFF sfbk header); pass an .sf2 or .sf3 file.")
        end = path.stat().st_size
        for cid, offset, size in _chunks(file, 12, end):
            file.seek(offset)
            if cid != b"LIST" or file.read(4) != b"pdta":
                continue
            for sub, sub_offset, sub_size in _chunks(file, offset + 4, offset + size):
                if sub != b"shdr":
                    continue
                if sub_size < _RECORD or sub_size % _RECORD:
                    break
                file.seek(sub_offset)
                records = file.read(sub_size - _RECORD)
                return [records[at:at + _NAME].split(b"\0")[0].decode("latin-1").strip()
                        for at in range(0, len(records), _RECORD)]
    raise DatasetError(f"{path} has no readable sample headers (pdta/shdr); the file may be truncated.")


def shared_sample_names(first, second) -> list[str]:
    """The sample names two SoundFonts have in common, sorted.

    Parameters
    ----------
    first, second : path-like
        ``.sf2`` or ``.sf3`` files.

    Returns
    -------
    list of str
        Names found in both (each once).
    """
    return sorted(set(sample_names(first)) & set(sample_names(second)))
