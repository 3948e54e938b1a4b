"""Dreaming files: long ones block by block (seams, whole-file loudness, bounded memory), any channel count."""

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream import audio
from auditory_deepdream.dataset import bach_prelude
from auditory_deepdream.dataset.soundfont import pip_soundfont
from auditory_deepdream.dreamer import dream_channels, dream_file, layer_objective, log_spectral_distance
from auditory_deepdream.dreamer import files
from auditory_deepdream.presets import PRESETS

OPTIONS = PRESETS["strong"].options.replace(max_steps=6)  # a short consistent dream, as the CLI's
BLOCK = 6.0  # seconds: the smallest block the context allows, so a 30-s file has five


@pytest.fixture(scope="module")
def piece(tmp_path_factory):
    """30 s of a real stereo piece at 44.1 kHz, 16-bit, with a 12-s pause that one whole block (read with its
    context, 15-27 s) falls in."""
    y = bach_prelude(seconds=30.0, sample_rate=44_100, channels=2, strings=True, soundfont=pip_soundfont())
    y[:, 15 * 44_100:27 * 44_100] = 0.0
    path = tmp_path_factory.mktemp("piece") / "piece.wav"
    sf.write(path, y.T, 44_100, subtype="PCM_16")
    return path


@pytest.fixture(scope="module")
def both(piece, dreamer, tmp_path_factory):
    """The piece dreamed in one pass and in blocks."""
    folder = tmp_path_factory.mktemp("dreams")
    objective = layer_objective("stage3_conv1")
    one = dream_file(piece, folder / "one.wav", model=dreamer, objective=objective, options=OPTIONS,
                     block_seconds=None, progress=False)
    streamed = dream_file(piece, folder / "streamed.wav", model=dreamer, objective=objective, options=OPTIONS,
                          block_seconds=BLOCK, progress=False)
    return one, streamed, folder


def test_a_streamed_file_keeps_the_inputs_format_and_the_whole_files_loudness(piece, both):
    (_, one), (path, streamed), folder = both
    y, sr = sf.read(path, dtype="float32", always_2d=True)
    x, _ = sf.read(piece, dtype="float32", always_2d=True)
    assert sr == 44_100 and y.shape == x.shape and sf.info(str(path)).subtype == "PCM_16"
    assert streamed.audio is None and len(streamed.spectral_change_db) == 4  # the silent block passes through
    assert abs(streamed.lufs_in - one.lufs_in) < 1e-6
    assert abs(streamed.lufs_out - one.lufs_out) < 0.1
    assert abs(audio.integrated_loudness(y.T, sample_rate=sr) - streamed.lufs_out) < 0.01
    assert streamed.true_peak_dbtp <= -1.0 + 0.05
    assert sorted(p.name for p in folder.iterdir()) == ["one.wav", "streamed.wav"]  # no parts file left


def test_seams_are_no_rougher_than_the_one_pass_dream(piece, both):
    (one_path, _), (path, _), _ = both
    x, sr = sf.read(piece, dtype="float32", always_2d=True)
    a, _ = sf.read(one_path, dtype="float32", always_2d=True)
    b, _ = sf.read(path, dtype="float32", always_2d=True)
    top = np.max(np.abs(np.diff(x, axis=0)))
    for k in (1, 2, 3, 4):
        seam = slice(int((k * BLOCK - 1) * sr), int((k * BLOCK + 1) * sr))
        steps = [np.max(np.abs(np.diff(z[seam], axis=0))) for z in (a, b)]
        assert steps[1] <= 1.05 * max(top, steps[0]), (k, steps, top)
        if np.any(x[seam]):  # the dream changed it more than streaming moved it from the one-pass dream
            changed = log_spectral_distance(x[seam].mean(axis=1), a[seam].mean(axis=1), sample_rate=sr)
            assert log_spectral_distance(a[seam].mean(axis=1), b[seam].mean(axis=1), sample_rate=sr) < changed


def test_neighbouring_crossfades_sum_to_one():
    n, fade = 1000, 50
    first = files.crossfade_weights(n, start=0, fade_in=None, fade_out=600, fade=fade)
    second = files.crossfade_weights(n, start=400, fade_in=600, fade_out=None, fade=fade)
    total = np.zeros(1400)
    total[:1000] += first
    total[400:] += second
    np.testing.assert_allclose(total, 1.0, atol=1e-6)
    assert first[0] == 1.0 and first[549] == 1.0 and first[651] == 0.0


