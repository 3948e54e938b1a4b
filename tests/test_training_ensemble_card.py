"""An ensemble folder from trained models: copied members, the average's scores, its card, the CLI."""

import json

import numpy as np
import pytest
from training_fixtures import make_store

from auditory_deepdream.cli import main
from auditory_deepdream.errors import ModelError
from auditory_deepdream.models import load_model
from auditory_deepdream.training import TrainConfig, evaluate, export_ensemble, export_model, train


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


@pytest.fixture(scope="module")
def member_dirs(store, tmp_path_factory):
    root = tmp_path_factory.mktemp("members")
    dirs = []
    for seed in (0, 1):
        config = TrainConfig(epochs=1, batch_size=32, verbose=0, max_seconds=0.0, seed=seed)
        result = train(store, builder="conv_blocks", hp={"width": 0.25, "dense_units": 16}, config=config)
        export_model(result, root / f"seed{seed}", store=store, command=f"auditory-deepdream train --seed {seed}",
                     name=f"seed{seed}", config=config, heldout=store)
        dirs.append(root / f"seed{seed}")
    return dirs


SELECTION = {"fold": "TimGM6mb.sf2", "budget": {"epochs": 4, "samples_per_family": 1500},
             "singles": {f"seed{s}": {"seed": s, "left_out": {
                 "accuracy": 0.5 + s / 100, "note_accuracy": 0.6 + s / 100,
                 "per_class_note_accuracy": {"brass": 0.9, "string": 0.3 + s / 10}}} for s in (0, 1)},
             "ensembles": {"seeds 0-1": {"members": 2, "left_out": {
                 "accuracy": 0.55, "note_accuracy": 0.65, "per_class_note_accuracy": {"brass": 0.95, "string": 0.45}}}}}


def test_the_card_scores_the_average_and_names_every_member(member_dirs, store, tmp_path):
    out = tmp_path / "pair"
    card = export_ensemble(member_dirs, out, store=store, heldout=store, command="auditory-deepdream ensemble ...",
                           selection=SELECTION)
    assert sorted(p.name for p in out.iterdir()) == ["card.json", "card.md", "confusion.png", "ensemble.json",
                                                   "member0", "member1", "settings.json"]
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no work folder left
    model, settings, loaded = load_model(out)
    assert loaded == json.loads(json.dumps(card))
    direct = evaluate(model, store, settings=settings, classes=card["classes"], split="test", min_audio_fraction=0.5)
    assert card["test"]["note_accuracy"] == direct["note_accuracy"]
    assert card["test"]["confusion"] == direct["confusion"]
    whole = evaluate(model, store, settings=settings, classes=card["classes"], split=None, min_audio_fraction=0.5)
    assert card["heldout"]["note_accuracy"] == whole["note_accuracy"] and card["heldout"]["n"] == whole["n"]
    members = [json.loads((d / "card.json").read_text()) for d in member_dirs]
    assert [m["seed"] for m in card["ensemble"]["members"]] == [0, 1]
    assert [m["test_note_accuracy"] for m in card["ensemble"]["members"]] == \
        [m["test"]["note_accuracy"] for m in members]
    assert card["n_parameters"] == sum(m["n_parameters"] for m in members)
    assert card["training_data"] == members[0]["training_data"]
    text = (out / "card.md").read_text()
    assert "an ensemble of conv_blocks builder" in text and "## Members" in text
    assert "auditory-deepdream train --seed 0\nauditory-deepdream train --seed 1" in text
    assert f"**{card['test']['accuracy']:.3f}**" in text
    assert "| seed 1 alone | 0.510 | 0.610 | string 0.40 |" in text
    assert "| average of 2 (seeds 0-1) | 0.550 | 0.650 | string 0.45 |" in text
    # a member folder is a model directory of its own, unchanged
    np.testing.assert_array_equal(load_model(out / "member1")[0].get_weights()[0],
                                  load_model(member_dirs[1])[0].get_weights()[0])


def test_an_existing_folder_is_replaced_whole(member_dirs, store, tmp_path):
    out = tmp_path / "pair"
    export_ensemble(member_dirs, out, store=store, command="first")
    (out / "stale.txt").write_text("from before")
    card = export_ensemble(member_dirs[::-1], out, store=store, command="second")
    assert not (out / "stale.txt").exists() and "heldout" not in card
    assert json.loads((out / "card.json").read_text())["command"] == "second"
    assert card["ensemble"]["members"][0]["seed"] == 1


def test_too_few_or_missing_members_are_model_errors(member_dirs, store, tmp_path):
    with pytest.raises(ModelError, match="at least two"):
        export_ensemble(member_dirs[:1], tmp_path / "one", store=store, command="x")
    with pytest.raises(ModelError, match="not a model directory"):
        export_ensemble([member_dirs[0], tmp_path], tmp_path / "bad", store=store, command="x")
    assert not (tmp_path / "one").exists() and not (tmp_path / "bad").exists()


def test_the_cli_writes_the_folder_and_classify_takes_it(member_dirs, store, tmp_path, capsys):
    out = tmp_path / "cli-pair"
    assert main(["ensemble", *map(str, member_dirs), "--out", str(out), "--store", str(store.path),
                 "--name", "pair"]) == 0
    assert "test note vote:" in capsys.readouterr().out
    card = json.loads((out / "card.json").read_text())
    assert card["name"] == "pair" and card["command"].startswith("auditory-deepdream ensemble ")
    from auditory_deepdream.audio import example_clip

    assert main(["classify", str(example_clip("cello_C3")), "--model", str(out), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)
    assert main(["ensemble", str(member_dirs[0]), "--out", str(tmp_path / "x"), "--store", str(store.path),
                 "--selection", str(tmp_path / "missing.json")]) == 2
    assert "ensemble selection" in capsys.readouterr().err
