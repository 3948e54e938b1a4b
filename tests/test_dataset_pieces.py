"""Long demonstration pieces: the rendered Bach prelude and the break beat."""

import librosa
import numpy as np
import pytest

from auditory_deepdream.dataset import (
    PRELUDE_CHORDS,
    bach_prelude,
    break_beat,
    pip_soundfont,
)

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
