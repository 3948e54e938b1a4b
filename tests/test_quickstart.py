"""Quickstart writes a WAV and a spectrogram PNG, with or without the bundled model."""

import numpy as np
import soundfile as sf

from auditory_deepdream import models
from auditory_deepdream.quickstart import run_quickstart


def test_quickstart_writes_audio_and_png(tmp_path, capsys):
    paths = run_quickstart(out_dir=tmp_path, clip="flute_A4", steps=2)
    assert set(paths) == {"input", "dream", "spectrogram"}
    y, sr = sf.read(paths["dream"])
    x, _ = sf.read(paths["input"])
    assert sr == 22050 and len(y) == len(x) and np.max(np.abs(y)) <= 1.0
    level_db = 10 * np.log10(np.mean(y ** 2) / np.mean(x ** 2))
    assert abs(level_db) < 1.0 and not np.allclose(x, y, atol=1e-4)  # a changed sound at the input's level
    with open(paths["spectrogram"], "rb") as fh:
        assert fh.read(4) == b"\x89PNG"
    said = capsys.readouterr().out
    bundled = (models.bundled_model_dir("default") / "model.keras").is_file()
    assert ("bundled model" in said) if bundled else ("Griffin-Lim" in said)


def test_quickstart_dreams_with_a_bundled_model(tmp_path, monkeypatch, capsys):
    from auditory_deepdream.settings import AudioSettings

    settings = AudioSettings()
    model = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=0)
    folder = models.save_model_dir(model, tmp_path / "default", settings=settings, card={"classes": list("abc")})
    monkeypatch.setattr(models, "bundled_model_dir", lambda name: folder)
    paths = run_quickstart(out_dir=tmp_path / "out", clip="piano_E4", steps=2)
    y, _ = sf.read(paths["dream"])
    x, _ = sf.read(paths["input"])
    assert len(y) == len(x) and np.max(np.abs(y)) < 1.0 and not np.allclose(x, y, atol=1e-4)
    assert "bundled model" in capsys.readouterr().out
