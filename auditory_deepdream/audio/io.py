"""Reading, checking and writing audio files, and the bundled example clips.

:func:`load_audio`/:func:`save_audio` give the dreamer mono audio at the settings' rate;
:func:`read_audio`/:func:`write_audio` keep every channel, the file's own rate and its
sample format (:class:`AudioFormat`), for stereo in, stereo out.
"""

from __future__ import annotations

import os
import warnings
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf

from ..atomic import atomic_path, lost_errno
from ..errors import AudioInputError
from ..settings import AudioSettings
from .resampling import resample

__all__ = ["load_audio", "check_audio", "check_channels", "save_audio", "example_clip", "AUDIO_SUFFIXES", "EXAMPLE_CLIPS",
           "AudioFormat", "read_audio", "write_audio", "WRITE_FORMATS"]

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3", ".aiff", ".aif", ".m4a")
EXAMPLE_CLIPS = ("cello_C3", "flute_A4", "piano_E4")
SILENCE = 1e-7  # peak amplitude below which a clip counts as silent
_SF_ERR_SYSTEM = 2  # libsndfile's code for "the operating system refused" (its errno is lost)


def example_clip(name: str = "cello_C3") -> Path:
    """Path of a bundled real instrument note (rendered from the FluidR3 GM SoundFont).

    Parameters
    ----------
    name : str
        One of :data:`EXAMPLE_CLIPS`.

    Returns
    -------
    path : pathlib.Path
    """
    if name not in EXAMPLE_CLIPS:
        raise AudioInputError(f"No bundled clip {name!r}; choose one of {list(EXAMPLE_CLIPS)}.")
    return Path(str(resources.files("auditory_deepdream") / "data" / "clips" / f"{name}.wav"))


def load_audio(path: str | os.PathLike, *, settings: AudioSettings | None = None,
               sample_rate: int | None = None) -> np.ndarray:
    """Read an audio file as mono float32 at the settings' sample rate.

    Parameters
    ----------
    path : str or path-like
        Any file soundfile or librosa can read (wav, flac, ogg, mp3, ...).
    settings : AudioSettings, optional
        Target sample rate is ``settings.sample_rate`` (default settings if omitted).
    sample_rate : int, optional
        Overrides the settings' sample rate; ``0`` keeps the file's own rate.

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]

    Raises
    ------
    AudioInputError
        Missing or empty file, a file that is not audio, no samples, non-finite
        samples, or a clip that is entirely silent.
    """
    settings = settings or AudioSettings()
    path = _existing_file(path)
    sr = settings.sample_rate if sample_rate is None else (sample_rate or None)
    try:
        data, native_sr = sf.read(path, dtype="float32", always_2d=True)
        y = data.mean(axis=1)
    except Exception as exc:  # formats libsndfile cannot read go through audioread
        y, native_sr = _decode_fallback(path, exc, mono=True)
    y = check_audio(y, name=str(path))
    if sr is not None and native_sr != sr:
        y = resample(y, orig_sr=native_sr, target_sr=sr)
    return y.astype(np.float32, copy=False)


def _existing_file(path: str | os.PathLike) -> Path:
    """``path`` as a Path; AudioInputError if it is missing, a folder or empty."""
    path = Path(path)
    if not path.exists():
        raise AudioInputError(f"Audio file not found: {path}. Check the path and try again.")
    if path.is_dir():
        raise AudioInputError(f"{path} is a folder, not an audio file. Pass a file such as a .wav.")
    if path.stat().st_size == 0:
        raise AudioInputError(f"Audio file {path} is empty (0 bytes). Re-export or re-download it.")
    return path


