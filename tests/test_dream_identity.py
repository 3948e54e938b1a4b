"""Dreams stay bit-identical across refactors: the CLI's defaults, its presets and the Python recipes.

``tests/fixtures/dream_identity.json`` holds the SHA-256 of every case's output samples
(float32), made by this file's ``__main__`` before the dreaming path was restructured
around :class:`~auditory_deepdream.dreamer.DreamOptions`. A refactor that changes a single
sample of any case fails here. Regenerate only for a change that is meant to change the
sound, and say so in the commit: ``python tests/test_dream_identity.py --write``.

The input is a 3-second stereo 44.1 kHz float WAV made from the bundled cello and flute
(not the model's rate, so the full-rate path with its crossover and per-channel gain
runs), dreamed with the bundled ``default`` model.
"""

import hashlib
import json
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from auditory_deepdream import audio, cli
from auditory_deepdream.audio.resampling import resample

FIXTURE = Path(__file__).parent / "fixtures" / "dream_identity.json"

# the CLI as a user types it: name -> extra arguments after IN OUT
CLI_CASES = {
    "defaults": [],
    "subtle": ["--preset", "subtle"],
    "strong": ["--preset", "strong"],
    "morph_flute": ["--preset", "morph", "--class", "flute"],
    "filter_fixed_steps": ["--layer", "stage1_conv1", "--filter", "5", "--steps", "3"],
    "waveform": ["--phase", "waveform", "--strength", "2"],
    "free_griffin_lim": ["--free", "--steps", "2", "--phase", "griffin-lim", "--octaves", "2"],
}


def stereo_input(path: Path) -> Path:
    """The shared input: cello left, cello and flute right, 3 s at 44.1 kHz, float WAV."""
    cello, sr = sf.read(audio.example_clip("cello_C3"), dtype="float32")
    flute, _ = sf.read(audio.example_clip("flute_A4"), dtype="float32")
    n = 3 * sr
    left = resample(cello[:n], orig_sr=sr, target_sr=44100)
    right = resample(0.5 * cello[:n] + 0.5 * flute[:n], orig_sr=sr, target_sr=44100)
    sf.write(path, np.stack([left, right], axis=1), 44100, subtype="FLOAT")
    return path


def digest(a) -> str:
    return hashlib.sha256(np.ascontiguousarray(np.asarray(a, dtype=np.float32)).tobytes()).hexdigest()


def cli_case(name: str, folder: Path) -> str:
    src = folder / "in.wav"
    if not src.exists():
        stereo_input(src)
    out = folder / f"{name}.wav"
    assert cli.main(["dream", str(src), str(out), "--model", "default", *CLI_CASES[name]]) == 0
    y, sr = sf.read(out, dtype="float32", always_2d=True)
    assert sr == 44100 and y.shape[1] == 2
    return digest(y)


def api_cases() -> dict:
    """The Python recipes at the model's rate (the README's examples), and a batched audition."""
    from auditory_deepdream.dreamer import Dreamer, amplify_filter, audition_layer, dream_layer

    d = Dreamer.load("default")
    y = audio.load_audio(audio.example_clip("cello_C3"), settings=d.settings)[: 2 * d.settings.sample_rate]
    return {
        "amplify_filter": digest(amplify_filter(y, model=d, layer="stage1_conv1", index=5, steps=3).audio),
        "dream_layer_octaves": digest(dream_layer(y, model=d, layers="stage2_conv1", steps=2, octaves=2,
                                                  jitter=2).audio),
        "audition_layer": digest(audition_layer(y, model=d, layer="stage1_conv1", filters=[0, 3], steps=2).audio),
    }


@pytest.fixture(scope="module")
def expected():
    return json.loads(FIXTURE.read_text())


@pytest.mark.parametrize("name", list(CLI_CASES))
def test_cli_dream_is_bit_identical_to_the_fixture(name, expected, tmp_path_factory):
    folder = tmp_path_factory.getbasetemp() / "dream_identity"
    folder.mkdir(exist_ok=True)
    assert cli_case(name, folder) == expected["cli"][name]


def test_recipes_are_bit_identical_to_the_fixture(expected):
    assert api_cases() == expected["api"]


if __name__ == "__main__":
    import tempfile

    if "--write" not in sys.argv:
        sys.exit("usage: python tests/test_dream_identity.py --write   (regenerates the fixture)")
    with tempfile.TemporaryDirectory() as tmp:
        result = {"cli": {name: cli_case(name, Path(tmp)) for name in CLI_CASES}, "api": api_cases()}
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {FIXTURE}")
