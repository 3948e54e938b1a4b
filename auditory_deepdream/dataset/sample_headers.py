"""The sample names of a SoundFont, read from its sample headers: do two SoundFonts share recordings?

General MIDI SoundFonts borrow from each other. MuseScore_General grew out of FluidR3, and
SCAMP's ``Merlin.sf2`` reuses much of TimGM6mb. A model scored on a SoundFont "it never
heard" has heard it in part when a training SoundFont holds the same samples, so a fold or a
held-out score should say how many sample names its training and scoring SoundFonts share.

An SF2 or SF3 file is a RIFF ``sfbk`` form; its ``pdta`` list holds ``shdr``, one 46-byte
record per sample whose first 20 bytes are the sample's name, ending with an ``EOS``
record. Only chunk headers and sample headers are read, never the sample data, so this is
fast on any size of file. :func:`presets` reads the preset headers (``phdr``) the same way: which
banks and programs a SoundFont offers. Equal names are a lead, not a proof: two authors may name
different recordings alike.
"""

from __future__ import annotations

import struct
from pathlib import Path

from ..errors import DatasetError

__all__ = ["presets", "sample_names", "shared_sample_names"]

_RECORD = 46  # bytes per sample header (sfSample)
_NAME = 20  # bytes of its name
_PRESET_RECORD = 38  # bytes per preset header (sfPresetHeader): name, program, bank, ...


def _header_fits(file, at: int, end: int) -> bool:
    """Whether a chunk header at ``at`` has an id of four letters, digits or spaces (as every
    SoundFont chunk id has: ``LIST``, ``sdta``, ``shdr``) and a size that ends by ``end``."""
    if at + 8 > end:
        return False
    file.seek(at)
    header = file.read(8)
    return (all(chr(b).isalnum() or b == 32 for b in header[:4])
            and at + 8 + struct.unpack("<I", header[4:])[0] <= end)


def _chunks(file, start: int, end: int):
    """``(id, data offset, size)`` of each whole RIFF chunk between ``start`` and ``end`` of ``file``,
    read header by header (the chunks' data is skipped, not read).

    RIFF pads a chunk of odd size with one byte, but some writers leave the pad out (Debian's
    ``FluidR3Mono_GM.sf3`` and ``MuseScore_General_Lite.sf3``): after an odd chunk, the unpadded
    position is used when the padded one holds no chunk header that fits and the unpadded one does."""
    while start + 8 <= end:
        file.seek(start)
        header = file.read(8)
        cid, size = header[:4], struct.unpack("<I", header[4:])[0]
        if start + 8 + size > end:  # cut short
            return
        yield cid, start + 8, size
        following = start + 8 + size
        if size & 1 and (_header_fits(file, following + 1, end) or not _header_fits(file, following, end)):
            following += 1
        start = following


def _headers(path, chunk: bytes, record: int, what: str) -> bytes:
    """The records of the ``pdta`` sub-chunk ``chunk`` (``record`` bytes each), the terminal one left out."""
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
                if sub != chunk:
                    continue
                if sub_size < record or sub_size % record:
                    break
                file.seek(sub_offset)
                return file.read(sub_size - record)
    raise DatasetError(f"{path} has no readable {what} (pdta/{chunk.decode()}); the file may be truncated.")


def _name(raw: bytes) -> str:
    return raw[:_NAME].split(b"\0")[0].decode("latin-1").strip()


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
    records = _headers(path, b"shdr", _RECORD, "sample headers")
    return [_name(records[at:at + _RECORD]) for at in range(0, len(records), _RECORD)]


def presets(path) -> list[tuple[int, int, str]]:
    """The presets of a SoundFont as ``(bank, program, name)``, in file order.

    General MIDI instruments are bank 0; a GS supplement such as Debian's ``FluidR3_GS.sf2``
    holds only variations and sound effects in other banks.

    Parameters
    ----------
    path : path-like
        An ``.sf2`` or ``.sf3`` file.

    Returns
    -------
    list of (int, int, str)
        One entry per preset header (the terminal ``EOP`` record left out).

    Raises
    ------
    DatasetError
        When the file is missing or is not a SoundFont with preset headers.
    """
    records = _headers(path, b"phdr", _PRESET_RECORD, "preset headers")
    out = []
    for at in range(0, len(records), _PRESET_RECORD):
        program, bank = struct.unpack("<HH", records[at + _NAME:at + _NAME + 4])
        out.append((bank, program, _name(records[at:at + _PRESET_RECORD])))
    return out


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
