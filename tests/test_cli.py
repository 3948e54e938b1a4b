"""The ``auditory-deepdream`` command: every sub-command's ``--help``, and one real run of each.

Each real run goes through :func:`auditory_deepdream.cli.main` exactly as a user's shell
would, on small real inputs (notes rendered from pip's TimGM6mb SoundFont, the bundled
clips and model), and checks what it wrote.
"""

import json
import platform
import shlex

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
from filesystem_faults import tmpfs
from training_fixtures import make_store

from auditory_deepdream import cli, models
from auditory_deepdream.audio import example_clip

SUBCOMMANDS = ["quickstart", "examples", "render-soundfont", "build-dataset", "train", "ensemble", "search", "dream", "layers", "atlas", "classify", "gallery"]


def run(capsys, *argv) -> str:
    assert cli.main(list(argv)) == 0, capsys.readouterr().err
    return capsys.readouterr().out


def test_parser_lists_exactly_the_documented_subcommands():
    parser = cli.build_parser()
    (sub,) = [a for a in parser._actions if a.dest == "command"]
    assert list(sub.choices) == SUBCOMMANDS


@pytest.mark.parametrize("name", SUBCOMMANDS)
def test_help_of_every_subcommand(name, capsys):
    with pytest.raises(SystemExit) as exit_:
        cli.main([name, "--help"])
    assert exit_.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith(f"usage: auditory-deepdream {name}")
    assert "--" in out  # it documents options