def test_a_dream_killed_after_block_k_resumes_from_block_k_with_an_identical_output(piece, dreamer, both, tmp_path,
                                                                                      monkeypatch):
    """Killed in block 3 of 5, the dream leaves no output, only its finished blocks beside it; run again, it
    dreams blocks 3 to 5 alone and writes the uninterrupted run's file, sample for sample, then tidies up."""
    _, (streamed_path, streamed), _ = both
    real, calls, kill = files._dream_block, [], [True]

    def killed_in_the_third(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3 and kill and kill.pop():
            raise KeyboardInterrupt  # as a kill would stop it
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "_dream_block", killed_in_the_third)
    out = tmp_path / "out.wav"
    kwargs = {"model": dreamer, "objective": layer_objective("stage3_conv1"), "options": OPTIONS,
              "block_seconds": BLOCK, "progress": False}
    with pytest.raises(KeyboardInterrupt):
        dream_file(piece, out, **kwargs)
    assert not out.exists() and [p.name for p in tmp_path.iterdir()] == ["out.wav.blocks"]
    calls.clear()
    path, result = dream_file(piece, out, **kwargs)
    assert len(calls) == 3  # blocks 3, 4 and 5
    assert np.array_equal(sf.read(path, dtype="int16")[0], sf.read(streamed_path, dtype="int16")[0])
    assert result.summary() == streamed.summary()
    assert [p.name for p in tmp_path.iterdir()] == ["out.wav"]


def test_a_scratch_folder_of_another_dream_is_not_resumed(piece, dreamer, tmp_path, monkeypatch):
    real, calls, kill = files._dream_block, [], [True]

    def killed_in_the_second(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2 and kill and kill.pop():
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(files, "_dream_block", killed_in_the_second)
    out, kwargs = tmp_path / "out.wav", {"model": dreamer, "options": OPTIONS, "block_seconds": BLOCK,
                                         "progress": False}
    with pytest.raises(KeyboardInterrupt):
        dream_file(piece, out, objective=layer_objective("stage3_conv1"), **kwargs)
    calls.clear()
    dream_file(piece, out, objective=layer_objective("stage2_conv1"), **kwargs)  # another objective: from block 1
    assert len(calls) == 5 and not (tmp_path / "out.wav.blocks").exists()


def test_eight_channels_dream_with_every_channel_kept(dreamer, notes):
    rate = 22_050
    y = np.stack([np.roll(notes[i % 3], 2_000 * i) * (0.3 + 0.05 * i) for i in range(8)]).astype(np.float32)
    result = dream_channels(y, sample_rate=rate, model=dreamer, objective=layer_objective("stage2_conv1"),
                            options=OPTIONS)
    assert result.audio.shape == y.shape and np.all(np.isfinite(result.audio))
    assert abs(result.lufs_out - audio.integrated_loudness(y, sample_rate=rate)) < 0.1
    for k in range(8):  # each channel keeps its own signal: closer to its input than to any other channel's
        distances = [np.mean((result.audio[k] - y[j]) ** 2) for j in range(8)]
        assert int(np.argmin(distances)) == k


@pytest.mark.parametrize("block", [None, BLOCK])
def test_an_excerpt_is_dreamed_alone_in_one_pass_or_streamed(piece, dreamer, tmp_path, block):
    """``start`` and ``duration`` dream only that excerpt; streamed (13 s over two 6-s blocks) or not, its
    length and format are the excerpt's, and the blocks read the excerpt, not the file's start."""
    objective = layer_objective("stage3_conv1")
    path, _ = dream_file(piece, tmp_path / "excerpt.flac", model=dreamer, objective=objective, options=OPTIONS,
                         block_seconds=block, progress=False, start=1.5, duration=13.0)
    y, sr = sf.read(path, dtype="float32", always_2d=True)
    assert sr == 44_100 and y.shape == (13 * 44_100, 2)
    x = sf.read(piece, dtype="float32", always_2d=True)[0][round(1.5 * 44_100):round(14.5 * 44_100)]
    assert log_spectral_distance(x.T, y.T, sample_rate=sr) < 10.0  # the excerpt's own sound, dreamed
    shifted = sf.read(piece, dtype="float32", always_2d=True)[0][: 13 * 44_100]
    assert log_spectral_distance(x.T, y.T, sample_rate=sr) < log_spectral_distance(shifted.T, y.T, sample_rate=sr)


def test_an_excerpt_past_the_end_is_refused(piece, dreamer, tmp_path):
    from auditory_deepdream.errors import AudioInputError

    with pytest.raises(AudioInputError, match="cannot start at 40 s"):
        dream_file(piece, tmp_path / "x.wav", model=dreamer, objective=layer_objective("stage3_conv1"),
                   options=OPTIONS, start=40.0, progress=False)
