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


def test_musicnn_preset_encodes_librosas_melspectrogram_as_musicnn_calls_it():
    import librosa
    import numpy as np

    from auditory_deepdream.audio import db_to_power, encode, example_clip, load_audio

    s = AudioSettings.preset("musicnn")
    assert s.n_frames == 187  # musicnn's 3-s patch: librosa.time_to_frames(3) + 1
    y = load_audio(example_clip("flute_A4"), settings=s)
    expected = librosa.feature.melspectrogram(y=y, sr=16000, hop_length=256, n_fft=512, n_mels=96)
    got = db_to_power(encode(y, settings=s), settings=s)
    above = expected > s.amin
    assert above.mean() > 0.9
    np.testing.assert_allclose(got[above], expected[above], rtol=2e-5)
    np.testing.assert_allclose(got[~above], s.amin, rtol=1e-5)  # the floor, through float32 dB
