"""`auditory-deepdream classify` on notes of the SoundFont training never used (MuseScore_General).

One held note per family, rendered here from Debian's ``musescore-general-soundfont`` (the
README's ``apt-get install`` line; ``.ci/run`` runs it) with the GM program that
``gm_programs.csv`` flags per family, in the middle of the program's range, at velocity 90.
The bundled model must name at least 9 of the 10. Without the SoundFont the test is
skipped, except under CI (``CI=true``), where it fails: there it must run.
"""

import json
import os

import numpy as np
import pytest

from auditory_deepdream import cli
from auditory_deepdream.dataset import RenderConfig, default_soundfonts, gm_programs, render_soundfont
from auditory_deepdream.dataset.ontology import apply_ontology
from auditory_deepdream.dataset.readers import read_nsynth

INSTALL = "apt-get install fluid-soundfont-gm musescore-general-soundfont"


def _heldout_soundfont():
    held = [p for p in default_soundfonts()[1] if p.stem == "MuseScore_General"]
    if held:
        return held[0]
    message = f"MuseScore_General is not installed; {INSTALL}"
    if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
        pytest.fail(message + " (CI must run this test)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def heldout_notes(tmp_path_factory):
    """``{family: wav path}``: one note per family from MuseScore_General."""
    soundfont = _heldout_soundfont()
    table = gm_programs()
    flagged = table[table.heldout_program == 1]
    out = tmp_path_factory.mktemp("musescore")
    config = RenderConfig(velocities=(90,), programs=tuple(int(p) for p in flagged.program), max_pitches=3, jobs=1)
    render_soundfont(out, soundfonts=[soundfont], config=config, progress=False)
    notes = apply_ontology(read_nsynth(out, source="soundfont"), on_unknown="error")
    picked = {}
    for family, group in notes.groupby("family"):
        pitches = np.sort(group["pitch"].unique())
        middle = group[group["pitch"] == pitches[len(pitches) // 2]].iloc[0]
        picked[family] = str(out / middle["source_file"])
    return picked


# Issue 12's target. Most of these pitches lie between those of the old `full` render (every third
# semitone), on which the bundled model of that grid named 6 of the 10. The bundled `augmented` (three
# seeds averaged, trained on three SoundFonts at every semitone) names 9: it calls the sawtooth lead brass;
# the bundle before it (two SoundFonts) named all 10.
def test_classify_names_at_least_nine_of_ten_heldout_notes(heldout_notes, capsys):
    assert len(heldout_notes) == 10  # one per family the bundled model knows
    files = list(heldout_notes.values())
    assert cli.main(["classify", *files, "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    named = {family: report[path]["top"][0]["family"] for family, path in heldout_notes.items()}
    wrong = {family: guess for family, guess in named.items() if guess != family}
    assert len(wrong) <= 1, f"misnamed (true -> named): {wrong}"
