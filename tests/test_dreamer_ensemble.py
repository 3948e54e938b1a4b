"""Ensembles: class logits are the members' mean log-softmax (taggers': their mean logit);
folders load as ensembles."""

import json

import numpy as np
import pytest
import tensorflow as tf
from dreamer_fixtures import CLASSES

from auditory_deepdream import audio, models
from auditory_deepdream.dreamer import Dreamer, Ensemble, class_objective, dream, layer_objective, save_ensemble
from auditory_deepdream.dreamer.objectives import LOGITS
from auditory_deepdream.errors import ModelError, SettingsMismatchError


@pytest.fixture(scope="module")
def members(dreamer, settings):
    other = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=7)
    third = models.build_model("timbre", {"width": 0.25}, settings=settings, n_classes=3, seed=3)
    return [dreamer, Dreamer(other, settings=settings, card={"classes": CLASSES}),
            Dreamer(third, settings=settings, card={"classes": CLASSES})]


@pytest.fixture(scope="module")
def mel(cello, settings):
    return audio.encode(cello[:11025], settings=settings)[None]


def test_class_logits_are_the_mean_member_log_probability(members, mel):
    ensemble = Ensemble(members)
    x = tf.constant(mel[..., None])
    got = ensemble.activations(frozenset([LOGITS]))(x)[LOGITS].numpy()
    expected = np.mean([np.log(m.model(x, training=False).numpy()) for m in members], axis=0)
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-4)
    # a class objective's value is that mean, and it differs from any one member's
    value = ensemble.evaluate(mel, class_objective("string", classes=CLASSES))
    np.testing.assert_allclose(value, expected[:, 2], rtol=1e-4, atol=1e-4)
    assert not np.allclose(value, np.log(members[1].model(x, training=False).numpy())[:, 2], atol=1e-3)


def test_tagger_logits_are_the_mean_member_logit_not_a_log_softmax(members, mel):
    taggers = [Dreamer(m.model, settings=m.settings, card={"classes": CLASSES, "kind": "tagger"}) for m in members]
    ensemble = Ensemble(taggers)
    assert ensemble.taggers and not Ensemble(members).taggers
    x = tf.constant(mel[..., None])
    got = ensemble.activations(frozenset([LOGITS]))(x)[LOGITS].numpy()
    raw = [m.activations(frozenset([LOGITS]))(x)[LOGITS].numpy() for m in members]
    np.testing.assert_allclose(got, np.mean(raw, axis=0), rtol=1e-5, atol=1e-5)
    # independent sigmoids: a log-softmax would shift every tag by the row's log-sum-exp
    assert not np.allclose(got, np.mean([np.log(m.model(x, training=False).numpy()) for m in members], axis=0),
                           atol=1e-2)
    with pytest.raises(ModelError, match="classifiers and taggers"):
        Ensemble([members[0], taggers[1]])


def test_layer_objectives_read_the_lead_member(members, mel):
    ensemble = Ensemble(members)
    objective = layer_objective("stage2_conv1")
    np.testing.assert_allclose(ensemble.evaluate(mel, objective), members[0].evaluate(mel, objective), rtol=1e-6)
    both = ensemble.activations(frozenset([LOGITS, "stage2_conv1"]))(tf.constant(mel[..., None]))
    assert set(both) == {LOGITS, "stage2_conv1"} and both["stage2_conv1"].shape[-1] == 16
    assert ensemble.info == members[0].info


def test_a_class_dream_raises_every_members_probability(members, cello, settings):
    ensemble = Ensemble(members)
    clip = cello[:22050]
    result = dream(clip, model=ensemble, objective=class_objective("brass", classes=CLASSES), steps=4,
                   step_size=2.0, seed=0, progress=False)
    for m in members:
        before = m.model(audio.encode(clip, settings=settings)[None, ..., None], training=False).numpy()[0, 0]
        after = m.model(audio.encode(result.audio, settings=settings)[None, ..., None], training=False).numpy()[0, 0]
        assert after > before


