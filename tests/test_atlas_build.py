"""build_atlas: every filter pictured and heard, natural examples, resume after kill -9, bad input."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from atlas_fixtures import tiny_model_dir, tiny_store

from auditory_deepdream.atlas import AtlasConfig, AtlasError, build_atlas, page_name
from auditory_deepdream.audio import example_clip
from auditory_deepdream.errors import AudioInputError, DatasetError, OutputError

CONFIG = AtlasConfig(steps=2, chunk=4, clip_seconds=1.0, top_k=2, max_segments=None)
TESTS = Path(__file__).parent


@pytest.fixture(scope="module")
def base(tmp_path_factory):
    return tmp_path_factory.mktemp("atlas")


@pytest.fixture(scope="module")
def built(base):
    out = base / "built"
    build = build_atlas(tiny_model_dir(base), out, clips=[example_clip("cello_C3"), example_clip("piano_E4")],
                        store=tiny_store(base), config=CONFIG, progress=False)
    return build, out


def _files(folder: Path) -> dict:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def test_every_filter_of_every_layer_is_pictured_and_heard(built, base):
    from auditory_deepdream.dreamer import Dreamer

    build, out = built
    dreamer = Dreamer.load(tiny_model_dir(base))
    layers = build.timings["site"]["layers"]
    assert layers and all(dreamer.info.layer_filters[name] == n for name, n in layers.items())
    for name, n in layers.items():
        page = (out / page_name(name)).read_text()
        data = json.loads(page.split("window.ATLAS = ", 1)[1].split(";</script>", 1)[0])
        assert [f["index"] for f in data["filters"]] == list(range(n))
        for f in data["filters"]:
            assert set(f["clips"]) == {"cello_C3", "piano_E4"}
            for clip in f["clips"].values():
                assert (out / clip["change"]).read_bytes().startswith(b"\x89PNG")
                y, rate = sf.read(out / clip["sound"])
                assert rate == 16_000 and len(y) > 0.9 * rate and np.isfinite(y).all()
                assert clip["scale_db"] >= 0.5
            assert len(f["raises"]) == 3 and {r[0] for r in f["raises"]} <= {"brass", "flute", "piano", "string"}
            assert f["raises"][0][1] >= f["raises"][1][1] >= f["raises"][2][1]
    assert build.files == sum(1 for p in out.rglob("*") if p.is_file()) and build.bytes > 0


def test_natural_examples_are_the_segments_that_excite_a_filter_most(built, base):
    from auditory_deepdream.atlas.examples import filter_activations
    from auditory_deepdream.dataset.store import FeatureStore
    from auditory_deepdream.dreamer import Dreamer

    _, out = built
    store = FeatureStore(tiny_store(base))
    examples = json.loads((out / "examples.json").read_text())
    dreamer = Dreamer.load(tiny_model_dir(base))
    layer = next(iter(examples["top"]))
    acts = filter_activations(dreamer, store, layers=[layer], rows=np.arange(len(store)), progress=False)[layer]
    notes = store.index["note_id"]
    for f, rows in enumerate(examples["top"][layer]):
        assert rows[0] == int(np.argmax(acts[:, f])) and acts[rows[0], f] >= acts[rows[1], f]
        assert notes[rows[0]] != notes[rows[1]]  # two notes, not two segments of one
        second = notes != notes[rows[0]]
        assert acts[rows[1], f] == acts[second.to_numpy(), f].max()
        for r in rows:
            shown = examples["rows"][str(r)]
            assert shown["family"] == store.index.loc[r, "family"]
            assert shown["audio"] == "griffin-lim"  # the test store keeps no recordings
            y, _ = sf.read(out / shown["sound"])
            assert np.abs(y).max() > 1e-3
    meaning = json.loads((out / "atlas.json").read_text())
    assert meaning["model"] == str(tiny_model_dir(base))


def test_the_pages_load_nothing_from_outside_the_folder(built):
    _, out = built
    for page in [*out.glob("*.html"), out / "atlas.js", out / "atlas.css"]:
        text = page.read_text()
        assert "http://" not in text and "https://" not in text and "//cdn" not in text, page


def test_a_build_killed_with_sigkill_resumes_to_identical_files(built, base, tmp_path):
    _, reference = built
    out = tmp_path / "killed"
    script = (f"import sys; sys.path.insert(0, {str(TESTS)!r}); from auditory_deepdream.atlas import *; "
              f"from auditory_deepdream.audio import example_clip; "
              f"build_atlas({str(tiny_model_dir(base))!r}, {str(out)!r}, "
              f"clips=[example_clip('cello_C3'), example_clip('piano_E4')], store={str(tiny_store(base))!r}, "
              f"config=AtlasConfig.from_dict({CONFIG.to_dict()!r}), progress=False)")
    proc = subprocess.Popen([sys.executable, "-c", script])
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline and proc.poll() is None:
        if len(list((out / "units").glob("*.json"))) >= 2:
            os.kill(proc.pid, signal.SIGKILL)
            break
        time.sleep(0.05)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the build finished before it could be killed"
    assert not (out / "index.html").exists()
    resumed = build_atlas(tiny_model_dir(base), out, clips=[example_clip("cello_C3"), example_clip("piano_E4")],
                          store=tiny_store(base), config=CONFIG, progress=False)
    assert resumed.units_resumed >= 2
    assert not [p for p in out.rglob("*") if ".tmp" in p.name]
    got, want = _files(out), _files(reference)
    assert sorted(got) == sorted(want)
    assert [name for name in want if got[name] != want[name]] == []


def test_a_dask_cluster_builds_the_same_atlas(built, base, tmp_path, two_process_cluster):
    _, reference = built
    out = tmp_path / "on-dask"
    build = build_atlas(tiny_model_dir(base), out, clips=[example_clip("cello_C3"), example_clip("piano_E4")],
                        store=tiny_store(base), scheduler=two_process_cluster, config=CONFIG, progress=False)
    assert build.units_resumed == 0 and build.units > 1
    assert sorted(_files(out)) == sorted(_files(reference))
    # Dask's workers run TensorFlow on one thread: sums in another order, the same dreams to a few 0.01 dB
    for unit in sorted((reference / "units").glob("*.json")):
        want, got = json.loads(unit.read_text()), json.loads((out / "units" / unit.name).read_text())
        for f, g in zip(want["filters"], got["filters"], strict=True):
            assert f["index"] == g["index"]
            for clip, entry in f["clips"].items():
                assert abs(entry["change_db"] - g["clips"][clip]["change_db"]) <= 0.05 + 0.01 * entry["change_db"]


def test_bad_input_is_refused_with_one_documented_error(base, tmp_path):
    model = tiny_model_dir(base)
    with pytest.raises(AtlasError, match="Unknown layer 'conv9'.*stage1_conv1"):
        build_atlas(model, tmp_path / "a", layers=["conv9"], config=CONFIG, progress=False)
    (tmp_path / "file").write_text("x")
    with pytest.raises(OutputError, match="is a file"):
        build_atlas(model, tmp_path / "file", config=CONFIG, progress=False)
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="other files"):
        build_atlas(model, tmp_path / "busy", config=CONFIG, progress=False)
    (tmp_path / "noise.wav").write_text("not audio")
    with pytest.raises(AudioInputError):
        build_atlas(model, tmp_path / "b", clips=[tmp_path / "noise.wav"], config=CONFIG, progress=False)
    with pytest.raises(DatasetError, match="not a finished dataset store"):
        build_atlas(model, tmp_path / "c", store=tmp_path, config=CONFIG, progress=False)
    assert not (tmp_path / "b" / "index.html").exists() and not (tmp_path / "c" / "index.html").exists()


def test_a_folder_built_with_other_settings_is_not_mixed(built, base):
    _, out = built
    with pytest.raises(AtlasError, match="other settings"):
        build_atlas(tiny_model_dir(base), out, clips=[example_clip("cello_C3"), example_clip("piano_E4")],
                    config=AtlasConfig(steps=3, chunk=4, clip_seconds=1.0), progress=False)


def test_a_filter_whose_ascent_diverges_is_marked_and_the_others_kept(base, tmp_path, monkeypatch):
    import auditory_deepdream.dreamer as dreamer_pkg
    from auditory_deepdream.errors import DreamError

    real = dreamer_pkg.audition_layer

    def diverging(y, *, filters, **kwargs):
        if 2 in filters:
            raise DreamError("Gradient ascent produced non-finite gradients (NaN or inf).")
        return real(y, filters=filters, **kwargs)

    monkeypatch.setattr(dreamer_pkg, "audition_layer", diverging)
    out = tmp_path / "diverged"
    build_atlas(tiny_model_dir(base), out, clips=[example_clip("cello_C3")], layers=["stage1_conv1"],
                config=CONFIG, progress=False)
    record = json.loads(next((out / "units").glob("stage1_conv1__0000.json")).read_text())
    marks = [f["clips"]["cello_C3"].get("diverged", False) for f in record["filters"]]
    assert marks == [False, False, True, False]
    assert record["filters"][3]["clips"]["cello_C3"]["change_db"] > 0
    assert (out / record["filters"][2]["clips"]["cello_C3"]["sound"]).stat().st_size > 0