def test_a_user_mistake_is_one_line_on_stderr_and_exit_code_2(tmp_path, capsys):
    assert cli.main(["dream", str(tmp_path / "missing.wav"), str(tmp_path / "out.wav")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "missing.wav" in err
    assert not (tmp_path / "out.wav").exists()


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "render"
    assert cli.main(["render-soundfont", "--out", str(out), "--programs", "0", "40", "--velocities", "100",
                     "--sample-rate", "16000", "--jobs", "1"]) == 0
    return out


def test_render_soundfont(rendered):
    examples = json.loads((rendered / "examples.json").read_text())
    assert len(examples) == 2 * 4  # two programs, the small preset's four pitches, one velocity
    assert {e["velocity"] for e in examples.values()} == {100}
    for name in examples:
        y, sr = sf.read(rendered / "audio" / f"{name}.wav")
        assert sr == 16000 and np.abs(y).max() > 0.01


def test_build_dataset(rendered, tmp_path, capsys):
    out = run(capsys, "build-dataset", "--out", str(tmp_path / "store"), "--soundfont-dir", str(rendered),
              "--jobs", "1")
    index = pd.read_csv(tmp_path / "store" / "index.csv")
    assert f"store: {tmp_path / 'store'} ({len(index)} segments" in out
    assert set(index["family"]) == {"piano", "string"}  # GM programs 0 (grand piano) and 40 (violin)


@pytest.fixture(scope="module")
def tiny_store(tmp_path_factory):
    return make_store(tmp_path_factory.getbasetemp() / "tiny-store")  # shared by the training tests


def test_train_records_the_exact_command_in_the_card(tiny_store, tmp_path, capsys):
    argv = ["train", "--store", str(tiny_store.path), "--out", str(tmp_path / "model"), "--epochs", "1",
            "--batch-size", "32", "--hp", "width=0.25", "dense_units=16", "--log-dir", str(tmp_path / "logs")]
    out = run(capsys, *argv)
    card = json.loads((tmp_path / "model" / "card.json").read_text())
    assert card["command"] == shlex.join(["auditory-deepdream", *argv])
    assert f"test accuracy: {card['test']['accuracy']:.4f}" in out
    assert card["hyperparameters"]["width"] == 0.25 and card["epochs_run"] == 1
    assert pd.read_csv(tmp_path / "logs" / "evaluation.csv")["model_id"].tolist() == [0]
    # the card says how the model was trained: the default fit-time augmentation at strength 1
    assert card["training_data"]["fit_time_augmentation"]["strength"] == 1.0
    assert "## Training data and augmentation" in (tmp_path / "model" / "card.md").read_text()


def test_train_options_for_augmentation_and_the_selection_results(tiny_store, tmp_path, capsys):
    base = ["train", "--store", str(tiny_store.path), "--epochs", "1", "--batch-size", "32",
            "--hp", "width=0.25", "dense_units=16"]
    # a missing results file is refused before any training
    assert cli.main([*base, "--out", str(tmp_path / "m0"), "--ablation", str(tmp_path / "none.json")]) == 2
    assert "does not exist" in capsys.readouterr().err and not (tmp_path / "m0").exists()
    ablation = {"fold": "TimGM6mb.sf2", "model": ["conv_blocks", {}], "budget": {"epochs": 4, "samples_per_family": 9},
                "arms": {"none": {"store_augmentations": ["none", "stretch"], "fit_time_augmentation": False,
                                  "left_out": {"accuracy": 0.4, "note_accuracy": 0.45,
                                               "per_class_note_accuracy": {"piano": 0.3, "string": 0.6}}}}}
    (tmp_path / "ablation.json").write_text(json.dumps(ablation))
    run(capsys, *base, "--out", str(tmp_path / "m1"), "--no-augment", "--ablation", str(tmp_path / "ablation.json"),
        "--log-dir", str(tmp_path / "logs1"))
    card = json.loads((tmp_path / "m1" / "card.json").read_text())
    assert card["training_data"]["fit_time_augmentation"] is None and card["train_config"]["augment"] is False
    assert card["ablation"] == ablation
    text = (tmp_path / "m1" / "card.md").read_text()
    assert "## Augmentation ablation" in text and "| none |" in text and "piano 0.30" in text
    run(capsys, *base, "--out", str(tmp_path / "m2"), "--augment-strength", "0.5", "--warp-semitones", "2",
        "--label-smoothing", "0.1",
        "--log-dir", str(tmp_path / "logs2"))
    card = json.loads((tmp_path / "m2" / "card.json").read_text())
    assert card["training_data"]["fit_time_augmentation"]["strength"] == 0.5
    assert card["training_data"]["fit_time_augmentation"]["warp_semitones"] == 2.0
    assert card["train_config"]["warp_semitones"] == 2.0 and card["train_config"]["label_smoothing"] == 0.1


def test_search(tiny_store, tmp_path, capsys):
    out = run(capsys, "search", "--store", str(tiny_store.path), "--log-dir", str(tmp_path / "search"),
              "--trials", "1", "--init-points", "1", "--epochs", "1", "--batch-size", "32",
              "--fixed", "width=0.25", "dense_units=16")
    logs = pd.read_csv(tmp_path / "search" / "evaluation.csv")
    assert logs["model_id"].tolist() == [0]
    assert f"{logs['accuracy'].iloc[0]:.6f}"[:4] in out


def test_dream_keeps_length_and_rate(tmp_path, capsys):
    y, sr = sf.read(example_clip("flute_A4"))
    src = tmp_path / "flute.wav"
    sf.write(src, y[: sr // 2], sr)
    out = run(capsys, "dream", str(src), str(tmp_path / "out.wav"), "--layer", "stage1_conv1", "--filter", "3",
              "--steps", "2")
    dreamed, sr_out = sf.read(tmp_path / "out.wav")
    assert sr_out == sr and len(dreamed) == sr // 2
    assert f"wrote {tmp_path / 'out.wav'}" in out
    assert not np.allclose(dreamed, y[: sr // 2], atol=1e-4)


def test_layers_lists_dreamable_layers_and_classes(capsys):
    from auditory_deepdream.models import conv_layer_names, load_model

    model, _, card = load_model("default")
    out = run(capsys, "layers")
    for name in conv_layer_names(model):
        assert name in out
    assert "classes: " + ", ".join(card["classes"]) in out


BUNDLED_MODELS = sorted(p.name for p in models.bundled_model_dir("default").parent.iterdir() if p.is_dir())


@pytest.mark.parametrize("name", BUNDLED_MODELS)
def test_layers_works_for_every_bundled_model(name, capsys):
    model, _, card = models.load_model(name)
    out = run(capsys, "layers", "--model", name)
    conv = models.conv_layer_names(model)
    assert conv and all(layer in out for layer in conv)
    assert "classes: " + ", ".join(card["classes"]) in out
    assert ("ensemble of" in out) == models.is_ensemble(name)


def test_layers_of_an_ensemble_folder_lists_its_lead_members_layers(tmp_path, capsys, settings):
    builders = {"lead": "timbre", "other": "conv_blocks"}
    built = {name: models.build_model(b, {"width": 0.25}, settings=settings, n_classes=2, seed=1)
             for name, b in builders.items()}
    for name, model in built.items():
        models.save_model_dir(model, tmp_path / name, settings=settings, card={"classes": ["a", "b"]})
    models.write_ensemble_file(tmp_path, ["lead", "other"])
    out = run(capsys, "layers", "--model", str(tmp_path))
    assert "ensemble of 2 models" in out and "lead member, lead," in out
    lead_only = set(models.conv_layer_names(built["lead"])) - set(models.conv_layer_names(built["other"]))
    other_only = set(models.conv_layer_names(built["other"])) - set(models.conv_layer_names(built["lead"]))
    assert lead_only and all(name in out for name in lead_only)
    assert other_only and not any(name in out for name in other_only)


def test_classify_prints_the_top_three_families_per_file(tmp_path, capsys):
    from auditory_deepdream.classify import classify

    files = [str(example_clip("cello_C3")), str(example_clip("flute_A4"))]
    lines = run(capsys, "classify", *files).splitlines()
    assert len(lines) == 2
    for path, line in zip(files, lines):
        top = classify(path).top(3)
        assert line == f"{path}: " + ", ".join(f"{f} {p:.2f}" for f, p in top)
    assert lines[0].split(": ")[1].startswith("string ")
    report = json.loads(run(capsys, "classify", *files, "--json"))
    assert list(report) == files
    assert report[files[0]]["top"][0]["family"] == "string" and len(report[files[0]]["top"]) == 3
    assert all(sum(r["probabilities"].values()) == pytest.approx(1.0) and r["segments"] == 3
               for r in report.values())
    assert all(r["single_note"] is True and r["verdict"] == "single pitched note" for r in report.values())
    # a bad file stops the command before anything is printed for the good ones
    assert cli.main(["classify", files[0], str(tmp_path / "missing.wav")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.startswith("error: ") and "missing.wav" in err


def test_classify_refuses_a_file_that_is_not_audio_in_one_quiet_line(tmp_path, capfd, recwarn):
    import tensorflow  # noqa: F401  TensorFlow's own start-up lines are not the command's
    capfd.readouterr()
    bad = tmp_path / "notes.wav"
    bad.write_text("these are not the samples you are looking for\n" * 20)
    assert cli.main(["classify", str(bad)]) == 2
    out, err = capfd.readouterr()
    assert out == "" and len(err.splitlines()) == 1
    assert err.startswith(f"error: Could not read {bad} as audio: not an audio file")
    assert [str(w.message) for w in recwarn] == []  # what a shell would have printed above the error


def test_a_read_only_output_folder_is_one_error_line(tmp_path, capfd):
    with tmpfs(tmp_path / "disk", read_only=True) as disk:
        assert cli.main(["render-soundfont", "--out", str(disk), "--programs", "0", "--velocities", "100",
                         "--jobs", "1"]) == 2
        out, err = capfd.readouterr()
        assert out == "" and err == (f"error: Cannot write {disk / '.lock'}: {disk} is on a read-only file "
                                     "system. Nothing was written; write to a folder on a writable disk, or "
                                     "remount that one read-write.\n")


def test_classify_says_a_drum_loop_and_a_piece_are_not_single_notes(tmp_path, capsys):
    from auditory_deepdream.dataset.pieces import bach_prelude, break_beat

    files = {"drums": tmp_path / "drums.wav", "piece": tmp_path / "piece.wav"}
    sf.write(files["drums"], break_beat(seconds=6.0, kit=None, sample_rate=22050), 22050)
    sf.write(files["piece"], bach_prelude(seconds=61.0, strings=True, sample_rate=22050), 22050)
    lines = run(capsys, "classify", *map(str, files.values())).splitlines()
    assert lines[0].startswith(f"{files['drums']}: not a single pitched note (percussive: ")
    assert lines[1].startswith(f"{files['piece']}: not a single pitched note (")
    for line in lines:
        families = line.split("; closest families: ")[1].split(", ")
        assert len(families) == 3
    # the 61-second piece no longer reads 1.00: the segments' mean, not their sum
    assert float(lines[1].split("; closest families: ")[1].split(", ")[0].split()[1]) < 0.995
    report = json.loads(run(capsys, "classify", str(files["drums"]), "--json"))
    entry = report[str(files["drums"])]
    assert entry["single_note"] is False and entry["verdict"].startswith("not a single pitched note")
    assert entry["note_check"]["percussive_share"] > 0.5


def test_classify_with_a_tagger_prints_its_top_tags(tmp_path, capsys):
    import librosa

    from auditory_deepdream.classify import tag_clip

    y = np.concatenate([librosa.load(example_clip(n), sr=44100)[0] for n in ("cello_C3", "flute_A4", "piano_E4")])
    stereo = tmp_path / "stereo.wav"
    sf.write(stereo, np.stack([y, 0.5 * y], axis=1), 44100)
    files = [str(stereo), str(example_clip("flute_A4"))]
    lines = run(capsys, "classify", "--model", "musicnn-mtt", *files).splitlines()
    assert len(lines) == 2
    for path, line in zip(files, lines):
        top = tag_clip(path, model="musicnn-mtt").top(5)
        assert line == f"{path}: " + ", ".join(f"{t} {p:.2f}" for t, p in top)
        assert "single pitched note" not in line
    assert len(run(capsys, "classify", "--model", "musicnn-mtt", "--top", "2", *files).splitlines()[0].split(", ")) == 2
    report = json.loads(run(capsys, "classify", "--model", "vgg-mtt", "--json", str(stereo)))
    entry = report[str(stereo)]
    expected = tag_clip(str(stereo), model="vgg-mtt")
    assert entry["model"] == "vgg-mtt" and entry["patches"] == 2 and "single_note" not in entry
    assert list(entry["probabilities"]) == list(expected.tags) and len(entry["probabilities"]) == 50
    assert [e["tag"] for e in entry["top"]] == [t for t, _ in expected.top(5)]
    np.testing.assert_allclose(list(entry["probabilities"].values()), expected.probabilities, rtol=1e-6)


def test_classify_prints_as_many_families_as_top_asks(capsys):
    path = str(example_clip("cello_C3"))
    listed = run(capsys, "classify", "--top", "1", path).strip().removeprefix(f"{path}: ")
    assert listed.startswith("string ") and "," not in listed


def test_classify_refuses_a_misspelt_model_before_tensorflow_loads():
    import subprocess
    import sys

    code = ("import sys; from auditory_deepdream.cli import main; rc = main(sys.argv[1:]); "
            "print('tensorflow loaded' if 'tensorflow' in sys.modules else 'no tensorflow'); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", code, "classify", "--model", "musicnn", str(example_clip("cello_C3"))],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 2 and done.stdout.strip() == "no tensorflow"
    (err,) = done.stderr.strip().splitlines()
    assert err.startswith("error: No model at 'musicnn'. Did you mean 'musicnn-mtt' or 'musicnn-msd'?")


TF_LINES = ("oneDNN", "absl", "E0000", "I0000", "W0000", "cuda", "cpu_feature_guard")


def _cli_stderr(*argv) -> str:
    import os
    import subprocess
    import sys
    from pathlib import Path

    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    root = Path(__file__).resolve().parents[1]
    env["PYTHONPATH"] = os.pathsep.join([str(root), env.get("PYTHONPATH", "")])
    done = subprocess.run([sys.executable, "-m", "auditory_deepdream.cli", *argv], capture_output=True,
                          text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stderr
    return done.stderr


def test_the_command_keeps_tensorflows_log_lines_off_stderr_unless_verbose():
    clip = str(example_clip("cello_C3"))
    quiet = _cli_stderr("classify", clip)
    assert not [line for line in quiet.splitlines() if any(word in line for word in TF_LINES)], quiet
    loud = _cli_stderr("--verbose", "classify", clip)
    if platform.system() == "Linux" and platform.machine() == "x86_64":
        # --verbose brings them back: the oneDNN line where TensorFlow turns oneDNN on (processors with
        # AVX-512 VNNI and the like), and on every x86-64 the start-up lines naming the CPU features
        assert any(word in loud for word in ("oneDNN", "cpu_feature_guard", "I0000")), loud


def test_quickstart(tmp_path, capsys):
    out = run(capsys, "quickstart", "--out", str(tmp_path), "--clip", "piano_E4")
    for kind, suffix in (("input", ".wav"), ("dream", ".wav"), ("spectrogram", ".png")):
        (line,) = [l for l in out.splitlines() if l.startswith(f"{kind}: ")]
        assert line.endswith(suffix) and (tmp_path / line.split("/")[-1]).is_file()


def test_examples_lists_the_bundled_clips_and_every_named_model(capsys):
    from auditory_deepdream.audio import EXAMPLE_CLIPS, example_clip

    assert cli.main(["examples"]) == 0
    out = capsys.readouterr().out
    for name in (*EXAMPLE_CLIPS, "default", "augmented", "musicnn-mtt", "vgg-msd"):
        assert name in out
    assert "50 tags" in out and "10 classes" in out
    assert "..." not in out
    import re

    from auditory_deepdream.models.paths import describe

    assert cli.main(["examples", "--tags"]) == 0
    tags = capsys.readouterr().out
    assert "default" not in tags and "cello_C3" not in tags
    for name in ("musicnn-mtt", "musicnn-msd", "vgg-mtt", "vgg-msd"):
        entry = next(e for e in re.split(r"\n  (?=\S)", tags) if e.lstrip().startswith(f"{name} "))
        listed = " ".join(entry.split())
        assert listed.endswith(", ".join(describe(name)["classes"]))  # every tag, in full
    assert cli.main(["examples", "--path", "FLUTE_A4"]) == 0
    assert capsys.readouterr().out.strip() == str(example_clip("flute_A4"))


# ---------------------------------------------------------------- every refusal in two seconds, before TensorFlow
def _bad_inputs(folder):
    """Files that are not usable audio, each of its own kind."""
    y, sr = sf.read(example_clip("cello_C3"), dtype="float32")
    files = {"text named .wav": folder / "notes.wav", "zero-length wav": folder / "empty.wav",
             "silent": folder / "silent.wav", "too short": folder / "tiny.wav", "zero bytes": folder / "zero.wav"}
    files["text named .wav"].write_text("these are not the samples you are looking for\n" * 20)
    sf.write(files["zero-length wav"], np.zeros(0, np.float32), sr)
    sf.write(files["silent"], np.zeros(sr, np.float32), sr)
    sf.write(files["too short"], y[: sr // 100], sr)
    files["zero bytes"].write_bytes(b"")
    return files


BAD_INPUT_MESSAGES = {"text named .wav": "not an audio file", "zero-length wav": "holds no samples",
                      "silent": "is silent", "too short": "too short", "zero bytes": "empty (0 bytes)",
                      "missing": "No file at"}
REFUSED_NAMES = {
    "layers --model nope": (["layers", "--model", "nope"], "vgg-mtt"),
    "quickstart --clip nope": (["quickstart", "--clip", "nope"], "cello_C3"),
    "gallery --notebooks missing": (["gallery", "--notebooks", "missing-folder"], "does not exist"),
    "classify --model nope": (["classify", "--model", "nope", "cello_C3"], "musicnn-mtt"),
}


def _refused_quickly(argv, cwd):
    """Run the command in a fresh process: ``(exit code, stderr lines, seconds, tensorflow imported)``."""
    import subprocess
    import sys

    # the process's CPU time from before the package is imported: what a refusal costs on an idle machine,
    # less the interpreter's start, however busy the machine that runs the tests is
    code = ("import time; t = time.process_time(); import sys; from auditory_deepdream.cli import main; "
            "rc = main(sys.argv[1:]); print('tensorflow' in sys.modules, time.process_time() - t); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-W", "always", "-c", code, *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=120)
    loaded, seconds = done.stdout.split()
    return done.returncode, done.stderr.strip().splitlines(), float(seconds), loaded == "True"


@pytest.mark.parametrize("command", ["classify", "dream"])
@pytest.mark.parametrize("kind", list(BAD_INPUT_MESSAGES))
def test_a_bad_input_is_refused_in_one_line_within_two_seconds_before_tensorflow(command, kind, tmp_path):
    files = _bad_inputs(tmp_path)
    path = str(files.get(kind, tmp_path / "missing.wav"))
    argv = [command, path] + ([str(tmp_path / "out.wav")] if command == "dream" else [])
    rc, err, seconds, loaded = _refused_quickly(argv, tmp_path)
    assert rc == 2 and not loaded
    assert len(err) == 1 and err[0].startswith("error:") and BAD_INPUT_MESSAGES[kind] in err[0], err
    assert seconds < 2.0, f"refused after {seconds:.2f} s"


@pytest.mark.parametrize("case", list(REFUSED_NAMES))
def test_a_misspelt_name_is_refused_within_two_seconds_before_tensorflow(case, tmp_path):
    argv, message = REFUSED_NAMES[case]
    rc, err, seconds, loaded = _refused_quickly(argv, tmp_path)
    assert rc == 2 and not loaded
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err
    assert seconds < 2.0, f"refused after {seconds:.2f} s"
    assert not (tmp_path / "out").exists()


def test_classify_takes_a_bundled_clips_name_and_no_warning_reaches_the_terminal(tmp_path):
    import subprocess
    import sys

    y, sr = sf.read(example_clip("cello_C3"), dtype="float32")
    sf.write(tmp_path / "short.wav", y[: sr // 10], sr)  # 0.1 s: shorter than the note check's STFT frame
    done = subprocess.run([sys.executable, "-W", "always", "-m", "auditory_deepdream.cli", "classify", "cello_c3",
                           str(tmp_path / "short.wav")], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0 and done.stderr == "", done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("cello_c3: string ") and lines[1].startswith(f"{tmp_path / 'short.wav'}: ")
