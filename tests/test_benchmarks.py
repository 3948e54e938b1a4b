"""The benchmark runner (benchmarks/run.py): its scenarios, their options, and the cheapest one end to end."""

import argparse
import json
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # the benchmarks are not installed with the package: import them from the checkout

from benchmarks import music, quality, run, tags  # noqa: E402
from benchmarks._common import RESULTS, result_path  # noqa: E402


def _keys(d, prefix=""):
    if not isinstance(d, dict):
        return set()
    return {f"{prefix}.{k}" for k in d} | {x for k, v in d.items() for x in _keys(v, f"{prefix}.{k}")}


def test_runner_offers_every_scenario_with_the_shared_options():
    parser = run.build_parser()
    choices = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction)).choices
    assert set(choices) == set(run.SCENARIOS) >= {"speed", "music", "training", "scaling", "quality", "long_files",
                                                  "cli_batch", "chords", "tags", "atlas"}
    args = parser.parse_args(["quality", "--quick", "--seed", "1", "--name", "dream_quality_seed1"])
    assert (args.quick, args.seed, Path(args.out)) == (True, 1, RESULTS)
    with pytest.raises(SystemExit):
        parser.parse_args(["speed", "--parts", "nonsense"])


def test_quick_results_never_take_a_committed_name(tmp_path):
    assert result_path(argparse.Namespace(out=tmp_path, quick=True), "dream") == tmp_path / "dream_quick.json"
    assert result_path(argparse.Namespace(out=tmp_path, quick=False), "dream") == tmp_path / "dream.json"


def test_every_quality_technique_is_valid_dream_options_or_a_recorded_skip():
    from auditory_deepdream.dreamer import PRESETS, SOUND_PATHS, DreamOptions
    from auditory_deepdream.errors import DreamError

    for path in SOUND_PATHS:
        for technique in quality.TECHNIQUES:
            for kind in ("layer", "class"):
                if quality.TECHNIQUES[technique]["waveform"] is None and path == "waveform":
                    with pytest.raises(DreamError, match="not applicable|smooth and max_jump"):
                        quality.technique_kwargs(path, technique, kind)
                    continue
                options = DreamOptions(**quality.technique_kwargs(path, technique, kind))
                assert options.domain == SOUND_PATHS[path]["domain"]
    morph = quality.technique_kwargs("original", "presets", "class")
    assert morph["strength"] == PRESETS["morph"].options.strength and morph["max_jump"] is None


def test_music_times_exactly_what_the_cli_passes(tmp_path):
    from auditory_deepdream.dreamer import PRESETS

    import shutil

    from auditory_deepdream.audio import example_clip

    src = shutil.copy(example_clip("cello_C3"), tmp_path / "in.wav")
    kwargs = music.cli_arguments(src, tmp_path / "out.wav")
    assert {"objective", "options"} <= set(kwargs) <= {"objective", "options", "start", "duration", "progress"}
    assert not kwargs.get("start") and kwargs.get("duration") is None  # the whole piece, as timed
    assert kwargs["options"].strength == PRESETS["strong"].options.strength
    assert kwargs["options"].loudness == "match"


def test_cheapest_scenario_writes_the_committed_result_keys(tmp_path):
    assert run.main(["speed", "--quick", "--parts", "frontend", "--out", str(tmp_path)]) == 0
    assert not (tmp_path / "frontend.json").exists()
    result = json.loads((tmp_path / "frontend_quick.json").read_text())
    assert _keys(result) == _keys(json.loads((RESULTS / "frontend.json").read_text()))
    assert result["encode"]["segments"] == 16 and result["decode"]["segments"] == 2
    assert result["encode"]["librosa_segments_per_s"] > 0 and result["decode"]["batched_over_per_segment"] > 0


# the longest first, so that two lanes finish together: alone on 2 cores, music took 137 s, speed 132, chords 80,
# atlas 75, training 74 and quality 67; cli_batch 119 s at 5 clips under load, now 3; the rest under a minute
QUICK_ORDER = ("music", "speed", "chords", "atlas", "training", "quality", "cli_batch", "scaling", "long_files",
               "tags")
QUICK_LANES = 2  # most of a quick run is one thread (importing TensorFlow, rendering, pyin): two share 2 cores well


