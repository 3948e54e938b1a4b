"""Long demonstration pieces: the rendered Bach prelude and the break beat."""

import librosa
import numpy as np
import pytest

from auditory_deepdream.dataset import (
    PRELUDE_CHORDS,
    bach_prelude,
    break_beat,
    pip_soundfont,
    sustained_note,
)
from auditory_deepdream.errors import DatasetError

# sixteenths of the funk break's bar that a kick, snare or hat falls on
HIT_STEPS = {0, 2, 4, 6, 7, 8, 9, 10, 12, 13, 14, 15}


def test_bach_prelude_plays_the_score(settings):
    bar = 4 * 60.0 / 66.0
    y = bach_prelude(seconds=2 * bar, settings=settings, soundfont=pip_soundfont())
    assert y.shape == (round(2 * bar * settings.sample_rate),) and np.abs(y).max() == pytest.approx(0.5)
    first = y[: int(bar * settings.sample_rate)]
    chroma = librosa.feature.chroma_stft(y=first, sr=settings.sample_rate).mean(axis=1)
    top3 = set(np.argsort(chroma)[-3:])
    assert top3 == {p % 12 for p in PRELUDE_CHORDS[0]}  # C major: C, E, G
    np.testing.assert_array_equal(y, bach_prelude(seconds=2 * bar, settings=settings, soundfont=pip_soundfont()))


@pytest.mark.parametrize("kit", ["VariBreaks", None])
def test_break_beat_hits_on_the_grid(settings, kit):
    y = break_beat(seconds=4.0, settings=settings, kit=kit, soundfont=pip_soundfont(), seed=1)
    assert y.shape == (4 * settings.sample_rate,) and np.abs(y).max() == pytest.approx(0.5)
    sixteenth = 60.0 / 96.0 / 4 * settings.sample_rate
    window = int(0.02 * settings.sample_rate)
    for step in range(1, 16):
        # a hit is an attack: the 20 ms after the step are louder than the 20 ms before it
        at = round(step * sixteenth)
        rise = np.abs(y[at:at + window]).max() / (np.abs(y[at - window:at]).max() + 1e-6)
        assert (rise > 2) if step in HIT_STEPS else (rise < 1), (step, rise)
    np.testing.assert_array_equal(y, break_beat(seconds=4.0, settings=settings, kit=kit,
                                                soundfont=pip_soundfont(), seed=1))


# ---------------------------------------------------------------- stereo and other rates
def _on_grid(y, sample_rate, bpm=96.0):
    """Per step of the first bar: do the 20 ms after it rise over the 20 ms before (mono ``y``)."""
    sixteenth = 60.0 / bpm / 4 * sample_rate
    window = int(0.02 * sample_rate)
    for step in range(1, 16):
        at = round(step * sixteenth)
        rise = np.abs(y[at:at + window]).max() / (np.abs(y[at - window:at]).max() + 1e-6)
        assert (rise > 2) if step in HIT_STEPS else (rise < 1), (step, rise)


def _step_rms(y, step, sample_rate, bpm=96.0):
    """RMS per channel of the 20 ms after a sixteenth step, shape (channels,)."""
    at = round(step * 60.0 / bpm / 4 * sample_rate)
    return np.sqrt((y[:, at:at + int(0.02 * sample_rate)] ** 2).mean(axis=1))


def test_mono_defaults_are_unchanged(settings):
    sf2 = pip_soundfont()
    y = bach_prelude(seconds=3.0, settings=settings, soundfont=sf2)
    np.testing.assert_array_equal(y, bach_prelude(seconds=3.0, settings=settings, soundfont=sf2, channels=1,
                                                  sample_rate=settings.sample_rate, strings=False))
    assert y.ndim == 1
    beat = break_beat(seconds=2.0, settings=settings, kit=None, soundfont=sf2, seed=3)
    np.testing.assert_array_equal(beat, break_beat(seconds=2.0, settings=settings, kit=None, soundfont=sf2,
                                                   seed=3, channels=1, sample_rate=settings.sample_rate))
    assert beat.ndim == 1


