"""Figures render headless, draw the right data (lines, bars, spans, thresholds) and say
clearly what is wrong with bad input; the before/after PNG is written atomically."""

import numpy as np
import pandas as pd
import pytest

from auditory_deepdream import audio
from auditory_deepdream.display import (
    figure_png,
    plot_before_after,
    plot_family_accuracy,
    plot_history,
    plot_objective,
    plot_speeds,
    plot_survival,
    plot_waveform_trim,
    save_before_after,
)
from auditory_deepdream.errors import AudioInputError, AuditoryDeepDreamError, DreamError, ModelError


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


# ------------------------------------------------------------------ plot helpers
def _history(epochs, offset):
    e = np.arange(epochs)
    return pd.DataFrame({"epoch": e, "loss": 1.0 / (e + 1) + offset, "accuracy": 0.5 + 0.05 * e,
                         "val_loss": 1.2 / (e + 1) + offset, "val_accuracy": 0.4 + 0.05 * e + offset})


def test_plot_history_one_panel_per_metric_one_line_per_run(tmp_path):
    csv = tmp_path / "model_2.csv"
    _history(5, 0.2).to_csv(csv, index=False)
    fig = plot_history({"model_1": _history(3, 0.0), "model_2": csv})
    assert len(fig.axes) == 2
    for ax, metric in zip(fig.axes, ("val_loss", "val_accuracy")):
        assert [line.get_label() for line in ax.lines] == ["model_1", "model_2"]
        assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == metric
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["model_1", "model_2"]
        np.testing.assert_allclose(ax.lines[1].get_ydata(), _history(5, 0.2)[metric])  # read back from the CSV
        np.testing.assert_array_equal(ax.lines[1].get_xdata(), np.arange(5))
    assert fig.axes[0].get_title() == "validation loss"
    # a list of CSV paths names runs by file stem; one metric gives one panel
    fig = plot_history([csv], metrics=("loss",))
    assert len(fig.axes) == 1 and fig.axes[0].lines[0].get_label() == "model_2"


def test_plot_history_missing_metric_is_a_clear_error():
    with pytest.raises(ModelError, match=r"'val_auc'.*Pick metrics="):
        plot_history({"m": _history(3, 0.0)}, metrics=("val_loss", "val_auc"))
    with pytest.raises(ModelError):
        plot_history({})


def _survival_table():
    rows = [{"model": m, "path": p, "layer": "conv", "survival": s}
            for m, vals in {"conv_blocks": (0.3, 0.5, 0.95), "resnet": (0.2, 0.4, 0.92)}.items()
            for p, s in zip(("original", "griffin-lim", "waveform"), vals)]
    return pd.DataFrame(rows).set_index(["model", "path"])


def test_plot_survival_grouped_bars_and_threshold():
    fig = plot_survival(_survival_table(), threshold=0.9, order=["waveform", "original", "griffin-lim"])
    (ax,) = fig.axes
    assert len(ax.containers) == 3 and all(len(c) == 2 for c in ax.containers)  # 3 paths × 2 models
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["waveform", "original", "griffin-lim"]
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], [0.95, 0.92])  # waveform bars
    np.testing.assert_allclose([b.get_height() for b in ax.containers[2]], [0.5, 0.4])  # griffin-lim bars
    assert [t.get_text() for t in ax.get_xticklabels()] == ["conv_blocks", "resnet"]
    (line,) = ax.lines
    assert line.get_linestyle() == "--" and tuple(line.get_ydata()) == (0.9, 0.9)
    assert ax.get_ylabel() == "activation gain that survives"
    # an already-unstacked (wide) frame draws the same bars; no threshold draws no line
    wide = _survival_table()["survival"].unstack("path")
    fig = plot_survival(wide, threshold=None)
    assert len(fig.axes[0].containers) == 3 and not fig.axes[0].lines


def test_plot_survival_errors():
    with pytest.raises(DreamError, match="survival"):
        plot_survival(_survival_table().drop(columns="survival"))
    with pytest.raises(DreamError, match="'sideways'"):
        plot_survival(_survival_table(), order=["original", "sideways"])


def test_plot_objective_averages_the_batch():
    history = np.array([[1.0, 3.0], [2.0, 4.0], [5.0, 7.0]])
    fig = plot_objective(history)
    (ax,) = fig.axes
    (line,) = ax.lines
    np.testing.assert_allclose(line.get_ydata(), [2.0, 3.0, 6.0])
    np.testing.assert_array_equal(line.get_xdata(), [0, 1, 2])
    assert ax.get_xlabel() == "step" and line.get_marker() not in (None, "None", "")
    np.testing.assert_allclose(plot_objective([1.0, 2.0]).axes[0].lines[0].get_ydata(), [1.0, 2.0])
    with pytest.raises(DreamError, match="steps=0"):
        plot_objective(np.zeros((0, 2)))