@pytest.fixture(scope="module")
def quick_runs(request, tmp_path_factory):
    """Every selected scenario's ``--quick`` run, started at once in :data:`QUICK_LANES` lanes.

    Each run is its own process writing to its own folder, so the lanes share nothing but the
    machine; the tests below wait for their own run and check what it wrote.
    """
    import os
    import subprocess
    from concurrent.futures import ThreadPoolExecutor

    chosen = {item.callspec.params["name"] for item in request.session.items  # notebook cells are items too
              if getattr(item, "originalname", None) == "test_every_scenario_runs_at_quick"}
    env = {k: v for k, v in os.environ.items() if k != "AUDITORY_DEEPDREAM_SMOKE"}

    def quick(name):
        out = tmp_path_factory.mktemp(f"quick_{name}")
        done = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run.py"), name, "--quick", "--out", str(out)],
                              capture_output=True, text=True, timeout=1500, cwd=ROOT, env=env)
        return done, out

    order = [n for n in QUICK_ORDER if n in chosen] + sorted(chosen - set(QUICK_ORDER))
    with ThreadPoolExecutor(max_workers=QUICK_LANES) as pool:
        yield {name: pool.submit(quick, name) for name in order}


def test_quick_order_covers_every_scenario():
    assert set(QUICK_ORDER) == set(run.SCENARIOS)


@pytest.mark.parametrize("name", run.SCENARIOS)
def test_every_scenario_runs_at_quick(name, quick_runs):
    """Each scenario end to end at ``--quick`` (its smoke size), so that none can break unseen."""
    done, out = quick_runs[name].result()
    assert done.returncode == 0, f"{name} --quick failed:\n{done.stdout[-2000:]}\n{done.stderr[-4000:]}"
    written = sorted(out.glob("*_quick.json"))
    assert written, f"{name} --quick wrote no *_quick.json"
    for path in written:
        assert json.loads(path.read_text()), path


def test_tags_summary_counts_wins_pairs_and_real_source_equivalents():
    def dream(g, p):  # a judge's logits of guitar and piano in one dream
        return {"dream": {"j": {"guitar": g, "piano": p}}, "noise_lift_db": 1.0, "dream_seconds": 2.0,
                "spectral_change_db": 4.0}

    raw = {"c1": {"input": {"j": {"guitar": 0.0, "piano": 0.0}},
                  "dreams": {"guitar": dream(2.0, -1.0), "piano": dream(1.0, 1.0), "rock": dream(3.0, 0.0)}}}
    raw["c1"]["dreams"]["rock"]["noise_lift_db"] = 4.0
    sticks = {"c1": {"guitar": {"-6.0": {"j": 4.0}}}}
    out = tags.summarise(raw, sticks, ["j"])
    j = out["per_judge"]["j"]
    # guitar: 2 > 1 but not > 3; piano: 1 > -1 and 1 > 0; rock is nobody's tag here
    assert j["triples"] == 2 and j["beats_every_other"] == 0.5 and j["pairwise"] == 0.75
    assert j["median_equivalent"] == 0.5 and j["equivalents"] == 1  # guitar's rise 2 over the source's 4
    assert out["noise_lift_db"]["median"] == 1.0 and out["noise_lift_db"]["max"] == 4.0
    assert set(tags.MEMBERS) >= {"vgg-mtt", "vgg-both"} and tags._judges("vgg-both") == ["musicnn-mtt", "musicnn-msd"]


def test_an_atlas_run_of_some_parts_keeps_the_parts_it_did_not_run(tmp_path, monkeypatch):
    from benchmarks import atlas

    def build(args, out):
        out.mkdir(parents=True, exist_ok=True)
        (out / "index.html").write_text("<html></html>")
        return {"atlas_build_s": 1.0}

    monkeypatch.setattr(atlas, "build_part", build)
    monkeypatch.setattr(atlas, "browser_part", lambda out, switches: {"median_ms": float(switches)})
    parser = run.build_parser()
    common = ["--out", str(tmp_path), "--atlas-out", str(tmp_path / "site")]
    atlas.run(parser.parse_args(["atlas", "--parts", "build", "browser", "--switches", "20", *common]))
    atlas.run(parser.parse_args(["atlas", "--parts", "browser", "--switches", "7", *common]))
    result = json.loads((tmp_path / "atlas_default.json").read_text())
    assert result["build"] == {"atlas_build_s": 1.0} and result["browser"] == {"median_ms": 7.0}
    assert result["parts"] == ["build", "browser"] and set(result["env_of_part"]) == {"build", "browser"}
    atlas.run(parser.parse_args(["atlas", "--model", "vgg-mtt", "--parts", "browser", *common]))  # another model
    assert "build" not in json.loads((tmp_path / "atlas_vgg-mtt.json").read_text())
