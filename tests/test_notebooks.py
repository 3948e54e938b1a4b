"""The committed notebooks: small enough for a repository page, compressed audio, and the
same frame in each (what you will see and how long it takes; what we saw and where next)."""

import json
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
MB = 1_000_000


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_every_notebook_is_small_and_all_of_them_together_too():
    sizes = {p.name: p.stat().st_size for p in NOTEBOOKS}
    assert len(sizes) == 9
    assert max(sizes.values()) <= 3 * MB, sizes
    assert sum(sizes.values()) <= 12 * MB, sizes


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_audio_is_compressed_and_every_player_has_a_spectrogram(path):
    text = path.read_text()
    assert "audio/wav" not in text and "audio/x-wav" not in text
    for cell in _cells(path):
        for output in cell.get("outputs", []):
            html = "".join(output.get("data", {}).get("text/html", ""))
            players = html.count("<audio")
            assert html.count("data:image/png") >= players, "a player without its spectrogram"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_each_notebook_says_what_you_will_see_and_ends_with_what_we_saw(path):
    cells = _cells(path)
    first, last = "".join(cells[0]["source"]), "".join(cells[-1]["source"])
    assert "**What you will see:**" in first and "**Runtime:**" in first and "AUDITORY_DEEPDREAM_SMOKE" in first
    assert "{RUNTIME" not in first and "min" in first.split("**Runtime:**")[1].split("\n")[0]
    assert last.startswith("## What we saw / where next")
    assert "00_proof_of_concept.ipynb#measures" in first or path.name.startswith("00")
    sources = "".join("".join(c["source"]) for c in cells)
    assert "_DISCUSSION}" not in sources and "{CLOSING" not in sources


def test_the_measures_are_defined_once_where_every_notebook_links():
    sources = "".join("".join(c["source"]) for c in _cells(NOTEBOOKS[0]))
    assert '<a id="measures"></a>' in sources
    for term in ("**Survival**", "**Spectral change (dB)**", "**Transfer**", "**Accuracy**"):
        assert term in sources
