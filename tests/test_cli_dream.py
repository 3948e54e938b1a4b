"""``auditory-deepdream dream``: presets, strength and loudness options, and the mistakes they catch.

Runs :func:`auditory_deepdream.cli.main` as a shell would, with the tiny untrained model
saved as a model directory (see ``dreamer_fixtures.tiny_dreamer``) and the bundled cello.
"""

import numpy as np
import pytest
import soundfile as sf
from dreamer_fixtures import CLASSES

from auditory_deepdream import audio, cli, models


@pytest.fixture(scope="module")
def model_dir(dreamer, settings, tmp_path_factory):
    folder = tmp_path_factory.mktemp("model") / "tiny"
    return models.save_model_dir(dreamer.model, folder, settings=settings, card={"classes": CLASSES})


@pytest.fixture
def src(cello, settings, tmp_path):
    return audio.save_audio(tmp_path / "in.wav", cello, sample_rate=settings.sample_rate)


def _dream(src, out, model_dir, *options) -> int:
    """The exit code, whether the mistake is caught by argparse (SystemExit) or by the handler."""
    try:
        model = [] if model_dir is None else ["--model", str(model_dir)]  # None: the CLI's own choice
        return cli.main(["dream", str(src), str(out), *model, *options])
    except SystemExit as exit_:
        return exit_.code


