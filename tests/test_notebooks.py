"""The committed notebooks: small enough for a repository page, compressed audio, and the
same frame in each (what you will see and how long it takes; what we saw and where next)."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).parents[1] / "notebooks").glob("*.ipynb"))
MB = 1_000_000


def _cells(path):
    return json.loads(path.read_text())["cells"]


def test_every_notebook_is_small_and_all_of_them_together_too():
    sizes = {p.name: p.stat().st_size for p in NOTEBOOKS}
    assert len(sizes) == 11  # 00-09 and the appendix
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


# ---------------------------------------------------------------- numbers in the closing text
# A number a closing cell states must be printed by an output of its notebook (or follow from one by
# rounding, or as a percentage), unless its sentence says where it comes from: "cited from `FILE`",
# and then the file must hold it. Numbers with one significant digit ("3 clips", "0.5") are left out.
_NUMBER = re.compile(r"(?<![\w.])[-−]?\d+(?:,\d{3})*(?:\.\d+)?(?![\w])(\s*%)?")
_PRINTED = re.compile(r"(?<![\d.])[-−]?\d+(?:,\d{3})*(?:\.\d+)?")  # in outputs units may follow: 12.5x, 2.0s
_CITED = re.compile(r"cited from `([^`]+)`")


def _significant_digits(token: str) -> int:
    return len(token.replace(",", "").replace(".", "").lstrip("-−0"))


def _claims(markdown: str):
    """(number, decimals, is_percent, sentence) for each 2+-significant-digit number in prose."""
    text = re.sub(r"\]\([^)]*\)", "]", markdown)  # link targets (notebook file names)
    text = re.sub(r"^#+ .*$", "", text, flags=re.MULTILINE)
    # inline code holds names such as stage1_conv1, not claims: blanked, keeping positions for the sentence
    masked = re.sub(r"`[^`]*`", lambda m: " " * len(m.group(0)), text)
    for match in _NUMBER.finditer(masked):
        token = match.group(0).rstrip("% ").replace("−", "-")
        if _significant_digits(token) < 2:
            continue
        start = text.rfind(". ", 0, match.start()) + 1
        end = text.find(". ", match.end())
        yield (abs(float(token.replace(",", ""))), len(token.split(".")[1]) if "." in token else 0,
               bool(match.group(1)), text[start:end if end >= 0 else None])


def _output_text(cells) -> str:
    parts = []
    for cell in cells:
        for output in cell.get("outputs", []):
            parts.append("".join(output.get("text", "")))
            for mime in ("text/plain", "text/html", "text/markdown"):
                parts.append("".join(output.get("data", {}).get(mime, "")))
    return "\n".join(parts)


def _numbers_in(text: str) -> set[float]:
    return {abs(float(m.group(0).replace("−", "-").replace(",", ""))) for m in _PRINTED.finditer(text)}


def _follows(value: float, decimals: int, percent: bool, printed: set[float]) -> bool:
    scale = (1, 100) if percent or decimals <= 1 else (1,)
    return any(abs(round(p * s, decimals) - value) < 1e-9 for p in printed for s in scale)


def _unsupported(path: Path) -> list[str]:
    cells = _cells(path)
    printed = _numbers_in(_output_text(cells))
    problems = []
    for value, decimals, percent, sentence in _claims("".join(cells[-1]["source"])):
        cited = _CITED.search(sentence)
        if cited:
            source = (path.parent / cited.group(1)).resolve()
            assert source.is_file(), f"{path.name}: cited file {cited.group(1)} does not exist"
            if _follows(value, decimals, percent, _numbers_in(source.read_text())):
                continue
        elif _follows(value, decimals, percent, printed):
            continue
        problems.append(f"{value:g} in: {sentence.strip()[:160]}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_number_in_the_closing_text_is_printed_above_it_or_cited(path):
    assert not _unsupported(path), "\n".join(_unsupported(path))


def test_the_numbers_check_fails_on_a_number_nothing_printed(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "", "outputs": [{"output_type": "stream", "text": "acc 0.8596\n"}]},
                    {"cell_type": "markdown", "source": "## What we saw / where next\nIt names 86.0% (0.86) of notes; "
                                                        "chance is 0.13."}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    assert [p.split(" in:")[0] for p in _unsupported(path)] == ["0.13"]


_TF_LOG = re.compile(r"I0000|E0000|W0000|oneDNN custom operations|absl::InitializeLog|cpu_feature_guard")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_no_tensorflow_start_up_lines_reach_a_cell(path):
    # the package keeps them off stderr (quiet.py) unless the user sets TF_CPP_MIN_LOG_LEVEL first
    for cell in _cells(path):
        assert "TF_CPP_MIN_LOG_LEVEL" not in "".join(cell["source"])
        for output in cell.get("outputs", []):
            if output.get("name") == "stderr":
                assert not _TF_LOG.search("".join(output.get("text", ""))), "".join(output["text"])[:300]


def test_the_auditioner_is_saved_with_its_widget_state():
    nb = json.loads((NOTEBOOKS[0].parent / "05_audition.ipynb").read_text())
    state = nb["metadata"]["widgets"]["application/vnd.jupyter.widget-state+json"]["state"]
    views = [o["data"] for c in nb["cells"] for o in c.get("outputs", [])
             if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert views and all(v["application/vnd.jupyter.widget-view+json"]["model_id"] in state for v in views)
    assert all("image/png" in v and "VBox" not in "".join(v["text/plain"]) for v in views)  # untrusted: a picture


# ---------------------------------------------------------------- claims about clips
# A sentence of a markdown cell that calls something "real", "recorded", "untouched", "unchanged" or
# "never heard" must say where the sound comes from (a source named in SOURCES: a SoundFont, a sample
# collection, "render of ...") or how the claim was checked (CHECKS: "checked in cell [N]", or a
# measure that a cell prints). Words inside inline code (`real_time_ratio`) are names, not claims.
CLAIM_WORDS = re.compile(r"\b(real|recorded|untouched|unchanged|never heard)\b", re.IGNORECASE)
SOURCES = ("FluidR3_GM", "TimGM6mb", "MuseScore_General", "Merlin", "Salamander", "tonejs", "Hydrogen",
           "MagnaTagATune", "Million Song Dataset", "render of", "rendered with", "renders of")
CHECKS = re.compile(r"checked in cell \[\d+\]|\bSNR\b|signal-to-noise|\bsurvival\b|\baccuracy\b|note vote",
                    re.IGNORECASE)


def _sentences(markdown: str):
    text = re.sub(r"`[^`]*`", "``", markdown)  # inline code: names, not claims
    text = re.sub(r"\]\([^)]*\)", "]", text)  # link targets
    text = re.sub(r"^(#+ .*)$", r"\1\n", text, flags=re.MULTILINE)  # a heading is a sentence of its own
    for block in re.split(r"\n\s*\n|\n(?=\s*(?:[-*]|\d+\.)\s)|\n(?=#)", text):
        block = re.sub(r"^\s*(?:[-*]|\d+\.)\s+", "", block)  # a list item's marker
        yield from (s.strip() for s in re.split(r"(?<=[.!?])\s+(?=[A-Z(*\[])", " ".join(block.split())))


def _unsourced_claims(path: Path) -> list[str]:
    problems = []
    for i, cell in enumerate(_cells(path)):
        if cell["cell_type"] != "markdown":
            continue
        for sentence in _sentences("".join(cell["source"])):
            if CLAIM_WORDS.search(sentence) and not (any(s.lower() in sentence.lower() for s in SOURCES)
                                                     or CHECKS.search(sentence)):
                problems.append(f"[{i}] {sentence[:200]}")
    return problems


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_every_real_recorded_or_untouched_clip_names_its_source_or_its_check(path):
    problems = _unsourced_claims(path)
    assert not problems, "\n".join(problems)


def test_the_claims_check_fails_on_a_clip_called_real_with_no_source(tmp_path):
    nb = {"cells": [{"cell_type": "markdown", "source": "# 01 · x\nA real cello note, dreamed. A render of "
                                                        "FluidR3_GM's cello, which is real enough.\n\n"
                                                        "- The band above stays untouched.\n"
                                                        "- The band above stays untouched (SNR above 30 dB).\n"
                                                        "`real_time_ratio` is a name."}]}
    path = tmp_path / "x.ipynb"
    path.write_text(json.dumps(nb))
    assert _unsourced_claims(path) == ["[0] A real cello note, dreamed.", "[0] The band above stays untouched."]
