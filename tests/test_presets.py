"""Dream presets: a depth fraction picks the same relative layer on any model; class presets need a class."""

import dataclasses

import pytest
from dreamer_fixtures import CLASSES

from auditory_deepdream import models
from auditory_deepdream.dreamer import (
    PRESETS,
    ClassLogit,
    DreamPreset,
    DreamOptions,
    get_preset,
    layer_objective,
    preset_objective,
)
from auditory_deepdream.errors import DreamError


def _layer_of(objective) -> str:
    (layer,) = objective.layers()
    return layer


def test_the_presets_the_cli_shows():
    assert list(PRESETS) == ["subtle", "strong", "morph", "tag"]
    assert [PRESETS[name].objective for name in PRESETS] == ["layer", "layer", "class", "class"]
    assert PRESETS["subtle"].options.strength == 2.0 and PRESETS["strong"].options.strength == 8.0
    assert PRESETS["morph"].options.strength == 10.0 and PRESETS["morph"].options.max_jump is None
    assert all(p.options.consistent and p.options.steps == 0 for name, p in PRESETS.items() if name != "tag")
    # tag: morph's ascent, but the gain only cuts, for 12 steps (benchmarks/results/tag_sources.json)
    assert PRESETS["tag"].options == PRESETS["morph"].options.replace(max_boost_db=0.0, steps=12, strength=None)
    # every preset smooths its gain and holds the quietest 30 % of cells: no lifted noise floor (issue 39)
    assert all(p.options.smooth == 9 and p.options.hold_floor == 0.3 for p in PRESETS.values())
    assert all(p.options.max_boost_db is None for name, p in PRESETS.items() if name != "tag")
    assert PRESETS["subtle"].depth < PRESETS["strong"].depth
    for name, preset in PRESETS.items():
        assert preset.name == name and get_preset(name) is preset and preset.description
        assert preset.to_dict()["name"] == name and DreamPreset.from_dict(preset.to_dict()) == preset
        with pytest.raises(dataclasses.FrozenInstanceError):
            preset.options.strength = 1.0


@pytest.mark.parametrize("n_layers, subtle, strong", [(1, 0, 0), (4, 1, 2), (7, 2, 4), (10, 3, 6)])
def test_layer_presets_pick_the_layer_at_their_depth(n_layers, subtle, strong):
    conv = [f"conv{k}" for k in range(n_layers)]
    for name, index in (("subtle", subtle), ("strong", strong)):
        objective = preset_objective(PRESETS[name], conv)
        assert _layer_of(objective) == conv[index], name
        assert objective.layers() == layer_objective(conv[index]).layers()


def test_depth_zero_is_the_first_layer_and_one_the_last():
    conv = ["a", "b", "c", "d", "e"]
    first = DreamPreset("first", "the first", "layer", 0.0, DreamOptions())
    last = DreamPreset("last", "the last", "layer", 1.0, DreamOptions())
    assert _layer_of(preset_objective(first, conv)) == "a"
    assert _layer_of(preset_objective(last, conv)) == "e"
    with pytest.raises(DreamError, match="no convolution layers"):
        preset_objective(first, [])


def test_presets_build_objectives_that_fit_a_real_model(dreamer):
    conv = models.conv_layer_names(dreamer.model)
    assert conv == ["stage1_conv1", "stage2_conv1", "stage3_conv1", "stage4_conv1"]
    subtle = preset_objective(get_preset("subtle"), conv)
    strong = preset_objective(get_preset("strong"), conv)
    assert _layer_of(subtle) == "stage2_conv1" and _layer_of(strong) == "stage3_conv1"
    morph = preset_objective(get_preset("morph"), conv, classes=dreamer.info.classes, target="string")
    assert morph == ClassLogit(2, "string")
    for objective in (subtle, strong, morph):
        dreamer.check(objective)  # raises if it does not fit
    by_index = preset_objective(get_preset("morph"), conv, classes=CLASSES, target=1)
    assert by_index == ClassLogit(1, "keyboard")


def test_morph_without_a_target_names_the_classes():
    with pytest.raises(DreamError, match="class") as info:
        preset_objective(get_preset("morph"), ["c0"], classes=CLASSES)
    message = str(info.value)
    assert "'morph'" in message and "--class" in message
    for name in CLASSES:
        assert name in message


def test_an_unknown_preset_lists_the_choices():
    with pytest.raises(DreamError, match="gentle") as info:
        get_preset("gentle")
    for name in PRESETS:
        assert name in str(info.value)