def _decode_fallback(path: Path, refusal: Exception, *, mono: bool) -> tuple[np.ndarray, int]:
    """Decode a file libsndfile refused with librosa/audioread: ``(y, sample_rate)``.

    Raises
    ------
    AudioInputError
        Neither decoder reads it; the message gives both refusals.
    """
    try:
        with warnings.catch_warnings():
            # librosa warns that soundfile failed and that audioread is deprecated: expected here, noise to a user
            warnings.simplefilter("ignore")
            return librosa.load(path, sr=None, mono=mono)
    except Exception as exc:  # noqa: BLE001  audioread and its backends raise many unrelated types
        raise _unreadable(path, refusal, exc) from None


def _unreadable(path: Path, refusal: Exception, exc: Exception) -> AudioInputError:
    """The error for a file that libsndfile refused (``refusal``) and audioread too (``exc``)."""
    first = refusal.error_string.rstrip(".") if isinstance(refusal, sf.LibsndfileError) else _reason(refusal)
    if type(exc).__name__ == "NoBackendError":  # audioread's: none of its decoders recognises the file
        return AudioInputError(
            f"Could not read {path} as audio: not an audio file, or in a format that no decoder here "
            f"recognises (libsndfile: {first}; no audioread backend decodes it either). "
            f"Use a wav, flac, ogg or mp3 file; convert other formats first.")
    return AudioInputError(
        f"Could not read {path} as audio (libsndfile: {first}; audioread: {_reason(exc)}). "
        f"Use a wav, flac, ogg or mp3 file; convert other formats first.")


def _reason(exc: Exception) -> str:
    """``Type: message``, or the type alone when the message is empty."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def check_audio(y, *, name: str = "audio", allow_silent: bool = False) -> np.ndarray:
    """Validate a mono waveform and return it as float32.

    Parameters
    ----------
    y : array-like [shape=(n_samples,)]
    name : str
        What to call the audio in error messages.
    allow_silent : bool
        Accept an all-zero clip (the dreamer refuses them; padding may produce them).

    Returns
    -------
    y : np.ndarray [shape=(n_samples,), dtype=float32]

    Raises
    ------
    AudioInputError
        Wrong shape, no samples, NaN/inf samples, or silence.
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise AudioInputError(
            f"{name} has shape {y.shape}; expected a mono waveform of shape (n_samples,). "
            "Mix to mono first (e.g. y.mean(axis=0) for shape (channels, n_samples))."
        )
    if y.size == 0:
        raise AudioInputError(f"{name} has no samples (zero length). Use a clip with sound in it.")
    if not np.issubdtype(y.dtype, np.number):
        raise AudioInputError(f"{name} has dtype {y.dtype}; expected numeric samples.")
    if not np.all(np.isfinite(y)):
        bad = int(np.count_nonzero(~np.isfinite(y)))
        raise AudioInputError(
            f"{name} contains {bad} NaN or infinite samples. Repair the file or replace "
            "them (np.nan_to_num) before use."
        )
    if not allow_silent and np.max(np.abs(y)) < SILENCE:
        raise AudioInputError(f"{name} is silent (all samples are zero). Use a clip with sound in it.")
    return y.astype(np.float32, copy=False)


def check_channels(y, *, name: str = "audio", max_channels: int | None = None,
                   allow_silent: bool = True) -> np.ndarray:
    """Validate mono or channels-first audio and return it as ``(channels, n_samples)``.

    The one check behind every function that takes several channels (writing files,
    loudness, notebook players): wrong shape, no samples, more channels than samples
    (an array passed as ``(n_samples, channels)``), too many channels, a non-numeric
    dtype or NaN/inf samples. The dtype is kept; callers cast as they need.

    Parameters
    ----------
    y : array-like [shape=(n_samples,) or (channels, n_samples)]
    name : str
        What to call the audio in error messages.
    max_channels : int, optional
        Refuse more channels than this.
    allow_silent : bool
        Accept an all-zero clip.

    Returns
    -------
    y : np.ndarray [shape=(channels, n_samples)]

    Raises
    ------
    AudioInputError
    """
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise AudioInputError(f"{name} has shape {y.shape}; expected (n_samples,) or (channels, n_samples).")
    y2 = np.atleast_2d(y)
    if y2.shape[1] == 0:
        raise AudioInputError(f"{name} has no samples (zero length). Use a clip with sound in it.")
    if y2.shape[0] > y2.shape[1]:
        raise AudioInputError(
            f"{name} has shape {y.shape}: more channels than samples. Arrays are channels "
            "first, (channels, n_samples); pass y.T if yours is (n_samples, channels).")
    if max_channels is not None and y2.shape[0] > max_channels:
        raise AudioInputError(f"{name} has {y2.shape[0]} channels; at most {max_channels} are taken here. "
                              "Mix down first.")
    check_audio(y2.reshape(-1), name=name, allow_silent=allow_silent)  # dtype, NaN/inf, silence
    return y2


