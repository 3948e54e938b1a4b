import dataclasses

import pytest

from auditory_deepdream import AudioSettings, SettingsMismatchError
from auditory_deepdream.settings import PRESETS


def test_dissertation_preset_matches_the_dissertation():
    s = AudioSettings.preset("dissertation")
    assert (s.sample_rate, s.segment_seconds, s.n_fft, s.hop_length, s.win_length, s.n_mels, s.trim_db) == (
        22_050, 1.0, 2048, 512, 2000, 300, 45.0)
    assert s.n_frames == 44 and s.input_shape == (300, 44, 1)


def test_settings_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        AudioSettings().n_mels = 64


def test_round_trip_through_json(tmp_path):
    for name, s in PRESETS.items():
        path = s.save(tmp_path / f"{name}.json")
        assert AudioSettings.load(path) == s


def test_mismatch_names_the_differing_fields():
    with pytest.raises(SettingsMismatchError, match=r"n_mels: model=128, dataset=300"):
        AudioSettings().check_compatible(AudioSettings().replace(n_mels=300), mine="model", theirs="dataset")
    AudioSettings().check_compatible(AudioSettings())


@pytest.mark.parametrize("changes", [dict(win_length=4096), dict(hop_length=0), dict(fmax=30_000.0),
                                     dict(db_floor=10.0), dict(segment_seconds=0.01)])
def test_invalid_settings_are_refused(changes):
    with pytest.raises(SettingsMismatchError, match="Invalid AudioSettings"):
        AudioSettings(**changes)


def test_unknown_preset_and_missing_file(tmp_path):
    with pytest.raises(SettingsMismatchError, match="choose one of"):
        AudioSettings.preset("nope")
    with pytest.raises(SettingsMismatchError, match="settings.json"):
        AudioSettings.load(tmp_path / "settings.json")