def test_morph_without_a_class_exits_2_naming_the_classes(src, model_dir, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert _dream(src, out, model_dir, "--preset", "morph") == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "--class" in err and len(err.strip().splitlines()) == 1
    for name in CLASSES:
        assert name in err
    assert not out.exists()


def test_an_unknown_preset_exits_2_listing_the_presets(src, model_dir, tmp_path, capsys):
    assert _dream(src, tmp_path / "out.wav", model_dir, "--preset", "gentle") == 2
    err = capsys.readouterr().err
    assert "error:" in err and "gentle" in err and all(name in err for name in ("subtle", "strong", "morph"))


def test_loudness_target_in_lufs(src, model_dir, cello, settings, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert _dream(src, out, model_dir, "--loudness", "-14") == 0, capsys.readouterr().err
    y, sr = sf.read(out, dtype="float32")
    assert sr == settings.sample_rate and y.shape == cello.shape
    assert abs(audio.integrated_loudness(y, sample_rate=sr) + 14.0) < 1.0
    assert abs(audio.integrated_loudness(cello, sample_rate=sr) + 14.0) > 2.0  # the input was elsewhere
    assert audio.true_peak_db(y) <= -1.0 + 0.1
    printed = capsys.readouterr().out
    assert "-14.0 LUFS" in printed and "1 ch" in printed


def test_an_unreadable_loudness_exits_2_with_the_accepted_values(src, model_dir, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert _dream(src, out, model_dir, "--loudness", "loud") == 2
    err = capsys.readouterr().err
    assert "--loudness" in err and "'loud'" in err and "match" in err and "keep" in err and "LUFS" in err
    assert not out.exists()
    assert _dream(src, out, model_dir, "--loudness", "+3") == 2  # a number, but not a loudness
    assert "between -70 and 0" in capsys.readouterr().err


def test_free_needs_steps(src, model_dir, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert _dream(src, out, model_dir, "--free") == 2
    err = capsys.readouterr().err
    assert "--free" in err and "--steps" in err
    assert not out.exists()
    assert _dream(src, out, model_dir, "--free", "--steps", "2") == 0, capsys.readouterr().err
    assert out.exists()


def test_strength_and_preset_options_change_how_much_is_dreamed(src, model_dir, cello, settings, tmp_path, capsys):
    from auditory_deepdream.dreamer import log_spectral_distance

    distances = {}
    for preset in ("subtle", "strong"):
        out = tmp_path / f"{preset}.wav"
        assert _dream(src, out, model_dir, "--preset", preset) == 0, capsys.readouterr().err
        capsys.readouterr()
        y, _ = sf.read(out, dtype="float32")
        distances[preset] = log_spectral_distance(cello, y, sample_rate=settings.sample_rate)
    assert distances["strong"] > distances["subtle"] > 0.05


@pytest.mark.parametrize("options", [("--filter", "3"), ("--objective", "layer")])
def test_filter_or_layer_objective_without_layer_uses_the_presets_layer(src, model_dir, tmp_path, capsys, options):
    out = tmp_path / "out.wav"
    rc = _dream(src, out, model_dir, *options, "--steps", "1")
    assert rc == 0, capsys.readouterr().err
    assert "stage3_conv1" in capsys.readouterr().out and out.exists()
    np.testing.assert_array_less(0, sf.info(out).frames)


def test_objective_class_dreams_with_the_morph_preset_unless_another_is_named(src, model_dir, tmp_path, capsys):
    """``--objective class`` alone takes morph's strength (10 dB); with ``--preset subtle`` it takes 2 dB."""
    import re

    changes = {}
    for name, options in {"default": (), "subtle": ("--preset", "subtle")}.items():
        out = tmp_path / f"{name}.wav"
        assert _dream(src, out, model_dir, "--objective", "class", "--class", "string", *options) == 0, \
            capsys.readouterr().err
        printed = capsys.readouterr().out
        assert "class string" in printed
        changes[name] = float(re.search(r"spectral change ([0-9.]+) dB", printed).group(1))
    assert abs(changes["default"] - 10.0) < 1.0 and abs(changes["subtle"] - 2.0) < 0.5


def test_an_ensemble_folder_dreams_as_one_model(src, dreamer, settings, tmp_path, capsys):
    from auditory_deepdream.dreamer import Dreamer, save_ensemble

    other = models.build_model("conv_blocks", {"width": 0.25}, settings=settings, n_classes=3, seed=5)
    folder = save_ensemble(tmp_path / "ens", {"a": dreamer, "b": Dreamer(other, settings=settings,
                                                                           card={"classes": CLASSES})})
    out = tmp_path / "out.wav"
    assert _dream(src, out, folder, "--objective", "class", "--class", "brass", "--steps", "2") == 0, \
        capsys.readouterr().err
    assert "class brass" in capsys.readouterr().out and sf.info(out).frames > 0


# ---------------------------------------------------------------- checked before TensorFlow loads
REFUSALS = {
    "unknown suffix": (["OUT.xyz"], "suffix is not an audio format we write"),
    "missing input": (["--input", "missing.wav"], "No file at"),
    "zero strength": (["--strength", "0"], "must be above 0"),
    "misspelt class": (["--class", "Flutee"], "Did you mean 'flute'"),
    "misspelt layer": (["--layer", "stage3_conv"], "Did you mean 'stage3_conv1'"),
    "tag on a classifier": (["--model", "default", "--tag", "piano"], "--tag dreams toward a tagger's tags"),
    "misspelt tag": (["--tag", "pianoo"], "Did you mean 'piano'"),
    "unknown model": (["--model", "nope"], "augmented"),
    "missing output folder": (["OUT-in-missing-folder"], "does not exist"),
    "class and filter": (["--class", "flute", "--filter", "3"], "not a filter"),
    "plot not png": (["--plot", "picture.jpg"], "PNG"),
    "excerpt past the end": (["--start", "10"], "cannot start at 10 s"),
    "a tag as a family's class": (["--class", "cello"], "dream toward it with --tag 'cello'"),
    "negative duration": (["--duration", "-1"], "lasts more than 0 s"),
    "replay of no record": (["--replay", "missing.json"], "no such file"),
}


@pytest.mark.parametrize("case", list(REFUSALS))
def test_a_bad_argument_is_refused_before_tensorflow_loads(case, tmp_path):
    """Each mistake gets one error line and exit code 2, in a process that never imported TensorFlow."""
    import subprocess
    import sys

    extra, message = REFUSALS[case]
    src, out = str(audio.example_clip("cello_C3")), str(tmp_path / "out.wav")
    if extra[:1] == ["--input"]:
        src, extra = str(tmp_path / extra[1]), []
    elif extra[:1] == ["OUT.xyz"]:
        out, extra = str(tmp_path / "out.xyz"), []
    elif extra[:1] == ["OUT-in-missing-folder"]:
        out, extra = str(tmp_path / "missing" / "out.wav"), []
    # the process's CPU time from before the package is imported: what a refusal costs on an idle machine,
    # less the interpreter's start, however busy the machine that runs the tests is
    code = ("import time; t = time.process_time(); import sys; from auditory_deepdream.cli import main; "
            "rc = main(sys.argv[1:]); print('tensorflow loaded' if 'tensorflow' in sys.modules else 'no tensorflow', "
            "time.process_time() - t); sys.exit(rc)")
    run = subprocess.run([sys.executable, "-c", code, "dream", src, out, *extra], capture_output=True, text=True,
                         cwd=tmp_path)
    assert run.returncode == 2, run.stderr
    loaded, seconds = run.stdout.strip().rsplit(" ", 1)
    assert loaded == "no tensorflow"
    err = run.stderr.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:") and message in err[0], err
    assert float(seconds) < 2.0, f"refused after {float(seconds):.1f} s"
    assert not any(tmp_path.glob("out*"))


def test_class_names_ignore_case_and_imply_the_morph_preset(src, model_dir, tmp_path, capsys):
    import re

    out = tmp_path / "out.wav"
    assert _dream(src, out, model_dir, "--class", "STRING") == 0, capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "class string" in printed and "logit" in printed
    assert abs(float(re.search(r"spectral change ([0-9.]+) dB", printed).group(1)) - 10.0) < 1.0  # morph: 10 dB


def test_a_tag_dreams_with_vgg_both_and_the_tag_preset_unless_told_otherwise(tmp_path, capsys):
    import json

    from auditory_deepdream.options import DreamOptions
    from auditory_deepdream.presets import PRESETS

    out = tmp_path / "out.wav"
    assert _dream(audio.example_clip("cello_C3"), out, None, "--tag", "GUITAR") == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "out.wav.dream.json").read_text())
    assert record["model"] == "vgg-both" and record["objective"] == {"kind": "tag", "targets": {"guitar": 1.0},
                                                                    "text": "tag guitar"}
    assert DreamOptions.from_dict(record["options"]) == PRESETS["tag"].options.replace(sonify="original")
    assert record["result"]["objective_after"] > record["result"]["objective_before"]
    printed = capsys.readouterr().out
    assert "(12 steps)" in printed and "tag guitar (logit)" in printed and "class" not in printed
    assert record["result"]["spectral_change_db"] > 1.0
    # a tagger's --class is one --tag, with the same preset; --max-steps and --model still rule
    assert _dream(audio.example_clip("cello_C3"), out, "musicnn-mtt", "--class", "guitar", "--max-steps", "2",
                  "--steps", "2") == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "out.wav.dream.json").read_text())
    assert record["model"] == "musicnn-mtt" and record["options"]["max_boost_db"] == 0.0
    assert record["options"]["max_steps"] == 2 and record["options"]["steps"] == 2