def save_audio(path: str | os.PathLike, y: np.ndarray, *, sample_rate: int) -> Path:
    """Write a mono waveform to ``path`` atomically (format from the suffix).

    Parameters
    ----------
    path : str or path-like
    y : np.ndarray [shape=(n_samples,)]
    sample_rate : int

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    OutputError
        The system refused the file (read-only or full disk, no write permission, ``path`` a
        folder); nothing is left behind.
    """
    path = Path(path)
    with atomic_path(path) as tmp:
        _write_soundfile(tmp, np.asarray(y, dtype=np.float32), sample_rate,
                         subtype="FLOAT" if path.suffix.lower() == ".wav" else None)
    return path


def _write_soundfile(tmp: Path, data: np.ndarray, sample_rate: int, **options) -> None:
    """``sf.write``, with libsndfile's bare "System error." turned back into the OSError behind it.

    libsndfile drops the errno (:func:`~auditory_deepdream.atomic.lost_errno` recovers it);
    :func:`atomic_path` turns the OSError into an :class:`~auditory_deepdream.errors.OutputError`.
    """
    try:
        sf.write(tmp, data, sample_rate, **options)
    except sf.LibsndfileError as exc:
        if exc.code != _SF_ERR_SYSTEM:
            raise
        raise lost_errno(tmp.parent, needed=data.nbytes, detail=f"libsndfile: {exc.error_string}") from None


# ------------------------------------------------------------------------------ multi-channel
@dataclass(frozen=True)
class AudioFormat:
    """How an audio file was stored, so a result can be written back the same way.

    Attributes
    ----------
    sample_rate : int
        Hz.
    channels : int
    subtype : str or None
        soundfile's sample encoding (``"PCM_16"``, ``"PCM_24"``, ``"FLOAT"``, ...);
        None for files read through librosa/audioread.
    format : str or None
        soundfile's container (``"WAV"``, ``"FLAC"``, ``"OGG"``, ``"MP3"``, ...); None
        for files read through librosa/audioread.
    """

    sample_rate: int
    channels: int
    subtype: str | None
    format: str | None


# suffix -> soundfile formats it may hold (the first is the one written by default)
WRITE_FORMATS = {
    ".wav": ("WAV", "WAVEX", "RF64"),
    ".flac": ("FLAC",),
    ".ogg": ("OGG",),
    ".aiff": ("AIFF",),
    ".aif": ("AIFF",),
    ".mp3": ("MP3",),
}
_FLOAT_SUBTYPES = ("FLOAT", "DOUBLE")


