"""Before/after spectrogram figures render headless and are written atomically."""

import numpy as np

from auditory_deepdream import audio
from auditory_deepdream.display import figure_png, plot_before_after, save_before_after


def test_before_after_figure(cello, settings, tmp_path):
    mel = audio.encode(cello, settings=settings)
    after = mel + np.linspace(0, 6, mel.shape[0])[:, None]
    fig = plot_before_after(mel, after, settings=settings, title="t")
    before_image, after_image = (ax.images[0] for ax in fig.axes[:2])
    assert before_image.get_clim() == after_image.get_clim()
    np.testing.assert_allclose(before_image.get_clim(), (after.max() - 80, after.max()), rtol=1e-6)
    np.testing.assert_allclose(fig.axes[2].images[0].get_array(), after - mel, atol=1e-5)
    seconds = mel.shape[-1] * settings.hop_length / settings.sample_rate
    assert before_image.get_extent()[1] == seconds and fig.get_suptitle() == "t"
    assert figure_png(fig)[:4] == b"\x89PNG"
    path = save_before_after(tmp_path / "a" / "x.png", mel[None], mel[None], settings=settings)
    assert path.read_bytes()[:4] == b"\x89PNG" and not list(path.parent.glob(".*tmp*"))
