"""Dreams stay bit-identical across refactors: the CLI's defaults, its presets and the Python recipes.

``tests/fixtures/dream_identity.json`` holds, for every case, the SHA-256 of its output samples
(float32) on each kind of processor it was written on, and a fingerprint: the level of every
1024-sample block of each channel in dB. TensorFlow's kernels sum in a different order on
processors with other vector units (AVX-512 against AVX2), so the bits of a dream belong to a
processor kind. On a kind the fixture has digests for, a refactor that changes a single sample of
any case fails here; on another kind, every block's level must be within 0.05 dB. Regenerate
only for a change that is meant to change the sound, and say so in the commit:
``python tests/test_dream_identity.py --write`` (it keeps only this processor kind's digests).

The input is a 3-second stereo 44.1 kHz float WAV made from the bundled cello and flute
(not the model's rate, so the full-rate path with its crossover and per-channel gain
runs), dreamed with the bundled ``default`` model.
"""

import hashlib
import json
import platform
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


FINGERPRINT_TOLERANCE_DB = 0.05


def processor_kind() -> str:
    """``machine-vector unit``: the bits of a dream depend on it (``x86_64-avx512f``, ``x86_64-avx2``)."""
    try:
        flags = next((line for line in Path("/proc/cpuinfo").read_text().splitlines() if line.startswith("flags")), "")
    except OSError:
        flags = ""
    unit = next((u for u in ("avx512f", "avx2", "neon", "asimd") if f" {u}" in flags), "other")
    return f"{platform.machine()}-{unit}"


def digest(a) -> dict:
    """SHA-256 of the samples and the level of each 1024-sample block of each channel (dB, 0.01)."""
    a = np.ascontiguousarray(np.asarray(a, dtype=np.float32))
    frames = a.reshape(-1, a.shape[-1]) if a.ndim > 1 else a[:, None]
    n = len(frames) // 1024 * 1024
    rms = np.sqrt(np.mean(frames[:n].reshape(-1, 1024, frames.shape[1]).astype(np.float64) ** 2, axis=1))
    return {"sha256": hashlib.sha256(a.tobytes()).hexdigest(),
            "levels_db": np.round(20 * np.log10(np.maximum(rms, 1e-9)), 2).ravel().tolist()}


def check(got: dict, expected: dict, group: str, name: str) -> None:
    """Bit-identical where the fixture has this processor kind's digest, else within the level tolerance."""
    digests = expected["digests"].get(processor_kind())
    if digests is not None:
        assert got["sha256"] == digests[group][name], f"{group} {name}: not bit-identical on {processor_kind()}"
        return
    want = np.asarray(expected["levels_db"][group][name])
    have = np.asarray(got["levels_db"])
    assert have.shape == want.shape, f"{group} {name}: {have.shape} blocks, expected {want.shape}"
    worst = float(np.max(np.abs(have - want)))
    assert worst <= FINGERPRINT_TOLERANCE_DB, f"{group} {name}: a block's level moved by {worst:.3f} dB"


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
    check(cli_case(name, folder), expected, "cli", name)


def test_recipes_are_bit_identical_to_the_fixture(expected):
    got = api_cases()
    assert sorted(got) == sorted(expected["levels_db"]["api"])
    for name, value in got.items():
        check(value, expected, "api", name)


def test_a_changed_sample_is_caught():
    y = np.linspace(-0.5, 0.5, 4096, dtype=np.float32)
    ref = digest(y)
    expected = {"digests": {processor_kind(): {"cli": {"x": ref["sha256"]}}}, "levels_db": {"cli": {"x": ref["levels_db"]}}}
    check(digest(y), expected, "cli", "x")
    y[100] += 1e-6
    with pytest.raises(AssertionError, match="not bit-identical"):
        check(digest(y), expected, "cli", "x")
    elsewhere = {"digests": {}, "levels_db": expected["levels_db"]}
    check(digest(y), elsewhere, "cli", "x")  # another processor kind: within the level tolerance
    with pytest.raises(AssertionError, match="moved by"):
        check(digest(y * 1.1), elsewhere, "cli", "x")


if __name__ == "__main__":
    import tempfile

    if "--write" not in sys.argv:
        sys.exit("usage: python tests/test_dream_identity.py --write   (regenerates the fixture)")
    with tempfile.TemporaryDirectory() as tmp:
        cases = {"cli": {name: cli_case(name, Path(tmp)) for name in CLI_CASES}, "api": api_cases()}
    result = {"digests": {processor_kind(): {g: {n: v["sha256"] for n, v in c.items()} for g, c in cases.items()}},
              "levels_db": {g: {n: v["levels_db"] for n, v in c.items()} for g, c in cases.items()}}
    FIXTURE.parent.mkdir(exist_ok=True)
    FIXTURE.write_text(json.dumps(result) + "\n")
    print(f"wrote {FIXTURE}")
