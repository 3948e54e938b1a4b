"""Before/after spectrogram figures render headless and are written atomically."""

import numpy as np

from auditory_deepdream import audio
from auditory_deepdream.display import figure_png, plot_before_after, save_before_after


def test_before_after_figure(cello, settings, tmp_path):
    mel = audio.encode(cello, settings=settings)
    fig = plot_before_after(mel, mel + np.linspace(0, 6, mel.shape[0])[:, None], settings=settings, title="t")
    assert len(fig.axes) >= 3
    assert figure_png(fig)[:4] == b"\x89PNG"
    path = save_before_after(tmp_path / "a" / "x.png", mel[None], mel[None], settings=settings)
    assert path.read_bytes()[:4] == b"\x89PNG" and not list(path.parent.glob(".*tmp*"))
