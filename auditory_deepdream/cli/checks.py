"""What the CLI checks before TensorFlow loads: files, folders and names, each in a second.

Loading TensorFlow takes seconds; a typo should not. These checks read only files (the
input's header, the model's card) and name what is wrong and what to do, in the one
exception family (:class:`~auditory_deepdream.errors.AuditoryDeepDreamError`).
"""

from __future__ import annotations

import difflib
import os
from pathlib import Path

from ..errors import AudioInputError, DreamError, ModelError

__all__ = ["MIN_SECONDS", "match_name", "readable_audio", "writable_output", "model_description", "parse_tags"]

MIN_SECONDS = 0.05  # one spectrogram frame of the bundled models: 1,025 samples at 22,050 Hz is 46 ms


def match_name(value: str, choices, *, what: str, flag: str, plural: str | None = None,
               owner: str = "this model") -> str:
    """The entry of ``choices`` that ``value`` names, ignoring case (``owner`` is whose the choices are).

    Raises
    ------
    DreamError
        No entry matches; the message lists the choices and the closest ones.
    """
    by_lower = {str(c).lower(): str(c) for c in choices}
    hit = by_lower.get(str(value).lower())
    if hit is not None:
        return hit
    close = difflib.get_close_matches(str(value).lower(), list(by_lower), n=3, cutoff=0.6)
    hint = f" Did you mean {' or '.join(repr(by_lower[c]) for c in close)}?" if close else ""
    raise DreamError(f"{flag} {value!r}: {owner} has no {what} of that name.{hint} Its "
                     f"{plural or what + 's'} are {list(by_lower.values())}.")


def readable_audio(path, *, min_seconds: float = MIN_SECONDS) -> Path:
    """``path`` if it is audio a dream or a classification can use (AudioInputError otherwise).

    A bundled clip's name (``cello_C3``) that is not a file here stands for that clip. Refused,
    each in a second: a missing file, a folder, an empty or unreadable file, one that is not
    audio (a text file named ``.wav``), a header with no samples, less than ``min_seconds``
    of audio, and a file whose every sample is silent (it is read in blocks until one is not).
    """
    import soundfile as sf

    from ..audio.io import AUDIO_SUFFIXES, EXAMPLE_CLIPS, example_clip

    path = Path(path)
    if not path.exists() and str(path).lower() in {c.lower() for c in EXAMPLE_CLIPS}:
        path = example_clip(next(c for c in EXAMPLE_CLIPS if c.lower() == str(path).lower()))
    if not path.exists():
        raise AudioInputError(f"No file at {path}. Check the path, or name a bundled clip "
                              "(auditory-deepdream examples lists them).")
    if path.is_dir():
        raise AudioInputError(f"{path} is a folder; give an audio file.")
    if path.stat().st_size == 0:
        raise AudioInputError(f"{path} is empty (0 bytes); give an audio file.")
    if not os.access(path, os.R_OK):
        raise AudioInputError(f"{path} cannot be read (permission denied); check its permissions.")
    try:
        info = sf.info(str(path))
    except Exception as exc:  # noqa: BLE001  libsndfile names many causes; others decode later
        if path.suffix.lower() not in AUDIO_SUFFIXES or path.suffix.lower() in (".wav", ".flac", ".aiff", ".aif"):
            reason = getattr(exc, "error_string", None) or str(exc)
            raise AudioInputError(f"Could not read {path} as audio: not an audio file, or a damaged one "
                                  f"(libsndfile: {str(reason).rstrip('.')}). Give one of "
                                  f"{', '.join(AUDIO_SUFFIXES)}.") from None
        return path
    if info.frames <= 0:
        raise AudioInputError(f"{path} holds no samples (a {info.format} header and no audio); give a recording "
                              "with sound in it.")
    if info.duration < min_seconds:
        raise AudioInputError(f"{path} is too short: {1000 * info.duration:.0f} ms of audio, and the models need "
                              f"at least {1000 * min_seconds:.0f} ms (one spectrogram frame). Use a longer recording.")
    _check_sound(path)
    return path


def _check_sound(path: Path) -> None:
    """AudioInputError if every sample of ``path`` is silent, or its samples cannot be decoded."""
    import numpy as np
    import soundfile as sf

    from ..audio.io import SILENCE

    try:
        with sf.SoundFile(str(path)) as f:
            for block in f.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
                if not np.all(np.isfinite(block)):
                    raise AudioInputError(f"{path} has NaN or infinite samples; repair or re-export the file.")
                if np.max(np.abs(block)) >= SILENCE:
                    return
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise AudioInputError(f"{path} cannot be read to its end ({exc}); it may be damaged. Re-export it.") from None
    raise AudioInputError(f"{path} is silent (every sample is zero); give a recording with sound in it.")


def writable_output(path, *, like_input=None) -> Path:
    """``path`` if its suffix is a format we write and its folder can take a new file."""
    from ..audio.io import WRITE_FORMATS

    path = Path(path)
    if path.suffix.lower() not in WRITE_FORMATS:
        raise AudioInputError(f"Cannot write {path.name!r}: its suffix is not an audio format we write. "
                              f"Use one of {', '.join(WRITE_FORMATS)}.")
    if path.is_dir():
        raise AudioInputError(f"{path} is a folder; give a file name such as {path / 'dreamed.wav'}.")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise AudioInputError(f"The output folder {folder} does not exist; create it first.")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise AudioInputError(f"Cannot write into {folder} (no write permission); choose another output folder.")
    if like_input is not None and path.resolve() == Path(like_input).resolve():
        raise AudioInputError(f"The output {path} is the input; give another file name, the input is kept.")
    return path


def model_description(name_or_path) -> dict:
    """:func:`auditory_deepdream.models.paths.describe` of a model, or a ModelError naming the choices."""
    from ..models.paths import describe, model_names

    found = describe(name_or_path)
    if found is None:
        close = difflib.get_close_matches(str(name_or_path).lower(), model_names(), n=3, cutoff=0.6)
        hint = f" Did you mean {' or '.join(map(repr, close))}?" if close else ""
        raise ModelError(f"No model at {str(name_or_path)!r}.{hint} Name a bundled model or tagger "
                         f"({', '.join(model_names())}), or give a model directory (model.keras + "
                         "settings.json + card.json) or an ensemble folder.")
    return found


def parse_tags(values, classes) -> dict:
    """``{tag: weight}`` from ``--tag NAME`` or ``--tag NAME=WEIGHT`` values, names matched to ``classes``."""
    tags = {}
    for value in values:
        name, _, weight = str(value).partition("=")
        try:
            w = float(weight) if weight else 1.0
        except ValueError:
            raise DreamError(f"--tag {value!r}: the weight after '=' must be a number (e.g. piano=0.5).") from None
        tags[match_name(name.strip(), classes, what="tag", flag="--tag")] = w
    if not any(tags.values()):
        raise DreamError("Every --tag weight is 0, so nothing would be dreamed toward; give a non-zero weight.")
    return tags