def test_stereo_prelude_with_strings_has_a_stereo_image():
    y = bach_prelude(seconds=6.0, sample_rate=44100, channels=2, strings=True, soundfont=pip_soundfont())
    assert y.shape == (2, 6 * 44100) and y.dtype == np.float32
    assert np.abs(y).max() == pytest.approx(0.5)
    assert np.abs(y).max(axis=1).min() > 0.2  # both channels carry sound
    assert np.corrcoef(y)[0, 1] < 0.99  # and differ: not one signal copied twice
    piano = bach_prelude(seconds=6.0, sample_rate=44100, channels=2, soundfont=pip_soundfont())
    assert np.corrcoef(piano)[0, 1] < 0.99  # the voices alone are spread too
    # the left channel is the low voices: its chroma in bar 1 is led by the bass C
    left = librosa.feature.chroma_stft(y=piano[0, : int(4 * 60 / 66 * 44100)], sr=44100, tuning=0).mean(axis=1)
    right = librosa.feature.chroma_stft(y=piano[1, : int(4 * 60 / 66 * 44100)], sr=44100, tuning=0).mean(axis=1)
    assert left[0] / left[7] > right[0] / right[7]  # C (voice 1, left) over G (voice 3, right of it)


def test_strings_sustain_the_two_lowest_voices_an_octave_up():
    sr, bar = 22050, 4 * 60.0 / 66.0
    piano = bach_prelude(seconds=2 * bar, sample_rate=sr, channels=2, soundfont=pip_soundfont())
    both = bach_prelude(seconds=2 * bar, sample_rate=sr, channels=2, strings=True, soundfont=pip_soundfont())
    np.testing.assert_array_equal(both, bach_prelude(seconds=2 * bar, sample_rate=sr, channels=2, strings=True,
                                                     soundfont=pip_soundfont()))
    # the piano part is the same render, rescaled: what the best fit of it leaves is the strings
    scale = float((both * piano).sum() / (piano * piano).sum())
    strings = both - scale * piano
    assert np.linalg.norm(strings) > 0.3 * np.linalg.norm(both)
    rms = np.sqrt((strings ** 2).mean(axis=1))
    assert rms[1] > 1.25 * rms[0]  # panned right, away from the piano (a stereo sample: 1.04 when centred)
    n = int(bar * sr)
    for b in range(2):
        chroma = librosa.feature.chroma_stft(y=strings.mean(axis=0)[b * n:(b + 1) * n], sr=sr, tuning=0)
        assert set(np.argsort(chroma.mean(axis=1))[-2:]) == {p % 12 for p in PRELUDE_CHORDS[b][:2]}, b
    mono = bach_prelude(seconds=2 * bar, sample_rate=sr, strings=True, soundfont=pip_soundfont())
    assert mono.shape == (round(2 * bar * sr),) and np.abs(mono).max() == pytest.approx(0.5)


@pytest.mark.parametrize("kit", ["VariBreaks", None])
def test_stereo_break_beat_at_48k_stays_on_the_grid(kit):
    y = break_beat(seconds=4.0, sample_rate=48000, channels=2, kit=kit, soundfont=pip_soundfont(), seed=1)
    assert y.shape == (2, 4 * 48000) and y.dtype == np.float32
    assert np.abs(y).max() == pytest.approx(0.5)
    assert np.abs(y).max(axis=1).min() > 0.2 and np.corrcoef(y)[0, 1] < 0.99
    _on_grid(y.mean(axis=0), 48000)
    np.testing.assert_array_equal(y, break_beat(seconds=4.0, sample_rate=48000, channels=2, kit=kit,
                                                soundfont=pip_soundfont(), seed=1))


@pytest.fixture
def fake_kit(tmp_path, monkeypatch):
    """A Hydrogen-layout kit of four synthetic decaying hits, installed as 'Fake'."""
    import soundfile as sf

    from auditory_deepdream.dataset import pieces

    folder, sr = tmp_path / "Fake", 44100
    folder.mkdir()
    t = np.arange(int(0.15 * sr)) / sr
    rng = np.random.default_rng(0)
    xml = ['<drumkit_info xmlns="http://www.hydrogen-music.org/drumkit"><name>Fake</name><instrumentList>']
    for name, freq in {"Kick": 60, "Snare": 200, "Hat 1 Cl": 3000, "Hat 1 Op": 5000}.items():
        hit = (np.sin(2 * np.pi * freq * t) + 0.3 * rng.standard_normal(len(t))) * np.exp(-t / 0.03)
        sf.write(folder / f"{name}.wav", (0.8 * hit / np.abs(hit).max()).astype(np.float32), sr)
        xml.append(f"<instrument><name>{name}</name><layer><filename>{name}.wav</filename></layer></instrument>")
    (folder / "drumkit.xml").write_text("".join(xml) + "</instrumentList></drumkit_info>")
    monkeypatch.setattr(pieces, "_HYDROGEN", tmp_path)
    return "Fake"


