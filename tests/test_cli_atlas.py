"""``auditory-deepdream atlas``: every mistake refused in one line before TensorFlow loads."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from auditory_deepdream.cli import build_parser

# run main() in a fresh interpreter and report its exit code, its stderr and whether TensorFlow loaded
PROBE = ("import sys, io, contextlib; from auditory_deepdream.cli import main; err = io.StringIO()\n"
         "with contextlib.redirect_stderr(err): rc = main(sys.argv[1:])\n"
         "import json; print(json.dumps({'rc': rc, 'err': err.getvalue(), 'tf': 'tensorflow' in sys.modules}))")


def _run(*argv) -> dict:
    done = subprocess.run([sys.executable, "-c", PROBE, *map(str, argv)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_the_command_takes_the_issue_options():
    args = build_parser().parse_args(["atlas", "--model", "vgg-mtt", "--out", "x", "--clips", "a.wav", "b.wav",
                                      "--store", "s", "--scheduler", "tcp://127.0.0.1:8786"])
    assert (args.model, args.out, args.clips, args.store) == ("vgg-mtt", "x", ["a.wav", "b.wav"], "s")


def _empty_store(folder):
    from auditory_deepdream.settings import AudioSettings

    folder.mkdir()
    AudioSettings().save(folder / "settings.json")
    (folder / "index.csv").write_text("row,shard,shard_row,family\n")
    return folder


@pytest.mark.parametrize("case", ["model", "layer", "store", "empty store", "folder", "clip", "steps"])
def test_each_mistake_is_one_line_before_tensorflow_loads(case, tmp_path):
    out = tmp_path / "atlas"
    (tmp_path / "text.wav").write_text("not audio at all")
    argv = {"model": ["--model", "defualt", "--out", out],
            "layer": ["--layers", "stage9_conv1", "--out", out],
            "store": ["--store", tmp_path, "--out", out],
            "empty store": ["--store", _empty_store(tmp_path / "empty"), "--out", out],
            "folder": ["--out", tmp_path / "text.wav"],
            "clip": ["--clips", tmp_path / "text.wav", "--out", out],
            "steps": ["--steps", "-1", "--out", out]}[case]
    got = _run("atlas", *argv)
    expected = {"model": "Did you mean 'default'", "layer": "stage9_conv1", "store": "not a finished dataset store",
                "empty store": "no segments", "folder": "is a file", "clip": "not an audio file", "steps": "steps"}[case]
    assert got["rc"] == 2 and not got["tf"], got
    assert got["err"].startswith("error: ") and expected in got["err"] and got["err"].count("\n") == 1
    assert not out.exists()
