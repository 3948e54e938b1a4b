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


def test_tinysoundfont_is_installed_by_both_readme_commands():
    readme = (ROOT / "README.md").read_text()
    quick = re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S)[:2]
    assert all("pip install --no-deps tinysoundfont" in c for c in quick)


def test_gpu_command_swaps_tensorflow_cpu_for_the_same_version_range():
    readme = (ROOT / "README.md").read_text()
    (command,) = [c for c in re.findall(r"```bash\n(.+?)\n```", readme, flags=re.S) if "and-cuda" in c]
    cpu = next(Requirement(r) for r in requires("auditory-deepdream") if Requirement(r).name == "tensorflow-cpu")
    assert "pip uninstall -y tensorflow-cpu" in command
    assert f'pip install "tensorflow[and-cuda]{cpu.specifier}"' in command
    assert command.index("uninstall -y tensorflow-cpu") < command.index("and-cuda")