def test_vgg_both_dreams_an_mtt_tag_with_both_vgg_taggers(tmp_path, capsys):
    import json

    out = tmp_path / "both.wav"
    assert _dream(audio.example_clip("cello_C3"), out, "vgg-both", "--tag", "female vocal", "--steps", "2") == 0, \
        capsys.readouterr().err
    record = json.loads((tmp_path / "both.wav.dream.json").read_text())
    assert record["model"] == "vgg-both" and record["objective"]["kind"] == "tag"
    assert record["objective"]["targets"] == {"female vocal": 1.0}
    assert record["result"]["objective_dreamed"] > record["result"]["objective_before"]
    assert "quietest 20 %" in capsys.readouterr().out


def test_the_dream_writes_its_options_beside_it_and_a_plot_when_asked(src, model_dir, tmp_path, capsys):
    import json

    from auditory_deepdream.options import DreamOptions
    from auditory_deepdream.presets import PRESETS

    out, png = tmp_path / "out.wav", tmp_path / "before_after.png"
    assert _dream(src, out, model_dir, "--preset", "subtle", "--seed", "3", "--plot", str(png)) == 0, \
        capsys.readouterr().err
    record = json.loads((tmp_path / "out.wav.dream.json").read_text())
    assert DreamOptions.from_dict(record["options"]) == PRESETS["subtle"].options.replace(seed=3, sonify="original")
    assert record["objective"] == {"kind": "layer", "layer": "stage2_conv1", "text": "stage2_conv1"}
    assert record["result"]["spectral_change_db"] > 1.0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    printed = capsys.readouterr().out
    for unit in ("dB", "LUFS", "dBTP", "mean activation", "rise in the audio the network hears", "quietest 20 %"):
        assert unit in printed
    assert np.isfinite(record["result"]["noise_lift_db"])


def test_a_file_over_a_minute_is_streamed_and_reported(cello, settings, model_dir, tmp_path, capsys, monkeypatch):
    src = audio.save_audio(tmp_path / "long.wav", np.tile(cello, 25)[: 65 * settings.sample_rate],
                           sample_rate=settings.sample_rate)
    out, png = tmp_path / "out.wav", tmp_path / "first_block.png"
    assert _dream(src, out, model_dir, "--preset", "subtle", "--max-steps", "4", "--plot", str(png)) == 0, \
        capsys.readouterr().err
    printed = capsys.readouterr().out
    assert "(1 ch, 22050 Hz)" in printed and "LUFS" in printed and png.is_file()
    assert sf.info(str(out)).frames == 65 * settings.sample_rate
    from auditory_deepdream import display

    drawn = {}
    monkeypatch.setattr(display, "plot_before_after", lambda *a, **k: drawn.update(k) or display.Figure())
    assert _dream(src, out, model_dir, "--preset", "subtle", "--max-steps", "2", "--plot", str(png)) == 0
    assert drawn["time_range"] == (0.0, 65.0) and "0.0 to 65.0 s" in drawn["title"]  # the whole file, not a block
    assert _dream(src, out, model_dir, "--preset", "subtle", "--max-steps", "2", "--plot", str(png),
                  "--start", "10", "--duration", "5") == 0
    assert drawn["time_range"] == (10.0, 15.0) and "10.0 to 15.0 s" in drawn["title"]