def test_hydrogen_kit_is_panned_with_constant_power(settings, fake_kit):
    mono = break_beat(seconds=4.0, settings=settings, kit=fake_kit, seed=1)
    assert mono.shape == (4 * settings.sample_rate,)
    _on_grid(mono, settings.sample_rate)
    np.testing.assert_array_equal(mono, break_beat(seconds=4.0, settings=settings, kit=fake_kit, seed=1, channels=1))
    y = break_beat(seconds=4.0, sample_rate=48000, kit=fake_kit, seed=1, channels=2)
    assert y.shape == (2, 4 * 48000) and np.abs(y).max() == pytest.approx(0.5)
    _on_grid(y.mean(axis=0), 48000)
    kick, snare, hat = (_step_rms(y, step, 48000) for step in (13, 7, 6))  # steps with one piece alone
    assert kick[0] == pytest.approx(kick[1], rel=1e-3)  # centre
    assert snare[0] / snare[1] == pytest.approx(1 / np.tan(3 * np.pi / 16), rel=0.02)
    assert hat[1] / hat[0] == pytest.approx(np.tan(3 * np.pi / 8), rel=0.02)  # +0.5: right


def test_sustained_cello_note_is_c3_and_held():
    sr, seconds, release = 44100, 2.0, 0.5
    y = sustained_note(program=42, pitch=48, soundfont=pip_soundfont())
    assert y.shape == (2, round(seconds * sr)) and y.dtype == np.float32
    assert np.abs(y).max() == pytest.approx(0.5)
    mono = y.mean(axis=0)
    f0, voiced, _ = librosa.pyin(mono, fmin=60, fmax=500, sr=sr, frame_length=4096)
    cents = 1200 * np.log2(np.nanmedian(f0[voiced]) / 130.81)
    assert abs(cents) < 50, cents
    hop, frame = 512, 2048
    rms = librosa.feature.rms(y=mono, frame_length=frame, hop_length=hop, center=False)[0]
    start = np.arange(len(rms)) * hop
    level = 20 * np.log10(rms / rms.max())
    held = (start > 0.05 * sr) & (start + frame < (seconds - release) * sr)
    assert level[held].min() > -40  # sustained, not a decaying (percussive) note
    assert level[-1] < -40  # and released where asked
    np.testing.assert_array_equal(y, sustained_note(program=42, pitch=48, soundfont=pip_soundfont()))


def test_sustained_note_layouts_and_errors():
    left = sustained_note(program=42, pitch=48, seconds=0.5, release_seconds=0.1, pan=16, soundfont=pip_soundfont())
    rms = np.sqrt((left ** 2).mean(axis=1))
    assert rms[0] > 2 * rms[1]
    mono = sustained_note(program=42, pitch=48, seconds=0.5, release_seconds=0.1, channels=1, sample_rate=48000,
                          soundfont=pip_soundfont())
    assert mono.shape == (24000,) and np.abs(mono).max() == pytest.approx(0.5)
    with pytest.raises(DatasetError, match="silence"):
        sustained_note(program=42, pitch=127, seconds=0.3, release_seconds=0.1, soundfont=pip_soundfont())
    with pytest.raises(DatasetError, match="release_seconds"):
        sustained_note(program=42, pitch=48, seconds=0.3, release_seconds=0.3, soundfont=pip_soundfont())
    with pytest.raises(DatasetError, match="channels"):
        bach_prelude(seconds=1.0, channels=3, soundfont=pip_soundfont())
    with pytest.raises(DatasetError, match="sample_rate"):
        break_beat(seconds=1.0, sample_rate=0, kit=None, soundfont=pip_soundfont())
