"""The README's first command: dream a bundled instrument clip with the bundled model.

Writes the dream as a WAV and a before/after spectrogram PNG. Until the bundled model
ships (``auditory_deepdream/data/models/default/``) it falls back to the dissertation's
round trip, encode → decode (Griffin-Lim), and says so.
"""

from __future__ import annotations

import os
from pathlib import Path

from . import audio, models
from .display import save_before_after
from .dreamer import Dreamer, dream_layer
from .settings import AudioSettings

__all__ = ["run_quickstart"]


def run_quickstart(out_dir: str | os.PathLike = "out/quickstart", *, clip: str = "cello_C3",
                   steps: int = 20, step_size: float = 1.0, seed: int = 0) -> dict:
    """Dream a bundled clip and write ``<clip>_dream.wav`` and ``<clip>_before_after.png``.

    Parameters
    ----------
    out_dir : str or path-like
        Output folder (created if needed).
    clip : str
        A bundled clip (:data:`auditory_deepdream.audio.EXAMPLE_CLIPS`).
    steps, step_size, seed
        Gradient ascent options (see :func:`auditory_deepdream.dreamer.dream`).

    Returns
    -------
    paths : dict
        ``{'input': ..., 'dream': ..., 'spectrogram': ...}`` paths of the written files.
    """
    out = Path(out_dir)
    src = audio.example_clip(clip)
    if (models.bundled_model_dir("default") / "model.keras").is_file():
        d = Dreamer.load("default")
        y = audio.load_audio(src, settings=d.settings)
        layer = models.conv_layer_names(d.model)[1]
        # waveform dreaming: the output is the optimised audio itself, so the dream survives
        result = dream_layer(y, model=d, layers=layer, steps=steps, step_size=step_size, seed=seed,
                             domain="waveform")
        settings, y_out, mel_after = d.settings, result.audio, result.mel_after[0]
        title = f"{clip}: DeepDream on {layer}, {steps} steps (bundled model, waveform)"
        print(f"quickstart: dreamed {clip} with the bundled model (DeepDream on {layer}, waveform); "
              f"survival {result.summary()['survival']:.2f} (the activation's rise in the audio over its rise while "
              "climbing; 1 keeps all of it)")
    else:
        settings = AudioSettings()
        y = audio.load_audio(src, settings=settings)
        y_out = audio.decode(audio.encode(y, settings=settings), settings=settings, seed=seed, length=len(y))
        mel_after = audio.encode(y_out, settings=settings)
        title = f"{clip}: encode → decode (Griffin-Lim); no bundled model yet"
        print("quickstart: no bundled model found (auditory_deepdream/data/models/default); "
              "wrote the encode → decode (Griffin-Lim) round trip instead of a dream")
    stem = clip
    paths = {
        "input": audio.save_audio(out / f"{stem}_input.wav", y, sample_rate=settings.sample_rate),
        "dream": audio.save_audio(out / f"{stem}_dream.wav", y_out, sample_rate=settings.sample_rate),
        "spectrogram": save_before_after(out / f"{stem}_before_after.png", audio.encode(y, settings=settings),
                                         mel_after, settings=settings, title=title),
    }
    return {k: str(v) for k, v in paths.items()}
