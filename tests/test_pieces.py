import numpy as np
import pytest

from auditory_deepdream.pieces import PRELUDE_CHORDS, bach_prelude, break_beat
from auditory_deepdream.soundfont import pip_soundfont


def test_bach_prelude_plays_the_score(settings):
    bar = 4 * 60.0 / 66.0
    y = bach_prelude(seconds=2 * bar, settings=settings, soundfont=pip_soundfont())
    assert y.shape == (int(round(2 * bar * settings.sample_rate)),) and np.abs(y).max() == pytest.approx(0.5)
    import librosa
    first = y[: int(bar * settings.sample_rate)]
    chroma = librosa.feature.chroma_stft(y=first, sr=settings.sample_rate).mean(axis=1)
    top3 = set(np.argsort(chroma)[-3:])
    assert top3 == {p % 12 for p in PRELUDE_CHORDS[0]}  # C major: C, E, G
    np.testing.assert_array_equal(y, bach_prelude(seconds=2 * bar, settings=settings, soundfont=pip_soundfont()))


@pytest.mark.parametrize("kit", ["VariBreaks", None])
def test_break_beat_hits_on_the_grid(settings, kit):
    y = break_beat(seconds=4.0, settings=settings, kit=kit, soundfont=pip_soundfont(), seed=1)
    assert y.shape == (4 * settings.sample_rate,) and np.abs(y).max() == pytest.approx(0.5)
    sixteenth = int(60.0 / 96.0 / 4 * settings.sample_rate)
    frame = np.abs(y[: (len(y) // sixteenth) * sixteenth]).reshape(-1, sixteenth).max(axis=1)
    assert frame[0] > 0.3  # kick + hat on the downbeat
    np.testing.assert_array_equal(y, break_beat(seconds=4.0, settings=settings, kit=kit,
                                                soundfont=pip_soundfont(), seed=1))
