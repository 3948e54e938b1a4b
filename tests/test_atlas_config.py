"""AtlasConfig: validated, saved and read back, turned into the dreams' options."""

import pytest

from auditory_deepdream.atlas.config import AtlasConfig, AtlasError
from auditory_deepdream.errors import AuditoryDeepDreamError


def test_round_trip_and_dream_options():
    cfg = AtlasConfig(steps=3, chunk=8, seed=2)
    assert AtlasConfig.from_dict(cfg.to_dict()) == cfg
    options = cfg.dream_options()
    assert (options.steps, options.seed, options.step_size) == (3, 2, 1.0)


@pytest.mark.parametrize("bad", [{"chunk": 0}, {"steps": -1}, {"top_k": 1.5}, {"step_size": 0},
                                 {"clip_seconds": -1}, {"max_segments": 0}, {"kbps": True}])
def test_bad_settings_are_refused_with_the_field_named(bad):
    with pytest.raises(AtlasError, match=next(iter(bad))):
        AtlasConfig(**bad)
    assert issubclass(AtlasError, AuditoryDeepDreamError)


def test_unknown_settings_in_a_saved_file_are_named():
    with pytest.raises(AtlasError, match="colour"):
        AtlasConfig.from_dict({"colour": "red"})
