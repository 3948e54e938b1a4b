"""Ensemble folders: the averaged model, what loads them, and what they refuse."""

import json
import shutil

import numpy as np
import pytest

from auditory_deepdream import audio, models
from auditory_deepdream.classify import LOG_FLOOR, classify
from auditory_deepdream.models.ensembles import (
    average_models,
    is_ensemble,
    member_folders,
    write_ensemble_file,
)
from auditory_deepdream.errors import ModelError, SettingsMismatchError

CLASSES = ["brass", "keyboard", "string"]


@pytest.fixture(scope="module")
def member_models(settings):
    return [models.build_model(builder, {"width": 0.25}, settings=settings, n_classes=3, seed=seed)
            for builder, seed in (("conv_blocks", 1), ("conv_blocks", 2), ("timbre", 3))]


@pytest.fixture(scope="module")
def folder(member_models, settings, tmp_path_factory):
    root = tmp_path_factory.mktemp("ensemble")
    for i, m in enumerate(member_models[:2]):
        models.save_model_dir(m, root / f"m{i}", settings=settings, card={"classes": CLASSES, "name": f"m{i}"})
    write_ensemble_file(root, ["m0", "m1"], note="two seeds")
    return root


@pytest.fixture(scope="module")
def mel(cello, settings):
    return audio.encode(audio.segment(cello, settings=settings), settings=settings)[..., None]


def _geometric_mean(probs):
    logs = np.mean([np.log(np.clip(p, LOG_FLOOR, 1.0)) for p in probs], axis=0)
    p = np.exp(logs - logs.max(axis=1, keepdims=True))
    return p / p.sum(axis=1, keepdims=True)


def test_the_average_is_the_normalised_geometric_mean(member_models, mel):
    got = average_models(member_models).predict_on_batch(mel)
    expected = _geometric_mean([m.predict_on_batch(mel) for m in member_models])
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(got.sum(axis=1), 1.0, rtol=1e-5)
    # it is not any one member's answer
    assert not np.allclose(got, member_models[0].predict_on_batch(mel), atol=1e-3)


def test_average_models_refuses_one_member_or_other_shapes(member_models, settings):
    with pytest.raises(ModelError, match="at least two"):
        average_models(member_models[:1])
    four = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=4, seed=0)
    with pytest.raises(ModelError, match="share the audio settings and the classes"):
        average_models([member_models[0], four])


def test_load_model_of_an_ensemble_folder_gives_the_average_and_its_card(folder, member_models, mel, settings):
    assert is_ensemble(folder) and not is_ensemble(folder / "m0")
    model, loaded_settings, card = models.load_model(folder)
    assert loaded_settings == settings
    assert card["name"] == "m0"  # no card of its own: the lead's
    expected = _geometric_mean([m.predict_on_batch(mel) for m in member_models[:2]])
    np.testing.assert_allclose(model.predict_on_batch(mel), expected, rtol=1e-5, atol=1e-6)
    with pytest.raises(SettingsMismatchError, match="sample_rate"):
        models.load_model(folder, settings=settings.replace(sample_rate=16_000))


def test_the_ensembles_own_card_is_returned_and_classify_uses_the_average(folder, cello, tmp_path):
    copy = shutil.copytree(folder, tmp_path / "with-card")
    (copy / "card.json").write_text(json.dumps({"classes": CLASSES, "name": "pair"}))
    model, settings, card = models.load_model(copy)
    assert card["name"] == "pair" and model.name == "pair"
    from auditory_deepdream.dreamer import Dreamer, Ensemble

    dreamer = Dreamer.load(copy)  # dreams read the lead's layers; the card is the ensemble's
    assert isinstance(dreamer, Ensemble) and dreamer.card["name"] == "pair" and "stage1_conv1" in dreamer.info.layer_filters
    result = classify(cello, model=copy)
    segments = audio.encode(audio.segment(audio.trim(cello, settings=settings), settings=settings),
                            settings=settings)[..., None]
    np.testing.assert_allclose(result.segment_probabilities, model.predict_on_batch(segments), rtol=1e-5, atol=1e-6)


def test_bad_ensemble_folders_are_model_errors(folder, member_models, settings, tmp_path):
    with pytest.raises(ModelError, match="ensemble.json is missing"):
        member_folders(tmp_path)
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "ensemble.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a valid ensemble file"):
        models.load_model(bad)
    write_ensemble_file(bad, ["m0"])
    with pytest.raises(ModelError, match="at least two"):
        models.load_model(bad)
    gone = shutil.copytree(folder, tmp_path / "gone")
    shutil.rmtree(gone / "m1")
    with pytest.raises(ModelError, match=r"\['m1'\] without a model.keras"):
        models.load_model(gone)
    other = shutil.copytree(folder, tmp_path / "other-classes")
    (other / "m1" / "card.json").write_text(json.dumps({"classes": ["a", "b", "c"]}))
    with pytest.raises(ModelError, match="must be trained on the same families"):
        models.load_model(other)
    rate = shutil.copytree(folder, tmp_path / "other-rate")
    settings.replace(sample_rate=16_000).save(rate / "m1" / "settings.json")
    with pytest.raises(SettingsMismatchError, match="sample_rate"):
        models.load_model(rate)