def test_plot_waveform_trim_shades_the_kept_span(settings):
    sr = settings.sample_rate
    y = np.zeros(2 * sr, np.float32)
    y[sr // 2: sr] = 0.5 * np.sin(np.arange(sr // 2) / 3)
    fig = plot_waveform_trim(y, (0.5, 1.0), sample_rate=sr)
    (ax,) = fig.axes
    (line,) = ax.lines
    assert line.get_xdata()[-1] == pytest.approx(2.0, abs=1e-3) and len(line.get_ydata()) == len(y)
    (span,) = ax.patches
    xs = ax.transData.inverted().transform(span.get_verts())[:, 0]
    assert (xs.min(), xs.max()) == pytest.approx((0.5, 1.0))
    assert ax.get_xlabel() == "time (s)" and "kept by trim" in span.get_label()
    with pytest.raises(AudioInputError, match="span inside"):
        plot_waveform_trim(y, (1.0, 3.0), sample_rate=sr)
    with pytest.raises(AudioInputError, match="span inside"):
        plot_waveform_trim(y, (1.0, 0.5), sample_rate=sr)
    with pytest.raises(AudioInputError):
        plot_waveform_trim(np.zeros((2, 100)), (0.0, 0.001), sample_rate=sr)


def test_plot_speeds_log_bars_in_order():
    speeds = {"librosa": 2.0e6, "tf.signal": 3.0e7, "griffin-lim": 5.0e4}
    fig = plot_speeds(speeds)
    (ax,) = fig.axes
    bars = ax.containers[0]
    assert len(bars) == 3 and [b.get_width() for b in bars] == list(speeds.values())
    assert ax.get_xscale() == "log" and ax.get_xlabel() == "samples / s (log scale)"
    labels = [t.get_text() for t in ax.get_yticklabels()]
    assert labels == list(speeds)
    assert bars[0].get_y() < bars[2].get_y() and ax.yaxis_inverted()  # first entry drawn on top
    assert plot_speeds({"a": 1.0}, unit="notes / s").axes[0].get_xlabel() == "notes / s (log scale)"
    for bad in ({}, {"a": 0.0}, {"a": float("nan")}, {"a": "fast"}):
        with pytest.raises(AuditoryDeepDreamError):
            plot_speeds(bad)


def test_plot_family_accuracy_groups_bars_per_family():
    scores = {"test": {"bass": 1.0, "flute": 0.5, "reed": 0.25}, "held-out": {"bass": 0.75, "reed": 0.9}}
    fig = plot_family_accuracy(scores, threshold=0.8, title="per family")
    (ax,) = fig.axes
    assert [t.get_text() for t in ax.get_xticklabels()] == ["bass", "flute", "reed"]
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["0.8", "test", "held-out"]
    fig.canvas.draw()  # the legend sits beside the axes, on no bar
    legend, axes_box = ax.get_legend().get_window_extent(), ax.get_window_extent()
    assert legend.x0 >= axes_box.x1
    np.testing.assert_allclose([b.get_height() for b in ax.containers[0]], [1.0, 0.5, 0.25])
    held = [b.get_height() for b in ax.containers[1]]
    assert held[0] == 0.75 and np.isnan(held[1]) and held[2] == 0.9  # flute has no held-out score
    (line,) = ax.lines
    assert tuple(line.get_ydata()) == (0.8, 0.8) and ax.get_title() == "per family"
    assert not plot_family_accuracy(scores, threshold=None).axes[0].lines


def test_plot_family_accuracy_errors():
    with pytest.raises(AuditoryDeepDreamError, match="set name"):
        plot_family_accuracy({})
    with pytest.raises(AuditoryDeepDreamError, match=r"\[0, 1\]"):
        plot_family_accuracy({"test": {"bass": 1.5}})


def test_the_difference_panel_fits_the_change_and_a_time_range_sets_the_axis(cello, settings):
    from auditory_deepdream import audio

    before = audio.encode(cello, settings=settings)
    after = before + 3.0
    after[:10, :2] += 40.0  # a few bins of silence made loud: they must not set the scale
    fig = plot_before_after(before, after, settings=settings, time_range=(60.0, 62.5))
    low, high = fig.axes[2].images[0].get_clim()
    assert low == -high and 3.0 <= high < 10.0
    assert fig.axes[0].get_xlim() == (60.0, 62.5)


def test_stream_mel_draws_a_long_file_pooled_to_the_pictures_width(cello, settings, tmp_path):
    import soundfile as sf

    from auditory_deepdream import audio
    from auditory_deepdream.audio.streams import stream_mel

    long = np.tile(cello, 30)  # about 78 s
    sf.write(tmp_path / "long.wav", long, settings.sample_rate)
    mel = stream_mel(tmp_path / "long.wav", settings=settings, max_frames=500, block_seconds=20.0)
    assert mel.shape[0] == settings.n_mels and 250 < mel.shape[1] <= 500
    whole = audio.encode(long, settings=settings)
    assert abs(float(np.max(mel)) - float(np.max(whole))) < 3.0  # the same picture, coarser
    part = stream_mel(tmp_path / "long.wav", settings=settings, span=(0, len(cello)))
    n = part.shape[1] - 1  # the last frame ends at the span's edge, the whole file's goes on
    assert np.allclose(part[:, :n], whole[:, :n], atol=1.0)
