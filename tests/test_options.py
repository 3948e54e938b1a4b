"""DreamOptions: one frozen object, validated once, saved as JSON; keyword overrides on top of it."""

import dataclasses
import json
import subprocess
import sys

import numpy as np
import pytest

from auditory_deepdream.errors import DreamError
from auditory_deepdream.options import SOUND_PATHS, DreamOptions, resolve_options
from auditory_deepdream.presets import PRESETS


def test_defaults_are_the_dissertations_free_ascent():
    o = DreamOptions()
    assert (o.steps, o.step_size, o.strength, o.consistent, o.domain) == (10, 1.0, None, False, "mel")
    assert o.sonification == "original" and DreamOptions(domain="waveform").sonification is None
    with pytest.raises(dataclasses.FrozenInstanceError):
        o.steps = 3


@pytest.mark.parametrize("changes, message", [
    ({"domain": "phase"}, "Unknown domain 'phase'"),
    ({"sonify": "vocoder"}, "Unknown sonification 'vocoder'"),
    ({"domain": "waveform", "sonify": "griffin-lim"}, "mel-domain dreams only"),
    ({"domain": "waveform", "octaves": 2}, "one time scale"),
    ({"domain": "waveform", "band_shift": 1}, "band_shift"),
    ({"consistent": True, "octaves": 2}, "octaves"),
    ({"strength": 4.0}, "strength needs a dream that measures what is heard"),
    ({"consistent": True, "strength": 0.0}, "must be above 0"),
    ({"consistent": True, "strength": float("nan")}, "must be above 0"),
    ({"steps": -1}, "steps must be a whole number of at least 0"),
    ({"steps": 2.5}, "steps must be a whole number"),
    ({"max_steps": 0}, "max_steps must be a whole number of at least 1"),
    ({"step_size": 0.0}, "step_size must be above 0"),
    ({"loudness": "loud"}, "loudness must be 'match', 'keep'"),
    ({"crossover": (0.95, 0.85)}, "crossover"),
    ({"max_jump": 0.0}, "max_jump"),
    ({"consistent": True, "contrast": -1.0}, "contrast .* at least 0"),
    ({"consistent": True, "contrast": float("nan")}, "contrast .* at least 0"),
    ({"consistent": True, "contrast": True}, "contrast .* at least 0"),
    ({"contrast": 1.0}, "contrast is climbed through the gain of a consistent mel dream"),
    ({"domain": "waveform", "contrast": 1.0}, "contrast is climbed"),
    ({"consistent": True, "max_boost_db": -1.0}, "max_boost_db must be at least 0"),
    ({"consistent": True, "max_boost_db": float("nan")}, "max_boost_db must be at least 0"),
    ({"max_boost_db": 0.0}, "max_boost_db bounds the gain of a consistent mel dream"),
    ({"consistent": True, "hold_floor": 1.5}, "hold_floor is a share of the input's cells"),
    ({"hold_floor": 0.2}, "hold_floor holds the gain of a consistent mel dream"),
])
def test_every_mistake_is_one_dream_error_saying_what_to_do(changes, message):
    with pytest.raises(DreamError, match=message):
        DreamOptions(**changes)


def test_several_mistakes_are_reported_together():
    with pytest.raises(DreamError) as info:
        DreamOptions(steps=-1, step_size=0.0)
    assert "steps" in str(info.value) and "step_size" in str(info.value)


def test_numpy_integers_are_whole_numbers():
    assert DreamOptions(steps=np.int64(3), jitter=np.int32(2)).steps == 3


def test_replace_validates_and_names_unknown_options():
    o = DreamOptions().replace(consistent=True, strength=6.0)
    assert o.strength == 6.0 and o.consistent
    with pytest.raises(DreamError, match=r"Unknown dream option\(s\) \['stepz'\]"):
        o.replace(stepz=3)
    with pytest.raises(DreamError, match="strength needs"):
        o.replace(consistent=False)


def test_resolve_options_applies_overrides_to_the_right_base():
    assert resolve_options(None, {}) == DreamOptions()
    assert resolve_options(None, {}, default=DreamOptions(consistent=True)).consistent
    base = PRESETS["strong"].options
    assert resolve_options(base, {"seed": 3}) == base.replace(seed=3)
    with pytest.raises(DreamError, match="must be a DreamOptions"):
        resolve_options({"steps": 3}, {})


def test_options_round_trip_through_json(tmp_path):
    for preset in PRESETS.values():
        path = preset.options.save(tmp_path / f"{preset.name}.json")
        assert DreamOptions.load(path) == preset.options
        assert json.loads(path.read_text())["strength"] == preset.options.strength
    contrasted = PRESETS["morph"].options.replace(contrast=0.5)
    assert DreamOptions.load(contrasted.save(tmp_path / "contrast.json")) == contrasted
    assert DreamOptions.from_dict(DreamOptions().to_dict()).contrast == 0.0
    with pytest.raises(DreamError, match="No dream options"):
        DreamOptions.load(tmp_path / "missing.json")
    (tmp_path / "odd.json").write_text(json.dumps({"steps": 3, "speed": 9}))
    with pytest.raises(DreamError, match="speed"):
        DreamOptions.load(tmp_path / "odd.json")


def test_every_sound_path_is_a_valid_pair():
    for name, pair in SOUND_PATHS.items():
        assert DreamOptions(**pair).domain == pair["domain"], name


def test_options_and_presets_import_without_tensorflow():
    code = ("import sys; import auditory_deepdream.options, auditory_deepdream.presets; "
            "print('tensorflow' in sys.modules, 'keras' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["False", "False"]
