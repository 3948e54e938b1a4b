"""TensorFlow's start-up lines: kept off stderr by importing the package, unless the user chose a level."""

import os
import platform
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
TF_LINES = ("oneDNN", "absl", "E0000", "I0000", "W0000", "cpu_feature_guard")
CODE = ("import os, auditory_deepdream, tensorflow as tf; tf.constant(1.0) + 1.0; "
        "print(os.environ.get('TF_CPP_MIN_LOG_LEVEL'))")


def _run(level):
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["PYTHONPATH"] = str(ROOT)
    if level is not None:
        env["TF_CPP_MIN_LOG_LEVEL"] = level
    done = subprocess.run([sys.executable, "-c", CODE], capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip(), [l for l in done.stderr.splitlines() if any(w in l for w in TF_LINES)]


def test_importing_the_package_keeps_tensorflows_lines_off_stderr():
    level, lines = _run(None)
    assert level == "3" and lines == []


def test_a_level_the_user_set_is_kept_and_obeyed():
    level, lines = _run("0")
    assert level == "0"
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        # At level 0 TensorFlow always says something at start-up: the oneDNN line where it turns oneDNN on
        # (Intel processors), the cpu_feature_guard line where it leaves it off (AMD and others).
        assert lines, "TF_CPP_MIN_LOG_LEVEL=0 was set but TensorFlow's start-up lines did not reach stderr"
