"""Natural examples: the top segments of each filter, one per note, labelled from the render."""

import numpy as np

from auditory_deepdream.atlas.examples import _label, top_segments


def test_top_segments_keep_one_segment_per_note():
    acts = np.array([[5.0], [4.0], [3.0], [1.0]])
    assert top_segments(acts, 2).tolist() == [[0, 1]]
    assert top_segments(acts, 2, groups=["a", "a", "b", "c"]).tolist() == [[0, 2]]
    assert top_segments(acts, 3, groups=["a", "a", "a", "a"]).tolist() == [[0, 1, 2]]  # fewer notes than k


def test_labels_name_the_soundfont_preset_and_note_where_the_render_says_them():
    row = {"pitch": 28, "instrument": "bass_acoustic_032", "source": "soundfont"}
    assert _label(row, {"soundfont": "MuseScore_General.sf3", "preset_name": "Acoustic Bass"}) == (
        "MuseScore_General.sf3", "Acoustic Bass, E1")
    assert _label(row, None) == ("soundfont", "bass_acoustic_032 E1")
