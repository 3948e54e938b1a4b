"""Auditioner callbacks: slider range follows the layer, results are cached, views render."""

import base64
import io

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream import models
from auditory_deepdream.dreamer import SOUND_PATHS, Dreamer, amplify_filter
from auditory_deepdream.widgets import Auditioner, AuditionState


@pytest.fixture(scope="module")
def auditioner(settings, cello):
    model = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=0)
    d = Dreamer(model, settings=settings, card={"classes": ["brass", "keyboard", "string"]})
    return Auditioner(cello[: settings.sample_rate // 2], dreamer=d, steps=2)


def test_filter_range_follows_layer(auditioner):
    assert auditioner.filter_range("stage1_conv1") == (0, 7)
    assert auditioner.filter_range("stage2_conv1") == (0, 15)
    auditioner.update(layer="stage2_conv1", filter=12)
    state = auditioner.on_layer("stage1_conv1")
    assert state.filter == 7 and state.layer == "stage1_conv1"


def test_the_layer_list_offers_convolutions_not_batch_norm_pooling_or_dropout(auditioner, settings, cello):
    convs = models.conv_layer_names(auditioner.dreamer.model)
    assert auditioner.layers == convs and len(convs) == 4
    assert auditioner.widget().children  # builds with that list
    named = Auditioner(cello[:2048], dreamer=auditioner.dreamer, layer="stage2_pool", steps=1)
    assert named.layers == convs + ["stage2_pool"] and named.state.layer == "stage2_pool"


def test_results_are_cached_and_one_batched_run_fills_a_layer(auditioner):
    auditioner.cache.clear()
    auditioner.runs = 0
    first = auditioner.result(AuditionState(layer="stage1_conv1", filter=2, steps=2))
    assert auditioner.runs == 1
    for k in range(8):
        res = auditioner.result(AuditionState(layer="stage1_conv1", filter=k, steps=2))
        assert res.audio.ndim == 1 and str(res.objective) == f"stage1_conv1[{k}]"
    assert auditioner.runs == 1
    assert auditioner.result(AuditionState(layer="stage1_conv1", filter=2, steps=2)) is first
    # the batched item equals a single-filter dream
    single = amplify_filter(auditioner.y, model=auditioner.dreamer, layer="stage1_conv1", index=2, steps=2,
                              progress=False)
    np.testing.assert_allclose(first.audio, single.audio, atol=2e-3)
    auditioner.result(AuditionState(layer="stage1_conv1", filter=2, steps=3))
    assert auditioner.runs == 2


def test_layer_and_class_objectives_ignore_unused_controls(auditioner):
    auditioner.runs = 0
    a = auditioner.result(AuditionState(layer="stage2_conv1", filter=1, steps=2, objective="layer"))
    b = auditioner.result(AuditionState(layer="stage2_conv1", filter=9, steps=2, objective="layer"))
    c = auditioner.result(AuditionState(layer="stage1_conv1", steps=2, objective="class", family=1))
    assert a is b and auditioner.runs == 2
    assert c.objective_dreamed[0] > c.objective_before[0]


def test_views_and_widget(auditioner):
    state = AuditionState(layer="stage1_conv1", filter=0, steps=2)
    views = auditioner.views(state)
    assert views["png"][:4] == views["before_png"][:4] == b"\x89PNG" and views["png"] != views["before_png"]
    res = auditioner.result(state)
    for key, expected in (("before_audio", res.input_audio), ("after_audio", res.audio)):
        assert views[key][0] == 0xFF and views[key][1] >> 5 == 0b111  # an MPEG frame sync, not RIFF/WAV
        heard, rate = sf.read(io.BytesIO(views[key]))
        assert rate == auditioner.dreamer.settings.sample_rate and len(heard) == len(expected)
        assert np.corrcoef(heard, expected)[0, 1] > 0.9  # the same sound, lossily coded
    assert "survival" in views["text"] and "share of the gain" in views["text"]
    ui = auditioner.widget()
    controls = auditioner._controls
    controls["layer"].value = "stage2_conv1"
    assert controls["filter"].max == 15 and auditioner.state.layer == "stage2_conv1"
    controls["layer"].value = "stage1_conv1"
    assert controls["filter"].max == 7
    assert controls["image"].value[:4] == b"\x89PNG"
    assert controls["before"].format == controls["after"].format == "mpeg"  # served as audio/mpeg
    assert controls["after"].value[:4] == views["after_audio"][:4] != b"RIFF"
    assert controls["layer"] in ui.children[0].children and controls["sound_path"] in ui.children
    assert list(controls["sound_path"].options) == list(SOUND_PATHS)
    # an untrusted notebook shows the richest safe type: the current spectrogram, not VBox(children=...)
    bundle = ui._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    assert base64.b64decode(bundle["image/png"]) == controls["image"].value
    assert "VBox" not in bundle["text/plain"] and "Trust" in bundle["text/plain"]


def test_sound_path_picks_the_domain_and_sonification(auditioner):
    wave = auditioner.result(AuditionState(layer="stage1_conv1", filter=1, steps=2, sound_path="waveform"))
    assert (wave.domain, wave.sonify) == ("waveform", None)
    griffin = auditioner.result(AuditionState(layer="stage1_conv1", filter=1, steps=2, sound_path="griffin-lim"))
    assert (griffin.domain, griffin.sonify) == ("mel", "griffin-lim")
    assert not np.allclose(wave.audio, griffin.audio, atol=1e-3)


def test_error_is_shown_not_raised(auditioner):
    auditioner.widget()
    auditioner.update(objective="class", family=9)
    auditioner.refresh()
    assert auditioner._controls["status"].value.startswith("error:")
    auditioner.update(objective="filter", family=0)


def test_a_layer_change_that_clamps_the_filter_refreshes_once(auditioner):
    auditioner.widget()
    c = auditioner._controls
    c["layer"].value = "stage2_conv1"
    c["filter"].value = 12
    before = auditioner.refreshes
    c["layer"].value = "stage1_conv1"  # clamps the filter to 7: one refresh, not two
    assert auditioner.refreshes == before + 1 and c["filter"].value == 7 == auditioner.state.filter
    c["filter"].value = 3
    assert auditioner.refreshes == before + 2


def test_the_first_visit_to_a_layer_says_it_is_busy_before_it_dreams(settings, cello, monkeypatch):
    model = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=0)
    fresh = Auditioner(cello[: settings.sample_rate // 2], dreamer=Dreamer(model, settings=settings), steps=1, chunk=4)
    fresh.widget()
    c = fresh._controls
    seen = []
    c["status"].observe(lambda change: seen.append(("status", change["new"])), names="value")
    c["progress"].observe(lambda change: seen.append(("progress", change["new"])), names="value")
    import auditory_deepdream.widgets as widgets

    real = widgets.audition_layer

    def dreaming(*args, **kwargs):
        seen.append(("dream", kwargs["filters"][0]))
        return real(*args, **kwargs)

    monkeypatch.setattr(widgets, "audition_layer", dreaming)
    runs = fresh.runs
    c["layer"].value = "stage2_conv1"  # 16 filters, dreamed in 4 runs of 4
    first_dream = seen.index(("dream", 0))
    assert any(kind == "status" and "dreaming all 16 filters" in text for kind, text in seen[:first_dream])
    assert [v for kind, v in seen if kind == "progress"][-4:] == [4, 8, 12, 16]
    assert c["progress"].layout.visibility == "hidden" and "objective" in c["status"].value
    assert fresh.runs == runs + 4 and fresh.grid() is not None and c["grid"].value == fresh.grid()


def test_a_cached_move_draws_and_encodes_nothing(auditioner, monkeypatch):
    import auditory_deepdream.widgets as widgets

    auditioner.widget()
    c = auditioner._controls
    c["layer"].value = "stage1_conv1"
    for k in (1, 2, 1):
        c["filter"].value = k  # the first visits draw and encode each state once
    calls = []
    for name in ("change_png", "spectrogram_png", "compressed_audio"):
        monkeypatch.setattr(widgets, name, lambda *a, name=name, **k: calls.append(name))
    runs = auditioner.runs
    for k in (2, 1, 2):
        c["filter"].value = k
        assert c["image"].value == auditioner.views()["png"]
    assert calls == [] and auditioner.runs == runs
