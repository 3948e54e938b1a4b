#!/usr/bin/env python3
"""How large is an install? The virtual environment of the base install and of the full test install.

Builds each environment with the README's pip commands (from this checkout, not editable) and
measures the folder on disk. ``--reuse`` measures environments that already exist at those paths
(built by the same commands) instead of building them again.

Writes ``benchmarks/results/install_size.json``.

Usage: ``python benchmarks/install_size.py [--root /tmp] [--reuse] [--before /path/to/older/checkout]``
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import write_result  # noqa: E402

INSTALLS = {  # name -> pip arguments after `pip install`
    "base": ["{checkout}"],
    "full (the test install)": ["{checkout}[test,notebooks,train,cluster]"],
}
TINYSOUNDFONT = ["--no-deps", "tinysoundfont"]  # both README commands add it


def _mb(folder: Path) -> float:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file() and not p.is_symlink()) / 2**20


def _build(venv: Path, args: list[str]) -> None:
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    for pip_args in (args, TINYSOUNDFONT):
        subprocess.run([str(venv / "bin" / "pip"), "install", "-q", *pip_args], check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", default="/tmp", help="where the environments are built")
    parser.add_argument("--reuse", action="store_true", help="measure environments that already exist")
    parser.add_argument("--before", help="an older checkout whose base install to measure as well (v_main)")
    args = parser.parse_args()
    runs = {name: (Path(args.root) / f"v_{name.split()[0]}", [a.format(checkout=ROOT) for a in pip_args])
            for name, pip_args in INSTALLS.items()}
    if args.before:
        runs["base, before the extras"] = (Path(args.root) / "v_main", [args.before])
    result = {}
    for name, (venv, pip_args) in runs.items():
        if not (args.reuse and (venv / "bin" / "python").is_file()):
            _build(venv, pip_args)
        heavy = ("aim", "dask", "distributed", "bokeh", "boto3", "fastapi", "bayes_opt", "pedalboard")
        site = next((venv / "lib").glob("python3*/site-packages"))
        result[name] = {
            "venv_mb": round(_mb(venv), 1),
            "pip_commands": [f"python3 -m venv {venv}", f"{venv}/bin/pip install {' '.join(pip_args)}",
                             f"{venv}/bin/pip install {' '.join(TINYSOUNDFONT)}"],
            "has": sorted(m for m in heavy if (site / m).is_dir()),
        }
    write_result("install_size", result)


if __name__ == "__main__":
    main()
