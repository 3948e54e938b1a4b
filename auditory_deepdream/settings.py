"""Audio settings: one frozen dataclass shared by the dataset, the models and the dreamer.

The settings are saved next to every artefact they produced (``settings.json`` beside an
encoded store or a model) and checked whenever two artefacts meet, so a model never
silently receives spectrograms it was not trained on.
"""

from __future__ import annotations

import dataclasses
import json
import os
from dataclasses import dataclass
from pathlib import Path

from .atomic import write_json_atomic
from .errors import SettingsMismatchError

__all__ = ["AudioSettings", "PRESETS", "write_json_atomic"]


@dataclass(frozen=True)
class AudioSettings:
    """How audio becomes a log-mel spectrogram and back.

    Parameters
    ----------
    sample_rate : int
        Sample rate in Hz that every clip is resampled to.
    segment_seconds : float
        Length of one model input segment in seconds.
    n_fft : int
        FFT size of the short-time Fourier transform.
    hop_length : int
        Samples between successive STFT frames.
    win_length : int
        Hann window length (``<= n_fft``; zero-padded to ``n_fft`` and centred).
    n_mels : int
        Number of mel bands.
    fmin, fmax : float
        Lowest and highest mel band edge in Hz (``fmax=None`` means Nyquist).
    trim_db : float
        Leading/trailing audio quieter than this many dB below the peak is trimmed.
    db_floor : float
        Lowest log-mel value in dB; power below ``10 ** (db_floor / 10)`` is clipped.
    db_ref : float
        Power that maps to 0 dB.
    """

    sample_rate: int = 22_050
    segment_seconds: float = 1.0
    n_fft: int = 2048
    hop_length: int = 512
    win_length: int = 2048
    n_mels: int = 128
    fmin: float = 30.0
    fmax: float | None = None
    trim_db: float = 45.0
    db_floor: float = -100.0
    db_ref: float = 1.0

    def __post_init__(self):
        problems = []
        if self.sample_rate <= 0:
            problems.append("sample_rate must be positive")
        if self.win_length > self.n_fft:
            problems.append("win_length must not exceed n_fft")
        if self.hop_length <= 0 or self.hop_length > self.win_length:
            problems.append("hop_length must be in 1..win_length")
        if self.segment_samples < self.n_fft:
            problems.append("segment_seconds must hold at least n_fft samples")
        if self.fmax is not None and not (self.fmin < self.fmax <= self.sample_rate / 2):
            problems.append("need fmin < fmax <= sample_rate / 2")
        if self.db_floor >= 0:
            problems.append("db_floor must be negative")
        if problems:
            raise SettingsMismatchError("Invalid AudioSettings: " + "; ".join(problems) + ".")

    # ----------------------------------------------------------------- derived sizes
    @property
    def segment_samples(self) -> int:
        """Samples in one segment."""
        return int(round(self.segment_seconds * self.sample_rate))

    @property
    def n_frames(self) -> int:
        """STFT frames in one segment (centred frames, as librosa computes them)."""
        return 1 + self.segment_samples // self.hop_length

    @property
    def input_shape(self) -> tuple[int, int, int]:
        """Model input shape for one segment: ``(n_mels, n_frames, 1)``."""
        return (self.n_mels, self.n_frames, 1)

    @property
    def mel_fmax(self) -> float:
        """Upper mel edge in Hz, with ``None`` resolved to Nyquist."""
        return float(self.fmax) if self.fmax is not None else self.sample_rate / 2

    @property
    def amin(self) -> float:
        """Smallest power kept before the log (``db_floor`` relative to ``db_ref``)."""
        return self.db_ref * 10.0 ** (self.db_floor / 10.0)

    # ------------------------------------------------------------------ presets / io
    @classmethod
    def preset(cls, name: str) -> "AudioSettings":
        """Return a named preset: ``default``, ``dissertation``, ``full_rate_44k``, ``full_rate_48k``, ``musicnn``."""
        try:
            return PRESETS[name]
        except KeyError:
            raise SettingsMismatchError(
                f"Unknown audio settings preset {name!r}; choose one of {sorted(PRESETS)}."
            ) from None

    def replace(self, **changes) -> "AudioSettings":
        """A copy with some fields changed."""
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> "AudioSettings":
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise SettingsMismatchError(
                f"Settings file has unknown fields {sorted(unknown)}; it was written by a "
                "newer version of auditory-deepdream. Upgrade the package."
            )
        return cls(**data)

    def save(self, path: str | os.PathLike) -> Path:
        """Write the settings as JSON (atomically) and return the path."""
        return write_json_atomic(path, self.to_dict())

    @classmethod
    def load(cls, path: str | os.PathLike) -> "AudioSettings":
        path = Path(path)
        if not path.is_file():
            raise SettingsMismatchError(
                f"No audio settings at {path}. Every dataset store and model directory needs "
                "its settings.json; rebuild the artefact with auditory-deepdream."
            )
        return cls.from_dict(json.loads(path.read_text()))

    def check_compatible(self, other: "AudioSettings", *, mine: str = "model",
                         theirs: str = "audio") -> None:
        """Raise :class:`SettingsMismatchError` unless ``other`` equals these settings.

        Parameters
        ----------
        other : AudioSettings
            Settings of the artefact being combined with this one.
        mine, theirs : str
            Names of the two artefacts, used in the message.
        """
        if other == self:
            return
        diffs = [
            f"{f.name}: {mine}={getattr(self, f.name)!r}, {theirs}={getattr(other, f.name)!r}"
            for f in dataclasses.fields(self)
            if getattr(self, f.name) != getattr(other, f.name)
        ]
        raise SettingsMismatchError(
            f"The {mine} and the {theirs} use different audio settings ({'; '.join(diffs)}). "
            f"Re-encode the {theirs} with the {mine}'s settings (AudioSettings.load on its "
            "settings.json) or use a model trained with these settings."
        )


PRESETS: dict[str, AudioSettings] = {
    "default": AudioSettings(),
    "dissertation": AudioSettings(
        sample_rate=22_050, segment_seconds=1.0, n_fft=2048, hop_length=512,
        win_length=2000, n_mels=300, fmin=0.0, fmax=None, trim_db=45.0,
    ),
    "full_rate_44k": AudioSettings(
        sample_rate=44_100, n_fft=4096, hop_length=1024, win_length=4096, n_mels=128,
    ),
    "full_rate_48k": AudioSettings(
        sample_rate=48_000, n_fft=4096, hop_length=1024, win_length=4096, n_mels=128,
    ),
    # musicnn's front end (librosa.feature.melspectrogram's defaults at 16 kHz: Slaney mels
    # from 0 Hz to Nyquist, power 2); 2.976 s segments are its 187-frame, 3-s patches
    "musicnn": AudioSettings(
        sample_rate=16_000, segment_seconds=2.976, n_fft=512, hop_length=256, win_length=512, n_mels=96,
        fmin=0.0, fmax=None,
    ),
}
