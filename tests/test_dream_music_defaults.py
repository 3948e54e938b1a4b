"""Acceptance: ``auditory-deepdream dream IN OUT`` with no options, on real music, with the bundled model.

Three stereo 44.1 kHz pieces rendered from pip's TimGM6mb SoundFont (so every machine
renders the same audio): a held cello note, a drum break and a minute of piano and
strings. Whatever the CLI's defaults do, the result must be the same kind of file
(channels, rate, sample format, length), as loud as the input (BS.1770), without a true
peak at full scale, clearly changed (log-spectral distance), without clicks or a
collapse into transients, and a cello must stay in tune.

Run with ``-s`` to see the measured values.
"""

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream import audio, cli
from auditory_deepdream.dataset import bach_prelude, break_beat, sustained_note
from auditory_deepdream.dataset.soundfont import pip_soundfont
from auditory_deepdream.dreamer import Dreamer, measure_dream

RATE = 44_100


def _cello():
    return sustained_note(program=42, pitch=48, seconds=3.0, sample_rate=RATE, channels=2, pan=40,
                          soundfont=pip_soundfont())


def _break():
    # kit=None: the SoundFont's GM drums, not a Hydrogen kit that only some machines have
    return break_beat(seconds=8, sample_rate=RATE, channels=2, kit=None, soundfont=pip_soundfont())


def _piece():
    return bach_prelude(seconds=60, sample_rate=RATE, channels=2, strings=True, soundfont=pip_soundfont())


PIECES = {
    # name: (render, file name, subtype, sustained pitched note)
    "cello": (_cello, "cello.wav", "PCM_16", True),
    "break": (_break, "break.flac", "PCM_16", False),
    "prelude": (_piece, "prelude.wav", "PCM_24", False),
}


@pytest.fixture(scope="module")
def bundled():
    """The bundled model, loaded once; the CLI's ``Dreamer.load('default')`` gets this one."""
    dreamer = Dreamer.load("default")
    with pytest.MonkeyPatch.context() as patch:
        original = Dreamer.load.__func__

        def load(cls, name_or_path="default", **kwargs):
            return dreamer if name_or_path == "default" and not kwargs else original(cls, name_or_path, **kwargs)

        patch.setattr(Dreamer, "load", classmethod(load))
        yield dreamer


XFAILS = {}


@pytest.mark.parametrize("name", [pytest.param(name, marks=pytest.mark.xfail(strict=True, reason=XFAILS[name]))
                                  if name in XFAILS else name for name in PIECES])
def test_dream_with_the_clis_defaults_keeps_the_music_whole(bundled, tmp_path, capsys, name):
    render, file_name, subtype, sustained = PIECES[name]
    src, out = tmp_path / file_name, tmp_path / f"dreamed_{file_name}"
    sf.write(src, render().T, RATE, subtype=subtype)
    assert cli.main(["dream", str(src), str(out)]) == 0, capsys.readouterr().err
    printed = capsys.readouterr().out

    info_in, info_out = sf.info(src), sf.info(out)
    y_in, _ = sf.read(src, dtype="float32", always_2d=True)
    y_out, _ = sf.read(out, dtype="float32", always_2d=True)
    y_in, y_out = y_in.T, y_out.T
    q = measure_dream(y_in, y_out, sample_rate=RATE, sustained=sustained)
    lufs_in = audio.integrated_loudness(y_in, sample_rate=RATE)
    lufs_out = audio.integrated_loudness(y_out, sample_rate=RATE)
    with capsys.disabled():
        print(f"\n[{name}] {info_out.channels} ch {info_out.samplerate} Hz {info_out.format}/{info_out.subtype} "
              f"{info_out.frames} frames | LUFS {lufs_in:.2f} -> {lufs_out:.2f} "
              f"(error {q.loudness_error_lu:+.2f} LU) | true peak {q.true_peak_dbtp:.2f} dBTP | "
              f"LSD {q.log_spectral_distance:.3f} | max jump ratio {q.max_jump_ratio:.3f} | "
              f"concentration {q.concentration_in:.3f} -> {q.concentration_out:.3f} "
              f"(collapse {q.transient_collapse}) | pitch shift {q.pitch_shift_cents:.1f} cents\n"
              f"  cli: {printed.strip()}")

    assert (info_out.channels, info_out.samplerate) == (2, RATE)
    assert (info_out.format, info_out.subtype) == (info_in.format, subtype)
    assert info_out.frames == info_in.frames
    assert abs(q.loudness_error_lu) <= 1.0
    assert q.true_peak_dbtp < 0.0
    assert q.log_spectral_distance >= 0.5
    assert q.max_jump_ratio <= 2.0
    assert not q.transient_collapse
    if sustained:
        assert abs(q.pitch_shift_cents) <= 50.0  # NaN (no pitch found) fails too
    else:
        assert np.isnan(q.pitch_shift_cents)
