"""``auditory-deepdream dream`` on many files: one process, one model load, resumable, one line per failure.

Runs :func:`auditory_deepdream.cli.main` as a shell would, with the tiny untrained model saved as
a model directory (``dreamer_fixtures.tiny_dreamer``) and the bundled clips.
"""

import json
import shutil

import numpy as np
import pytest
import soundfile as sf
from dreamer_fixtures import CLASSES

from auditory_deepdream import cli, models
from auditory_deepdream.audio import EXAMPLE_CLIPS, example_clip
from auditory_deepdream.dreamer import Dreamer


@pytest.fixture(scope="module")
def model_dir(dreamer, settings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "tiny"
    return models.save_model_dir(dreamer.model, folder, settings=settings, card={"classes": CLASSES})


@pytest.fixture
def inputs(tmp_path):
    """The three bundled clips and a text file named .wav, in one folder."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in EXAMPLE_CLIPS:
        shutil.copy(example_clip(name), folder / f"{name}.wav")
    (folder / "notes.wav").write_text("not audio\n" * 20)
    return folder


def _counting_loads(monkeypatch):
    loads = []
    load = Dreamer.load

    def counted(*args, **kwargs):
        loads.append(args)
        return load(*args, **kwargs)

    monkeypatch.setattr(Dreamer, "load", staticmethod(counted))
    monkeypatch.setattr("auditory_deepdream.cli.batch._LOADED", {})
    return loads


def test_a_folder_is_dreamed_in_one_process_and_a_bad_file_does_not_stop_the_others(
        inputs, model_dir, tmp_path, capsys, monkeypatch):
    loads = _counting_loads(monkeypatch)
    out = tmp_path / "dreams"
    assert cli.main(["dream", str(inputs), str(out), "--model", str(model_dir), "--steps", "1"]) == 2
    printed, err = capsys.readouterr()
    assert len(loads) == 1  # the model loads once for every file
    for name in EXAMPLE_CLIPS:
        record = json.loads((out / f"{name}.wav.dream.json").read_text())
        assert sf.info(out / f"{name}.wav").frames == sf.info(inputs / f"{name}.wav").frames
        assert record["input"] == str((inputs / f"{name}.wav").resolve()) and record["objective"]["kind"] == "layer"
    assert not (out / "notes.wav").exists()
    bad = [line for line in printed.splitlines() if "notes.wav" in line]
    assert len(bad) == 2 and "not an audio file" in bad[0]  # when found, and in the summary
    assert "3 of 4 files dreamed" in printed and "1 failed" in printed
    assert err.strip().splitlines()[-1].startswith("error: 1 of 4 inputs could not be dreamed")
    assert "4 files" not in err and "of 3 files" in err  # the progress bar counts files and seconds of audio


def test_a_killed_batch_resumes_where_it_stopped(inputs, model_dir, tmp_path, capsys, monkeypatch):
    from auditory_deepdream import dreamer

    (inputs / "notes.wav").unlink()
    out, argv = tmp_path / "dreams", ["--model", str(model_dir), "--steps", "1", "--seed", "2"]
    dream_file, calls = dreamer.dream_file, []

    def killed_on_the_second(*args, **kwargs):
        calls.append(args[0])
        if len(calls) == 2:
            raise KeyboardInterrupt  # as a kill would stop it, between two files
        return dream_file(*args, **kwargs)

    monkeypatch.setattr(dreamer, "dream_file", killed_on_the_second)
    with pytest.raises(KeyboardInterrupt):
        cli.main(["dream", str(inputs), str(out), *argv])
    first = sorted(out.glob("*.wav"))
    assert len(first) == 1
    stamp = first[0].stat().st_mtime_ns
    monkeypatch.setattr(dreamer, "dream_file", dream_file)
    capsys.readouterr()
    assert cli.main(["dream", str(inputs), str(out), *argv]) == 0
    printed = capsys.readouterr().out
    assert "skipped 1 already dreamed" in printed and "3 of 3 files dreamed (1 already were)" in printed
    assert first[0].stat().st_mtime_ns == stamp  # not dreamed again
    assert len(list(out.glob("*.wav"))) == 3
    # other options make another dream: nothing is skipped
    assert cli.main(["dream", str(inputs), str(out), *argv[:-1], "3"]) == 0
    assert "(0 already were)" in capsys.readouterr().out


def test_several_inputs_need_an_output_folder_and_distinct_names(model_dir, tmp_path, capsys):
    clip = str(example_clip("cello_C3"))
    assert cli.main(["dream", clip, "flute_A4", str(tmp_path / "out.wav"), "--model", str(model_dir)]) == 2
    assert "output folder" in capsys.readouterr().err
    other = tmp_path / "other"
    other.mkdir()
    shutil.copy(clip, other / "cello_C3.wav")
    assert cli.main(["dream", clip, str(other / "cello_C3.wav"), str(tmp_path / "dreams"), "--model",
                     str(model_dir), "--steps", "1"]) == 2  # the first is dreamed, the second refused
    assert "would both be written to" in capsys.readouterr().out and (tmp_path / "dreams" / "cello_C3.wav").is_file()


def test_a_batch_runs_on_a_dask_cluster_with_the_same_output(model_dir, tmp_path, capsys):
    pytest.importorskip("distributed")
    from auditory_deepdream.cluster import dask_client

    here, there = tmp_path / "here", tmp_path / "there"
    argv = ["cello_C3", "piano_E4", "--model", str(model_dir), "--steps", "1"]
    assert cli.main(["dream", *argv[:2], str(here), *argv[2:]]) == 0
    with dask_client(n_workers=1, announce=None) as client:
        assert cli.main(["dream", *argv[:2], str(there), *argv[2:], "--scheduler", client.scheduler.address]) == 0
    assert "2 of 2 files dreamed" in capsys.readouterr().out
    for name in ("cello_C3.wav", "piano_E4.wav"):
        assert np.array_equal(sf.read(here / name)[0], sf.read(there / name)[0])
