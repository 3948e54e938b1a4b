"""The Keras port of musicnn against musicnn's original TF1 graphs (tests/fixtures/musicnn_taggrams.npz).

The fixture was written by ``tests/fixtures/make_musicnn_taggrams.py`` in a separate
environment with tf_keras; these tests need neither it nor a network.
"""

from pathlib import Path

import keras
import numpy as np
import pytest

from musicnn import configuration  # installed with pip install --no-deps musicnn, as .ci/run does

from auditory_deepdream import audio
from auditory_deepdream.errors import AudioInputError, ModelError, SettingsMismatchError
from auditory_deepdream.models import load_model
from auditory_deepdream.models import musicnn as port
from auditory_deepdream.models import musicnn_weights
from auditory_deepdream.settings import AudioSettings

FIXTURE = np.load(Path(__file__).parent / "fixtures" / "musicnn_taggrams.npz")
CLIPS = [str(c) for c in FIXTURE["clips"]]
NETWORKS = {key: spec["network"] for key, spec in port.PRETRAINED.items()}
SETTINGS = AudioSettings.preset("musicnn")


def _to_db(rep: np.ndarray) -> np.ndarray:
    """musicnn's input ``log10(10000 p + 1)`` back to floored dB, in float64, for the port's input."""
    power = (np.power(10.0, rep.astype(np.float64)) - 1.0) / 1e4
    return (10.0 * np.log10(np.maximum(power, SETTINGS.amin))).astype(np.float32)


@pytest.fixture(scope="module")
def waves():
    """The fixture's clips at 16 kHz: the three bundled notes and ``loud`` (them back to back at 0 dBFS)."""
    notes = {n: audio.load_audio(audio.example_clip(n), settings=SETTINGS) for n in audio.EXAMPLE_CLIPS}
    loud = np.concatenate(list(notes.values()))
    return {**notes, "loud": (loud / np.abs(loud).max()).astype(np.float32)}


def _front_end(y: np.ndarray) -> np.ndarray:
    """The port's musicnn input for a clip: package encoder, patches, the model's dB layer."""
    mel_db = port.patches(audio.encode(y, settings=SETTINGS))
    return np.asarray(port.MusicnnInput()(mel_db))


@pytest.mark.parametrize("key", sorted(NETWORKS))
def test_port_matches_the_original_graph_on_every_clip(key):
    model, _, _ = load_model(key)
    for clip in CLIPS:
        expected = FIXTURE[f"taggram/{NETWORKS[key]}/{clip}"]
        got = np.asarray(model(_to_db(FIXTURE[f"patches/{clip}"])[..., None], training=False))
        assert got.shape == expected.shape
        np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0, err_msg=f"{key} on {clip}")


@pytest.mark.parametrize("key", sorted(NETWORKS))
def test_an_inner_layer_matches_the_original_graph(key):
    model, _, _ = load_model(key)
    network = NETWORKS[key]
    x = _to_db(FIXTURE["patches/loud"])[..., None]
    if "musicnn" in network:
        expected, layer = FIXTURE[f"penultimate/{network}/loud"], "backend_dense_bn"
    else:  # the graph's (time, freq) maps are the port's (freq, time)
        expected, layer = FIXTURE[f"pool5/{network}/loud"].transpose(0, 2, 1, 3), "pool5"
    got = np.asarray(keras.Model(model.input, model.get_layer(layer).output)(x, training=False))
    np.testing.assert_allclose(got, expected, atol=1e-4, rtol=0)


@pytest.mark.parametrize("key", ["musicnn-mtt", "musicnn-msd"])
def test_musicnn_takes_any_length_like_the_original(key):
    model, _, _ = load_model(key)
    note = _to_db(FIXTURE["patches/cello_C3"][:, :, :163])  # the unpadded 2.6-s note
    got = np.asarray(model(note[..., None], training=False))
    np.testing.assert_allclose(got, FIXTURE[f"full/{NETWORKS[key]}/cello_C3"], atol=1e-4, rtol=0)


def test_front_end_reproduces_the_fixture_inputs(waves):
    for clip in CLIPS:
        expected = FIXTURE[f"patches/{clip}"]
        got = _front_end(waves[clip])
        assert got.shape == expected.shape, clip
        np.testing.assert_allclose(got, expected, atol=1e-5, rtol=0, err_msg=clip)  # measured 1.4e-6


def test_float32_front_end_stays_finite_where_musicnns_float16_overflows(waves):
    assert int(FIXTURE["float16_inf/loud"]) > 0  # the clip is loud enough to break musicnn's extractor
    got = _front_end(waves["loud"])
    assert np.isfinite(got).all()
    assert got.max() == pytest.approx(FIXTURE["patches/loud"].max(), abs=1e-5)


