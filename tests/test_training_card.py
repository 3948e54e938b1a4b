"""The model card: every score in words and in JSON, written once, loadable model directory."""

import json

import pytest
from training_fixtures import make_store

from auditory_deepdream.generator import build_index
from auditory_deepdream.models import load_model
from auditory_deepdream.training import TrainConfig, card_markdown, export_model, train


@pytest.fixture(scope="module")
def store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


@pytest.fixture(scope="module")
def trained(store):
    config = TrainConfig(epochs=1, batch_size=32, verbose=0, max_seconds=0.0)
    return train(store, builder="conv_blocks", hp={"width": 0.25, "dense_units": 16}, config=config), config


def test_card_reports_curated_and_every_segment_accuracy(trained, store, tmp_path):
    result, config = trained
    card = export_model(result, tmp_path / "model", store=store, command="auditory-deepdream train ...",
                        name="tiny", config=config, heldout=store)
    text = (tmp_path / "model" / "card.md").read_text()
    assert "at least 50% real note" in text and "Note-level vote" in text and "every segment" in text
    assert f"**{card['test']['accuracy']:.3f}**" in text
    assert f"**{card['heldout']['accuracy']:.3f}** on {card['heldout']['n']} segments" in text
    for family, accuracy in card["test"]["per_class_accuracy"].items():
        assert f"| {family} | {accuracy:.3f} |" in text
    saved = json.loads((tmp_path / "model" / "card.json").read_text())
    assert saved == json.loads(json.dumps(card, default=str))
    test_rows = build_index(store, split="test")
    assert saved["test"]["all_segments"]["n"] == len(test_rows)
    assert saved["test"]["n"] == int((test_rows["audio_fraction"] >= config.min_audio_fraction).sum())
    assert saved["train_config"]["max_seconds"] == 0.0
    assert saved["heldout"]["skipped"] == 0
    assert saved["heldout"]["n"] > saved["test"]["n"]  # every split of the held-out store is scored
    assert sorted(p.name for p in (tmp_path / "model").iterdir()) == [
        "card.json", "card.md", "confusion.png", "model.keras", "settings.json"]
    model, settings, loaded_card = load_model(tmp_path / "model")
    assert settings == store.settings and model.count_params() == result.model.count_params()
    assert loaded_card["classes"] == store.classes


def test_card_without_heldout_says_so(trained, store):
    from auditory_deepdream.training import model_card

    result, config = trained
    card = model_card(result, store=store, command="x", name="tiny", config=config)
    assert "heldout" not in card
    assert "not measured (no held-out store given)" in card_markdown(card)


def test_card_names_each_sample_folder_and_its_training_segments():
    import pandas as pd

    from auditory_deepdream.training.card import _sample_folders, _training_section

    meta = {"sources": [{"kind": "soundfont", "path": "fonts"},
                        {"kind": "samples:piano", "path": "salamander/audio"},
                        {"kind": "samples:flute", "path": "flutes"},
                        {"kind": "samples:piano", "path": "uprights"}]}
    train = pd.DataFrame({"source": ["samples", "samples", "samples", "soundfont", "samples", "samples"],
                          "family": ["piano", "piano", "flute", "piano", "piano", "piano"],
                          "instrument": ["samples_audio", "samples_audio", "samples_flutes", "piano_acoustic_001",
                                         "samples_audio", "samples_uprights"]})
    folders = _sample_folders(meta, train)
    assert folders == [{"family": "piano", "path": "salamander/audio", "train_segments": 3},
                       {"family": "flute", "path": "flutes", "train_segments": 1},
                       {"family": "piano", "path": "uprights", "train_segments": 1}]
    assert _sample_folders({"sources": [{"kind": "soundfont", "path": "fonts"}]}, train) == []
    section = _training_section({"training_data": {"soundfonts": ["A.sf2"], "sample_folders": folders}})
    assert "- **Sample folders** (3, 5 training segments, recording copies included):" in section
    # one line per family, in first-seen order, each folder with its own training segments
    assert "  - piano: `salamander/audio` (3), `uprights` (1)\n  - flute: `flutes` (1)" in section


def test_a_card_says_when_its_store_was_the_small_smoke_test():
    import types

    import pandas as pd

    from auditory_deepdream.training.card import _data_description

    def store(preset):
        return types.SimpleNamespace(index=pd.DataFrame({"split": ["train", "valid", "test"]}), path="s",
                                     meta={"preset": preset})

    assert "smoke test" in _data_description(store("small"))["description"]
    assert "smoke test" not in _data_description(store("full"))["description"]
