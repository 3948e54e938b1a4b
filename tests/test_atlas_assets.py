"""An atlas read back by the auditioner: its pictures and sounds stand in for dreams it holds."""

from __future__ import annotations

import io
import re
from pathlib import Path

import pytest
from atlas_fixtures import tiny_model_dir

from auditory_deepdream.atlas import AtlasConfig, AtlasError, build_atlas
from auditory_deepdream.atlas.assets import AtlasAssets
from auditory_deepdream.audio import example_clip, load_audio
from auditory_deepdream.widgets import Auditioner, AuditionState

CONFIG = AtlasConfig(steps=2, chunk=4, clip_seconds=1.0)


@pytest.fixture(scope="module")
def atlas(tmp_path_factory):
    base = tmp_path_factory.mktemp("assets")
    out = base / "atlas"
    build_atlas(tiny_model_dir(base), out, clips=[example_clip("cello_C3")], layers=["stage1_conv1"], config=CONFIG,
                progress=False)
    return base, out


def test_the_auditioner_shows_the_atlas_instead_of_dreaming(atlas):
    from auditory_deepdream.dreamer import Dreamer

    base, out = atlas
    dreamer = Dreamer.load(tiny_model_dir(base))
    y = load_audio(example_clip("cello_C3"), settings=dreamer.settings)[: dreamer.settings.sample_rate]
    auditioner = Auditioner(y, dreamer=dreamer, steps=2, atlas=out, clip="cello_C3")
    views = auditioner.views(AuditionState(layer="stage1_conv1", filter=3, steps=2))
    assert views["png"] == (out / "layers" / "stage1_conv1" / "f0003_cello_C3.png").read_bytes()
    assert views["after_audio"] == (out / "layers" / "stage1_conv1" / "f0003_cello_C3.mp3").read_bytes()
    assert "from the atlas" in views["text"]
    assert auditioner.grid(AuditionState(layer="stage1_conv1", steps=2))[:4] == b"\x89PNG"
    assert auditioner.runs == 0  # nothing was dreamed
    other = auditioner.views(AuditionState(layer="stage1_conv1", filter=3, steps=3))  # not in the atlas
    assert auditioner.runs >= 1 and other["png"] != views["png"] and "from the atlas" not in other["text"]


def test_a_missing_atlas_or_clip_is_named(atlas, tmp_path):
    _, out = atlas
    with pytest.raises(AtlasError, match="No atlas"):
        AtlasAssets(tmp_path, clip="cello_C3")
    with pytest.raises(AtlasError, match="no clip 'flute_A4'.*cello_C3"):
        AtlasAssets(out, clip="flute_A4")
    assets = AtlasAssets(out, clip="cello_C3")
    assert assets.covers(layer="stage1_conv1", index=3, steps=2, step_size=1.0, seed=0)
    assert not assets.covers(layer="stage1_conv1", index=4, steps=2, step_size=1.0, seed=0)
    assert not assets.covers(layer="stage1_conv1", index=0, steps=2, step_size=1.0, seed=1)


def test_a_layer_grid_and_the_missing_examples_of_an_atlas_built_without_a_store(atlas):
    from PIL import Image

    _, out = atlas
    assets = AtlasAssets(out, clip="cello_C3")
    assert assets.layers() == {"stage1_conv1": 4}  # the tiny model's first layer
    grid = Image.open(io.BytesIO(assets.grid("stage1_conv1")))
    assert grid.size[0] > 4 * 96 and grid.size[1] < 2 * 56  # four cells in one row
    with pytest.raises(AtlasError, match="no layer 'stage9'.*stage1_conv1"):
        assets.grid("stage9")
    with pytest.raises(AtlasError, match="no natural examples"):
        assets.examples(layer="stage1_conv1", index=0)
    assert assets.raises(layer="stage1_conv1", index=0)[0][1] >= assets.raises(layer="stage1_conv1", index=0)[-1][1]


REPO_ATLAS = Path(__file__).resolve().parents[1] / "docs" / "atlas" / "default"


def test_the_committed_atlas_reads_back_its_examples_and_the_meaning_its_index_shows():
    assets = AtlasAssets(REPO_ATLAS, clip="cello_C3")
    shown = assets.examples(layer="stage3_conv1", index=5)
    assert len(shown) == assets.config.top_k and all(e["sound"].is_file() for e in shown)
    files = assets.files(layer="stage3_conv1", index=5)
    assert all(files[k].is_file() for k in ("change", "sound", "clip_picture", "clip_sound"))
    assert files["sound"].read_bytes() == assets.views(layer="stage3_conv1", index=5)["after_audio"]
    assert {"family", "label", "source", "audio", "row"} <= set(shown[0])
    meaning = assets.meaning()
    row = re.search(r"<td>all layers</td><td>(\d+)</td><td>([\d.]+)</td><td>([\d.]+)</td><td>[\d.]+</td>"
                    r"<td>([\d.]+)</td>", assets.index_page.read_text())
    overall = meaning["overall"]
    assert (overall["filters"], f"{overall['agreement']:.2f}", f"{overall['baseline_mean']:.2f}",
            f"{overall['p_value']:.3f}") == (int(row.group(1)), row.group(2), row.group(3), row.group(4))
