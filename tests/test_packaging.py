"""The install paths agree: pyproject.toml, environment.yml, README and .ci/run."""

import re
from importlib.metadata import requires
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]
# tinysoundfont is installed with --no-deps by pip users (its pyaudio needs portaudio headers);
# conda users get portaudio from conda and install it normally.
PIP_NO_DEPS = {"tinysoundfont"}


def _key(req: Requirement):
    marker = str(req.marker or "")
    marker = re.sub(r'\s*(and\s+)?extra == "\w+"', "", marker).strip()
    return canonicalize_name(req.name), str(req.specifier), marker


def _environment_pip_requirements():
    lines = (ROOT / "environment.yml").read_text().splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip() == "- pip:")
    reqs = []
    for line in lines[start + 1:]:
        m = re.match(r'\s+- "(.+)"$', line)
        if m and not m.group(1).startswith("-e"):
            reqs.append(Requirement(m.group(1)))
    return reqs


def test_environment_yml_lists_the_same_dependencies_as_pyproject():
    ours = {_key(Requirement(r)) for r in requires("auditory-deepdream")}
    conda = {_key(r) for r in _environment_pip_requirements() if r.name not in PIP_NO_DEPS}
    assert ours == conda


def test_ci_runs_the_readme_test_command():
    readme = (ROOT / "README.md").read_text()
    commands = re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)
    test_cmd = next(c for c in commands if "pytest" in c)
    assert test_cmd.strip() in (ROOT / ".ci" / "run").read_text()


def test_every_readme_install_adds_tinysoundfont_and_musicnn_without_their_dependencies():
    readme = (ROOT / "README.md").read_text()
    installs = [c for c in re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S) if "python3 -m venv" in c]
    assert len(installs) >= 3  # the first command, the GPU swap, the tests
    assert all("pip install --no-deps tinysoundfont musicnn" in c for c in installs)
    assert "pip install --no-deps tinysoundfont musicnn" in (ROOT / ".ci" / "run").read_text()


def test_gpu_command_swaps_tensorflow_cpu_for_the_same_version_range():
    readme = (ROOT / "README.md").read_text()
    (command,) = [c for c in re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S) if "and-cuda" in c]
    cpu = next(Requirement(r) for r in requires("auditory-deepdream") if Requirement(r).name == "tensorflow-cpu")
    assert "pip uninstall -y tensorflow-cpu" in command
    assert f'pip install "tensorflow[and-cuda]{cpu.specifier}"' in command
    assert command.index("uninstall -y tensorflow-cpu") < command.index("and-cuda")


def test_dreaming_and_classifying_import_none_of_the_training_and_cluster_extras():
    import subprocess
    import sys

    code = ("import sys, auditory_deepdream, auditory_deepdream.dreamer, auditory_deepdream.classify, "
            "auditory_deepdream.cli; print(sorted({m.split('.')[0] for m in sys.modules} & "
            "{'aim', 'dask', 'distributed', 'bokeh', 'bayes_opt', 'pedalboard'}))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=300,
                          env={**__import__("os").environ, "PYTHONPATH": str(ROOT)})
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"


def test_the_training_and_cluster_packages_are_extras_not_dependencies():
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = {canonicalize_name(Requirement(r).name) for r in project["dependencies"]}
    extras = project["optional-dependencies"]
    assert not base & {"aim", "dask", "bayesian-optimization", "pedalboard"}
    assert {canonicalize_name(Requirement(r).name) for r in extras["train"]} == {"aim", "bayesian-optimization",
                                                                                 "pedalboard"}
    assert [Requirement(r).name for r in extras["cluster"]] == ["dask"]
    # the test install gets every extra, so every test runs
    assert '.[test,notebooks,train,cluster]' in (ROOT / ".ci" / "run").read_text()