@pytest.mark.parametrize("key", ["musicnn-mtt", "vgg-msd"])
def test_taggram_of_audio_matches_the_original_patch_by_patch(key, waves):
    got = port.taggram(waves["loud"], model=key)
    np.testing.assert_allclose(got, FIXTURE[f"taggram/{NETWORKS[key]}/loud"], atol=1e-4, rtol=0)


def test_card_lists_the_50_tags_in_output_order():
    for key, labels in [("musicnn-mtt", configuration.MTT_LABELS), ("vgg-msd", configuration.MSD_LABELS)]:
        model, settings, card = load_model(key)
        assert card["classes"] == list(labels) and len(card["classes"]) == 50
        assert card["kind"] == "tagger" and card["name"] == key and card["licence"] == "ISC"
        assert model.output_shape == (None, 50)
        assert settings == SETTINGS


def test_load_model_by_name_caches_and_checks_settings():
    first, _, _ = load_model("musicnn-mtt")
    again, _, _ = port.load_pretrained("MTT_musicnn")
    assert first is again
    with pytest.raises(SettingsMismatchError, match="sample_rate"):
        load_model("musicnn-mtt", settings=AudioSettings())
    with pytest.raises(ModelError, match="musicnn-mtt"):
        port.load_pretrained("musicnn-xyz")


def test_missing_package_is_a_model_error_saying_how_to_install(monkeypatch):
    monkeypatch.setattr(musicnn_weights, "find_spec", lambda name: None)
    with pytest.raises(ModelError, match="pip install --no-deps musicnn"):
        load_model("vgg-mtt")


def test_every_checkpoint_variable_must_land_in_a_port_weight():
    variables = musicnn_weights.read_checkpoint("MTT_vgg")
    model = port.build_vgg()
    with pytest.raises(ModelError, match="went into no port weight"):
        musicnn_weights.assign_weights(model, {**variables, "6CNN/kernel": np.zeros(1)}, architecture="vgg",
                                       network="MTT_vgg")
    missing = {k: v for k, v in variables.items() if k != "3CNN/bias"}
    with pytest.raises(ModelError, match="3CNN/bias"):
        musicnn_weights.assign_weights(model, missing, architecture="vgg", network="MTT_vgg")
    with pytest.raises(ModelError, match="disagree"):
        musicnn_weights.assign_weights(port.build_musicnn(), variables, architecture="vgg", network="MTT_vgg")


def test_patches_follow_musicnns_extractor():
    import librosa

    n = librosa.time_to_frames(3, sr=16000, n_fft=512, hop_length=256) + 1
    step = librosa.time_to_frames(1, sr=16000, n_fft=512, hop_length=256)
    mel = np.arange(500, dtype=np.float32)[None].repeat(96, axis=0)
    back_to_back = port.patches(mel)
    assert back_to_back.shape == (500 // n, 96, n) and back_to_back[1, 0, 0] == n
    stepped = port.patches(mel, input_overlap=1)
    assert [p[0, 0] for p in stepped] == list(range(0, 500 - n + 1, step))
    short = port.patches(mel[:, :100])  # repeat-padded to one patch
    np.testing.assert_array_equal(short[0, 0], np.arange(n) % 100)
    with pytest.raises(AudioInputError, match="at least one frame"):
        port.patches(mel, input_length=0.001)
    with pytest.raises(ModelError, match="input_length=3"):
        port.taggram(np.ones(16000, np.float32), model="vgg-mtt", input_length=5)


def test_bundled_notes_are_tagged_with_their_instrument(waves):
    """A loose sanity check: musicnn has heard cellos and pianos."""
    assert "cello" in port.tag(waves["cello_C3"]).nlargest(5).index
    assert "piano" in port.tag(audio.example_clip("piano_E4")).nlargest(5).index


def test_dreamer_reads_the_tag_logits_and_the_front_end_maps():
    from auditory_deepdream.dreamer import Dreamer
    from auditory_deepdream.dreamer.objectives import class_objective, filter_objective

    model, settings, card = load_model("musicnn-mtt")
    dreamer = Dreamer(model, settings=settings, card=card)
    mel_db = _to_db(FIXTURE["patches/piano_E4"])
    logit = dreamer.evaluate(mel_db, class_objective("piano", classes=card["classes"]))
    p = FIXTURE["taggram/MTT_musicnn/piano_E4"][:, card["classes"].index("piano")]
    np.testing.assert_allclose(logit, np.log(p / (1 - p)), atol=1e-3)
    assert {"timbral_f74", "temporal_s1", "midend_conv2"} <= set(dreamer.info.layer_filters)
    assert np.isfinite(dreamer.evaluate(mel_db, filter_objective("timbral_f74", 3))).all()
