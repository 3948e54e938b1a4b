"""Minimal SoundFont files for the header-reading and discovery tests: headers only, no sample data."""

from __future__ import annotations

import struct


def chunk(cid: bytes, body: bytes, *, pad: bool = True) -> bytes:
    """A RIFF chunk; ``pad=False`` leaves out the pad byte after an odd body, as some writers do."""
    return cid + struct.pack("<I", len(body)) + body + (b"\0" if pad and len(body) % 2 else b"")


def write_soundfont(path, names, *, programs=(0,), bank=0, sdta_bytes=0, pad=True):
    """An SF2 with an INFO list, an ``sdta`` list of ``sdta_bytes`` zero bytes (odd sizes test the
    pad byte), then ``pdta`` holding one preset per program of ``bank`` and the sample headers.

    Parameters
    ----------
    path : path-like
        Where to write.
    names : list of str
        Sample names (the ``EOS`` record is added).
    programs : tuple of int
        Preset program numbers (the ``EOP`` record is added).
    """
    presets = b"".join(f"Preset {p}".encode().ljust(20, b"\0") + struct.pack("<HHH", p, bank, 0) + bytes(12)
                       for p in programs)
    presets += b"EOP".ljust(20, b"\0") + bytes(18)
    records = b"".join(n.encode("latin-1").ljust(20, b"\0")[:20] + bytes(26) for n in [*names, "EOS"])
    pdta = chunk(b"LIST", b"pdta" + chunk(b"phdr", presets) + chunk(b"shdr", records))
    info = chunk(b"LIST", b"INFO" + chunk(b"ifil", struct.pack("<HH", 2, 1)))
    sdta = chunk(b"LIST", b"sdta" + chunk(b"smpl", bytes(sdta_bytes), pad=pad), pad=pad)
    path.write_bytes(chunk(b"RIFF", b"sfbk" + info + sdta + pdta))
    return path
