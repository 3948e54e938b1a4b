"""The README is a user guide a newcomer can follow: short, its first three commands work as written.

The slow test clones the repository into a temporary folder and runs the README's first
three shell commands there, verbatim: a fresh virtual environment, the package installed
from PyPI (pip's cache makes this a few minutes), the quick start, the bundled examples and
a dream. Set ``AUDITORY_DEEPDREAM_SKIP_FRESH_CLONE=1`` to leave it out of a local run.
"""

import os
import re
import subprocess
from pathlib import Path

import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()
COMMANDS = re.findall(r"```bash\n(.+?)\n```", README, flags=re.S)
PYTHON = re.findall(r"```python\n(.+?)\n```", README, flags=re.S)


def test_the_readme_is_a_guide_of_at_most_250_lines():
    assert len(README.splitlines()) <= 250
    for heading in ("## Install", "## Dreaming your own files", "## What `classify` can tell", "## Read more"):
        assert heading in README
    for page in re.findall(r"\]\((docs/[^)#]+)\)", README):
        assert (ROOT / page).is_file(), page


def test_the_first_three_commands_start_from_a_clone_and_use_only_what_ships():
    install, examples, dream = COMMANDS[:3]
    assert install.startswith("python3 -m venv .venv && ") and install.endswith("auditory-deepdream quickstart")
    assert examples.strip() == ".venv/bin/auditory-deepdream examples"
    assert dream.startswith(".venv/bin/auditory-deepdream dream cello_C3 ")


def test_the_python_example_makes_an_audible_change_and_returns_plain_floats(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    scope = {}
    exec(compile(PYTHON[0].replace("print(", "(lambda *a: None)("), "README", "exec"), scope)  # noqa: S102
    summary = scope["r"].summary()
    assert type(summary["spectral_change_db"]) is float and type(summary["survival"]) is float
    assert summary["spectral_change_db"] >= 3.0  # a change people hear
    y, rate = sf.read(scope["path"])
    assert rate == 22_050 and scope["result"].summary()["spectral_change_db"] >= 3.0


@pytest.mark.skipif(os.environ.get("AUDITORY_DEEPDREAM_SKIP_FRESH_CLONE") == "1", reason="asked to skip")
def test_the_first_three_commands_work_verbatim_in_a_fresh_clone(tmp_path):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in ("VIRTUAL_ENV", "PYTHONPATH")}
    env["PATH"] = os.pathsep.join(p for p in env["PATH"].split(os.pathsep) if ".venv" not in p)
    for command in COMMANDS[:3]:
        done = subprocess.run(command, shell=True, cwd=clone, env=env, capture_output=True, text=True, timeout=1500)
        assert done.returncode == 0, f"{command}\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
    assert (clone / "out" / "quickstart" / "cello_C3_dream.wav").is_file()
    assert (clone / "out" / "quickstart" / "cello_C3_before_after.png").is_file()
    assert (clone / "out" / "cello_flute.png").is_file() and (clone / "out" / "cello_flute.wav.dream.json").is_file()
    y, rate = sf.read(clone / "out" / "cello_flute.wav")
    assert rate == 22_050 and len(y) > rate