def test_save_and_load_round_trip(members, settings, tmp_path):
    folder = save_ensemble(tmp_path / "ens", {"a": members[0], "b": members[1]}, note="two seeds")
    spec = json.loads((folder / "ensemble.json").read_text())
    assert spec == {"members": ["a", "b"], "note": "two seeds"}
    loaded = Dreamer.load(folder)
    assert isinstance(loaded, Ensemble) and len(loaded.members) == 2
    assert loaded.settings == settings and loaded.info.classes == tuple(CLASSES)
    assert not list(folder.rglob("*.tmp"))
    with pytest.raises(SettingsMismatchError, match="sample_rate"):
        Dreamer.load(folder, settings=settings.replace(sample_rate=16_000))


def test_taggers_of_two_vocabularies_answer_in_the_leads_tags_through_the_tag_table(members, mel):
    mtt = Dreamer(members[0].model, settings=members[0].settings,
                  card={"classes": ["rock", "piano", "female vocal"], "kind": "tagger"})
    msd = Dreamer(members[1].model, settings=members[1].settings,
                  card={"classes": ["female vocalists", "80s", "rock"], "kind": "tagger"})
    ensemble = Ensemble([mtt, msd])
    x = tf.constant(mel[..., None])
    got = ensemble.activations(frozenset([LOGITS]))(x)[LOGITS].numpy()[0]
    a, b = (m.activations(frozenset([LOGITS]))(x)[LOGITS].numpy()[0] for m in (mtt, msd))
    # rock: both by name; piano: only the MTT member has it; female vocal: MSD's female vocalists
    np.testing.assert_allclose(got, [(a[0] + b[2]) / 2, a[1], (a[2] + b[0]) / 2], rtol=1e-5, atol=1e-5)
    assert ensemble.info.classes == ("rock", "piano", "female vocal")


def test_vgg_both_is_vgg_mtt_and_vgg_msd_dreaming_in_mtt_tags():
    from auditory_deepdream.models.paths import NAMED_ENSEMBLES, describe, model_names

    assert NAMED_ENSEMBLES["vgg-both"] == ("vgg-mtt", "vgg-msd") and "vgg-both" in model_names()
    assert describe("vgg-both") == describe("vgg-mtt")
    both = Dreamer.load("vgg-both")
    assert isinstance(both, Ensemble) and both.card["name"] == "vgg-both" and both.tag_maps is not None
    assert [m.card["name"] for m in both.members] == ["vgg-mtt", "vgg-msd"] and "piano" in both.info.classes
    x = np.full((1, 96, 187), -40.0, np.float32)
    x[:, 10:30] = -10.0
    mtt, msd = both.members
    fv = class_objective("female vocal", classes=both.info.classes)
    expected = (mtt.evaluate(x, fv)
                + np.mean([msd.evaluate(x, class_objective(t, classes=msd.info.classes))
                           for t in ("female vocalists", "female vocalist")], axis=0)) / 2
    np.testing.assert_allclose(both.evaluate(x, fv), expected, rtol=1e-4, atol=1e-4)
    with pytest.raises(ModelError, match="name one of its members"):
        models.load_model("vgg-both")  # classify and layers read one network


def test_bad_ensembles_are_refused(members, settings, tmp_path):
    with pytest.raises(ModelError, match="at least two"):
        Ensemble(members[:1])
    odd = Dreamer(members[1].model, settings=settings, card={"classes": ["a", "b", "c"]})
    with pytest.raises(ModelError, match="different classes"):
        Ensemble([members[0], odd])
    other_rate = models.build_model("conv_blocks", {"width": 0.25}, settings=settings.replace(sample_rate=16_000),
                                    n_classes=3, seed=0)
    with pytest.raises(SettingsMismatchError, match="sample_rate"):
        Ensemble([members[0], Dreamer(other_rate, settings=settings.replace(sample_rate=16_000),
                                      card={"classes": CLASSES})])
    folder = tmp_path / "broken"
    folder.mkdir()
    (folder / "ensemble.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a valid ensemble file"):
        Dreamer.load(folder)
    with pytest.raises(ModelError, match="is missing"):
        Ensemble.load(tmp_path)