def read_audio(path: str | os.PathLike) -> tuple[np.ndarray, AudioFormat]:
    """Read every channel of an audio file at its own sample rate.

    Parameters
    ----------
    path : str or path-like
        Any file soundfile or librosa can read (wav, flac, ogg, mp3, ...).

    Returns
    -------
    y : np.ndarray [shape=(channels, n_samples), dtype=float32]
        Always 2-D; a mono file gives shape ``(1, n_samples)``.
    audio_format : AudioFormat
        Rate, channel count, subtype and container, for :func:`write_audio`'s ``like``.

    Raises
    ------
    AudioInputError
        Missing or empty file, a folder, a file that is not audio, no samples,
        non-finite samples, or a clip whose channels are all silent (one silent
        channel beside one with sound is fine).
    """
    path = _existing_file(path)
    try:
        with sf.SoundFile(path) as f:
            y = f.read(dtype="float32", always_2d=True).T
            audio_format = AudioFormat(f.samplerate, f.channels, f.subtype, f.format)
    except Exception as exc:  # noqa: BLE001  formats libsndfile cannot read go through audioread
        y, native_sr = _decode_fallback(path, exc, mono=False)
        y = np.atleast_2d(y)
        audio_format = AudioFormat(int(native_sr), y.shape[0], None, None)
    check_audio(y.reshape(-1), name=str(path))  # empty, NaN, every channel silent
    return np.ascontiguousarray(y, dtype=np.float32), audio_format


def write_audio(path: str | os.PathLike, y: np.ndarray, *, sample_rate: int,
                like: AudioFormat | None = None) -> Path:
    """Write mono or multi-channel audio to ``path`` atomically.

    The container follows the path's suffix. When that container is ``like``'s, the
    file keeps ``like.subtype`` (a PCM_16 WAV in gives a PCM_16 WAV out, a PCM_24 FLAC a
    PCM_24 FLAC); otherwise it gets soundfile's default subtype for the container,
    except that a ``.wav`` written without ``like`` is 32-bit float, as
    :func:`save_audio` writes. Samples are clipped to [-1, 1] for every subtype but
    FLOAT and DOUBLE (fixed-point and lossy encodings cannot hold more).

    Parameters
    ----------
    path : str or path-like
        Ending in ``.wav``, ``.flac``, ``.ogg``, ``.aiff``/``.aif`` or ``.mp3`` (mp3
        only where libsndfile can encode it).
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sample_rate : int
        Hz.
    like : AudioFormat, optional
        The format of the file the audio came from (:func:`read_audio`). Its
        ``channels`` and ``sample_rate`` are not used: ``y`` and ``sample_rate`` decide.

    Returns
    -------
    path : pathlib.Path

    Raises
    ------
    AudioInputError
        An unsupported suffix, mp3 without an encoder, a wrong shape, no samples or
        non-finite samples.
    OutputError
        The system refused the file: a read-only or full disk, a folder without write
        permission, or ``path`` an existing folder. The message names the path, the cause
        and what to do; no file or temporary file is left behind.
    """
    path = Path(path)
    fmt, subtype = sound_format(path, like=like)
    y2 = check_channels(y, name=f"Audio for {path}")
    data = np.asarray(y2.T, dtype=np.float32)
    if subtype not in _FLOAT_SUBTYPES:
        data = np.clip(data, -1.0, 1.0)
    with atomic_path(path) as tmp:
        _write_soundfile(tmp, data, sample_rate, subtype=subtype, format=fmt)
    return path


def sound_format(path, *, like: AudioFormat | None = None) -> tuple[str, str]:
    """``(container, subtype)`` that :func:`write_audio` writes ``path`` in (see there).

    Raises
    ------
    AudioInputError
        An unsupported suffix, or mp3 without an encoder.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_FORMATS:
        raise AudioInputError(
            f"Cannot write {path}: unknown audio suffix {path.suffix!r}. "
            f"Use one of {', '.join(WRITE_FORMATS)}.")
    formats = WRITE_FORMATS[suffix]
    if formats[0] not in sf.available_formats():
        raise AudioInputError(
            f"Cannot write {path}: this libsndfile ({sf.__libsndfile_version__}) has no "
            f"{formats[0]} encoder. Write a .wav or .flac instead, or install libsndfile 1.1 or newer.")
    fmt, subtype = formats[0], ("FLOAT" if suffix == ".wav" else None)
    if like is not None:
        subtype = None
        if like.format in formats and like.subtype and sf.check_format(like.format, like.subtype):
            fmt, subtype = like.format, like.subtype
    return fmt, subtype or sf.default_subtype(fmt)
