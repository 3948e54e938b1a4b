"""GUS patch sets played by TiMidity++ (dataset/timidity.py), and a render that mixes them with SoundFonts."""

import shutil
from pathlib import Path

import numpy as np
import pytest

from auditory_deepdream.dataset import RenderConfig, pip_soundfont, render_soundfont, synths, timidity
from auditory_deepdream.dataset.timidity import PatchSet, is_patch_set, play_patch_note
from auditory_deepdream.errors import DatasetError

FREEPATS = Path("/etc/timidity/freepats.cfg")
needs_freepats = pytest.mark.skipif(shutil.which("timidity") is None or not FREEPATS.is_file(),
                                    reason="needs apt-get install timidity freepats")


@pytest.fixture
def fake_timidity(monkeypatch):
    monkeypatch.setattr(timidity.shutil, "which", lambda name: "/usr/bin/timidity")


def test_bank_zero_programs_are_read_from_the_configuration_and_its_sources(tmp_path, fake_timidity):
    (tmp_path / "more.cfg").write_text("bank 0\n 68 Tone_000/068_Oboe.pat amp=120\n")
    cfg = tmp_path / "set.cfg"
    cfg.write_text("dir /usr/share/midi/freepats\n# a comment\ndrumset 0\n 35 Drum_000/035_Kick_1.pat\n"
                   "bank 0\n 0 Tone_000/000_Acoustic_Grand_Piano.pat  # piano\n 40 Tone_000/040_Violin.pat\n"
                   "bank 8\n 40 Tone_008/040_Other_Violin.pat\nsource more.cfg\nsource more.cfg\n")
    patches = PatchSet(cfg, sample_rate=16000)
    assert patches.programs == {0: "Tone_000/000_Acoustic_Grand_Piano.pat", 40: "Tone_000/040_Violin.pat",
                                68: "Tone_000/068_Oboe.pat"}  # not the drum (35) or bank 8's violin
    assert patches.sfpreset_name(0, 0, 40) == "040_Violin"
    assert synths.select_program(patches, 0, 68, "timidity") and patches.program == 68
    assert not synths.select_program(patches, 0, 35, "timidity")  # a drum, not a bank-0 instrument
    assert is_patch_set(cfg) and not is_patch_set(pip_soundfont())
    assert synths.renderer_for(cfg, "fluidsynth") == "timidity"
    assert synths.renderer_for(pip_soundfont(), "fluidsynth") == "fluidsynth"


def test_bad_patch_sets_get_clear_errors(tmp_path, fake_timidity, monkeypatch):
    with pytest.raises(DatasetError, match="does not exist"):
        PatchSet(tmp_path / "missing.cfg", sample_rate=16000)
    (tmp_path / "drums.cfg").write_text("drumset 0\n 35 Drum_000/035_Kick_1.pat\n")
    with pytest.raises(DatasetError, match="no instrument in bank 0"):
        PatchSet(tmp_path / "drums.cfg", sample_rate=16000)
    (tmp_path / "one.cfg").write_text("0 piano.pat\n")
    with pytest.raises(DatasetError, match="Select a program"):
        play_patch_note(PatchSet(tmp_path / "one.cfg", sample_rate=16000), pitch=60, velocity=90, held=10, release=0)
    monkeypatch.setattr(timidity.shutil, "which", lambda name: None)
    with pytest.raises(DatasetError, match="apt-get install timidity freepats"):
        render_soundfont(tmp_path / "out", soundfonts=[tmp_path / "one.cfg"], config=RenderConfig(programs=(0,)),
                         progress=False)


@needs_freepats
def test_freepats_notes_render_beside_a_soundfont_deterministically(tmp_path):
    config = RenderConfig(held_seconds=0.5, release_seconds=0.25, velocities=(40, 110), max_pitches=2,
                          programs=(40, 41, 73), sample_rate=16000, jobs=1)
    examples = render_soundfont(tmp_path / "a", soundfonts=[FREEPATS, pip_soundfont()], config=config,
                                progress=False)
    mine = examples[examples.soundfont == "freepats.cfg"]
    # freepats has a violin (40) and a flute (73) but no viola (41): that program is skipped
    assert set(mine.program) == {40, 73} and set(mine.renderer) == {"timidity"}
    assert set(examples[examples.soundfont == "TimGM6mb.sf2"].renderer) == {"tinysoundfont"}
    assert set(mine.preset_name) == {"040_Violin", "073_Flute"}
    render_soundfont(tmp_path / "b", soundfonts=[FREEPATS], config=config, progress=False)
    import soundfile as sf

    for note in mine.note_str:
        a, rate = sf.read(tmp_path / "a" / "audio" / f"{note}.wav")
        b, _ = sf.read(tmp_path / "b" / "audio" / f"{note}.wav")
        assert rate == 16000 and len(a) == 12000 and np.array_equal(a, b)
        onset = np.argmax(np.abs(a) > 0.05 * np.abs(a).max())
        assert onset < 0.02 * rate  # the note starts at once, as the SoundFont notes do
        assert np.sqrt(np.mean(a[8000:] ** 2)) < np.sqrt(np.mean(a[:8000] ** 2))  # then releases
    loud, soft = (mine[(mine.program == 40) & (mine.velocity == v)].peak.max() for v in (110, 40))
    assert loud > soft  # velocity reaches the patch