# ---------------------------------------------------------------- records and --replay
REPLAYED = {
    "class": ("--class", "brass", "--steps", "2", "--seed", "3"),
    "layer": ("--objective", "layer", "--layer", "stage2_conv1", "--steps", "2"),
    "filter": ("--layer", "stage1_conv1", "--filter", "2", "--steps", "2", "--phase", "griffin-lim"),
}


@pytest.mark.parametrize("case", list(REPLAYED))
def test_replay_repeats_a_dream_bit_for_bit_from_its_record(case, src, model_dir, tmp_path, capsys):
    import json

    first, again = tmp_path / "first.flac", tmp_path / "again.flac"
    assert _dream(src, first, model_dir, *REPLAYED[case]) == 0, capsys.readouterr().err
    record = json.loads((tmp_path / "first.flac.dream.json").read_text())
    assert record["objective"]["kind"] == case and record["model"] == str(model_dir)
    assert cli.main(["dream", "--replay", str(tmp_path / "first.flac.dream.json"), str(src), str(again)]) == 0, \
        capsys.readouterr().err
    a, b = sf.read(first, dtype="int32")[0], sf.read(again, dtype="int32")[0]
    assert a.shape == b.shape and np.array_equal(a, b)
    replayed = json.loads((tmp_path / "again.flac.dream.json").read_text())
    assert {k: replayed[k] for k in ("objective", "options", "model", "excerpt")} == \
        {k: record[k] for k in ("objective", "options", "model", "excerpt")}


def test_a_tag_mix_is_recorded_with_its_weights_and_replayed_bit_for_bit(tmp_path, capsys):
    import json

    src = audio.example_clip("cello_C3")
    first, again = tmp_path / "first.wav", tmp_path / "again.wav"
    assert _dream(src, first, None, "--tag", "piano", "--tag", "strings=0.5", "--steps", "2") == 0, \
        capsys.readouterr().err
    record = json.loads((tmp_path / "first.wav.dream.json").read_text())
    assert record["model"] == "vgg-both"  # the default tagger of --tag
    assert record["objective"]["kind"] == "tag" and record["objective"]["targets"] == {"piano": 1.0, "strings": 0.5}
    # a bundled clip named by name is the same input
    assert cli.main(["dream", "--replay", str(tmp_path / "first.wav.dream.json"), "cello_C3", str(again)]) == 0
    assert np.array_equal(sf.read(first)[0], sf.read(again)[0])
    assert "tag piano + 0.5*(tag strings)" in capsys.readouterr().out


def test_records_are_named_after_the_whole_output_name_so_they_never_collide(src, model_dir, tmp_path, capsys):
    for name in ("out.wav", "out.flac"):
        assert _dream(src, tmp_path / name, model_dir, "--steps", "1") == 0, capsys.readouterr().err
    assert (tmp_path / "out.wav.dream.json").is_file() and (tmp_path / "out.flac.dream.json").is_file()
    assert not (tmp_path / "out.dream.json").exists()


def test_replay_refuses_options_beside_the_record_and_a_file_that_is_no_record(src, model_dir, tmp_path, capsys):
    out = tmp_path / "out.wav"
    assert _dream(src, out, model_dir, "--steps", "1") == 0, capsys.readouterr().err
    capsys.readouterr()
    assert cli.main(["dream", "--replay", str(tmp_path / "out.wav.dream.json"), str(src), str(tmp_path / "b.wav"),
                     "--strength", "3"]) == 2
    assert "--strength" in capsys.readouterr().err
    (tmp_path / "bad.json").write_text('{"options": {}}')
    assert cli.main(["dream", "--replay", str(tmp_path / "bad.json")]) == 2
    assert "not a dream record" in capsys.readouterr().err
    assert not (tmp_path / "b.wav").exists()


def test_an_excerpt_is_a_preview_its_record_says_so_and_replay_honours_it(src, model_dir, tmp_path, capsys):
    import json

    out, again = tmp_path / "preview.wav", tmp_path / "again.wav"
    assert _dream(src, out, model_dir, "--start", "0.5", "--duration", "1", "--steps", "2") == 0, \
        capsys.readouterr().err
    assert sf.info(out).frames == 22050 and sf.info(src).frames > 2 * 22050
    record = json.loads((tmp_path / "preview.wav.dream.json").read_text())
    assert record["excerpt"] == {"start": 0.5, "duration": 1.0}
    assert cli.main(["dream", "--replay", str(tmp_path / "preview.wav.dream.json"), str(src), str(again)]) == 0
    assert np.array_equal(sf.read(out)[0], sf.read(again)[0])
