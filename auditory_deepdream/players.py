"""Audio players for notebooks: compressed sound plus a spectrogram a reader can see.

IPython's ``Audio(y, rate=sr)`` embeds an uncompressed WAV (about 3.5 MB a minute at
22,050 Hz), and a notebook page on GitHub shows it as a player that does not play. The
players here embed MP3 (plays in every browser; about 8 KB a second) *and* a small
log-mel spectrogram PNG, so a reader who cannot play the sound still sees what changed.
Clips are cut to ``max_seconds`` (15 s unless the caller says otherwise) to keep saved
notebooks small.

Example (in a notebook)::

    from auditory_deepdream.players import player, players
    display(player(result.audio, sample_rate=sr, title="dream"))
    display(players({"input": y, "dream": result.audio}, sample_rate=sr))

:func:`compressed_audio` gives the encoded bytes alone (the auditioner's
``ipywidgets.Audio`` players take them).
"""

from __future__ import annotations

import base64
import html
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np
import soundfile as sf

from .audio.io import check_channels
from .audio.resampling import resample
from .errors import AudioInputError, AuditoryDeepDreamError

__all__ = [
    "DEFAULT_MAX_SECONDS",
    "MP3_SAMPLE_RATES",
    "Player",
    "PlayerRow",
    "audio_mime",
    "compressed_audio",
    "player",
    "players",
]

#: Clip length, in seconds, that players and :func:`compressed_audio` keep by default.
DEFAULT_MAX_SECONDS = 15.0

#: Sample rates an MP3 stream can have (MPEG-1, -2 and -2.5 layer III).
MP3_SAMPLE_RATES = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)

# format -> (libsndfile format, subtype, MIME type)
_FORMATS = {"mp3": ("MP3", "MPEG_LAYER_III", "audio/mpeg"), "ogg": ("OGG", "VORBIS", "audio/ogg")}
_MP3_KBPS = {1: 64, 2: 96}  # constant bit rate: ~120 KB (mono) / ~180 KB (stereo) for 15 s
_OGG_COMPRESSION = 0.5  # Vorbis quality ~0.5: ~55 kbit/s for mono 22,050 Hz music

_WIDTH, _HEIGHT, _DPI = 360, 140, 72  # spectrogram pixels


# ============================================================================ encoding
def audio_mime(format: str = "mp3") -> str:
    """MIME type of :func:`compressed_audio`'s bytes (``"audio/mpeg"`` or ``"audio/ogg"``)."""
    return _FORMATS[_check_format(format)][2]


def compressed_audio(y, *, sample_rate: int, format: str = "mp3",
                     max_seconds: float | None = DEFAULT_MAX_SECONDS, kbps: int | None = None) -> bytes:
    """Encode a waveform as MP3 (or Ogg Vorbis) file bytes, small enough to embed.

    MP3 is written at a constant 64 kbit/s for mono and 96 kbit/s for stereo (15 s of
    mono take about 120 KB). MP3 allows only the rates in :data:`MP3_SAMPLE_RATES`;
    other rates are resampled (librosa) to the lowest allowed rate at or above
    ``sample_rate`` (48 kHz for higher rates), so no band is lost below 24 kHz.

    Loudness is kept as it is: the audio is scaled down to a peak of 1 only when it
    would otherwise clip (a peak above 1), never scaled up.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Float audio in [-1, 1], mono or channels-first with one or two channels.
        Integer PCM is scaled by its dtype's full scale.
    sample_rate : int
        Sample rate of ``y`` in Hz.
    format : {"mp3", "ogg"}
        ``"mp3"`` (MIME ``audio/mpeg``) plays in every browser; ``"ogg"`` (Vorbis,
        ``audio/ogg``) does not play in older Safari.
    max_seconds : float or None
        Keep only the first ``max_seconds`` seconds; ``None`` keeps the whole clip.
    kbps : int, optional
        MP3 bit rate in kbit/s (default 64 mono, 96 stereo); LAME rounds it to a legal rate
        (8 to 160 at 16 to 24 kHz). Ignored for Ogg.

    Returns
    -------
    data : bytes
        A complete MP3 or Ogg file.

    Raises
    ------
    AudioInputError
        Empty, non-finite or wrongly shaped audio, more than two channels, a
        non-positive ``sample_rate`` or ``max_seconds``, or an unknown ``format``.
    AuditoryDeepDreamError
        The installed libsndfile cannot write the format.
    """
    fmt = _check_format(format)
    sample_rate = _check_rate(sample_rate)
    if kbps is not None and (not isinstance(kbps, int) or isinstance(kbps, bool) or not 8 <= kbps <= 320):
        raise AudioInputError(f"kbps must be a whole number of kbit/s between 8 and 320, not {kbps!r}.")
    return _encode(_clip(_as_channels_first(y), sample_rate=sample_rate, max_seconds=max_seconds),
                   sample_rate=sample_rate, fmt=fmt, kbps=kbps)


def _encode(y: np.ndarray, *, sample_rate: int, fmt: str, kbps: int | None = None) -> bytes:
    """:func:`compressed_audio` of audio already validated (``_as_channels_first``) and cut."""
    peak = float(np.max(np.abs(y)))
    if peak > 1.0:
        y = y / peak
    sf_format, subtype, _ = _FORMATS[fmt]
    if sf_format not in sf.available_formats():
        raise AuditoryDeepDreamError(
            f"This libsndfile ({sf.__libsndfile_version__}) cannot write {sf_format}. Install a newer "
            "soundfile (pip install -U 'soundfile>=0.13', which bundles libsndfile 1.2) or pass "
            "format='ogg'.")
    rate = sample_rate
    if fmt == "mp3":
        rate = _mp3_rate(sample_rate)
        if rate != sample_rate:
            y = resample(y, orig_sr=sample_rate, target_sr=rate)
            y = np.clip(y, -1.0, 1.0)  # resampling may overshoot by a hair
        compression = _mp3_compression(rate, kbps or _MP3_KBPS[y.shape[0]])
    else:
        compression = _OGG_COMPRESSION
    buf = io.BytesIO()
    frames = np.ascontiguousarray(y.T, dtype=np.float32)  # soundfile wants (n_samples, channels)
    try:
        sf.write(buf, frames, rate, format=sf_format, subtype=subtype, compression_level=compression,
                 bitrate_mode="CONSTANT" if fmt == "mp3" else None)
    except TypeError:  # soundfile < 0.13 has no compression settings: its default quality
        buf = io.BytesIO()
        sf.write(buf, frames, rate, format=sf_format, subtype=subtype)
    return buf.getvalue()


def _check_format(format) -> str:
    fmt = str(format).lower().lstrip(".")
    fmt = {"mpeg": "mp3", "vorbis": "ogg"}.get(fmt, fmt)
    if fmt not in _FORMATS:
        raise AudioInputError(f"Unknown audio format {format!r}; use 'mp3' (plays everywhere) or 'ogg'.")
    return fmt


def _check_rate(sample_rate) -> int:
    try:
        rate = float(sample_rate)
    except (TypeError, ValueError):
        rate = float("nan")
    if not np.isfinite(rate) or rate <= 0 or rate != int(rate):
        raise AudioInputError(f"sample_rate must be a positive whole number of Hz, not {sample_rate!r}; "
                              "pass the rate the audio was loaded at (e.g. settings.sample_rate).")
    return int(rate)


def _as_channels_first(y) -> np.ndarray:
    """Validated float32 audio of shape (channels, n_samples), channels 1 or 2."""
    y = np.asarray(y)
    if y.dtype.kind in "iu":
        y = y / float(np.iinfo(y.dtype).max + 1)
    elif y.dtype.kind != "f":
        raise AudioInputError(f"Audio has dtype {y.dtype}; expected float samples in [-1, 1].")
    return check_channels(y, name="Audio", max_channels=2).astype(np.float32, copy=False)


def _clip(y: np.ndarray, *, sample_rate: int, max_seconds) -> np.ndarray:
    if max_seconds is None:
        return y
    try:
        seconds = float(max_seconds)
    except (TypeError, ValueError):
        seconds = float("nan")
    if not np.isfinite(seconds) or seconds <= 0:
        raise AudioInputError(f"max_seconds must be positive (or None for the whole clip), not {max_seconds!r}.")
    return y[:, : max(1, round(seconds * sample_rate))]


def _mp3_rate(sample_rate: int) -> int:
    """The lowest MP3 rate at or above ``sample_rate`` (48 kHz above that)."""
    return next((r for r in MP3_SAMPLE_RATES if r >= sample_rate), MP3_SAMPLE_RATES[-1])


def _mp3_compression(rate: int, kbps: int) -> float:
    """libsndfile's compression level for a constant ``kbps``.

    libsndfile maps level 0..1 linearly onto 320..32 kbit/s (MPEG-1, >= 32 kHz),
    160..8 (MPEG-2, 16-24 kHz) or 64..8 (MPEG-2.5, < 16 kHz); LAME rounds to a legal rate.
    """
    top, bottom = (320, 32) if rate >= 32000 else (160, 8) if rate >= 16000 else (64, 8)
    return float(np.clip((top - kbps - 0.5) / (top - bottom), 0.0, 0.95))


# ============================================================================ spectrogram
def _spectrogram_png(y: np.ndarray, *, sample_rate: int) -> bytes:
    """A small log-mel spectrogram (magma, time in s, mel-spaced kHz axis) as PNG bytes.

    ``y`` is validated audio of shape (channels, n_samples); channels are averaged.
    """
    import librosa
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from PIL import Image

    mono = y.mean(axis=0)
    seconds = mono.size / sample_rate
    n_fft = int(2 ** np.round(np.log2(sample_rate * 0.046)))  # 1024 at 22,050 Hz
    if mono.size < n_fft:  # a clip shorter than one window (< 50 ms): pad it
        mono = np.pad(mono, (0, n_fft - mono.size))
    hop = max(n_fft // 4, int(np.ceil(mono.size / 300)))  # at most ~300 frames: the image is 360 px wide
    n_mels, fmax = 64, sample_rate / 2
    power = librosa.feature.melspectrogram(y=mono, sr=sample_rate, n_fft=n_fft, hop_length=hop,
                                           n_mels=n_mels, fmin=0.0, fmax=fmax)
    db = 10.0 * np.log10(np.maximum(power, 1e-10))
    top = float(db.max())
    mel_top = float(librosa.hz_to_mel(fmax))
    fig = Figure(figsize=(_WIDTH / _DPI, _HEIGHT / _DPI), dpi=_DPI, layout="constrained")
    ax = fig.add_subplot()
    ax.imshow(db, origin="lower", aspect="auto", cmap="magma", vmin=top - 80.0, vmax=top,
              extent=(0.0, seconds, 0.0, mel_top), interpolation="nearest")
    ticks = [k for k in (0.1, 0.5, 1, 2, 4, 8, 16) if 1000 * k < fmax * 0.9]
    ax.set_yticks([float(librosa.hz_to_mel(1000 * k)) for k in ticks], [f"{k:g}" for k in ticks])
    ax.set_xlabel("time (s)", fontsize=7, labelpad=1)
    ax.set_ylabel("kHz", fontsize=7, labelpad=1)
    ax.tick_params(labelsize=7, length=2, pad=1)
    canvas = FigureCanvasAgg(fig)
    canvas.draw()
    # 64 colours: a third of the bytes of matplotlib's RGBA PNG, and no visible difference
    image = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3]).quantize(64)
    buf = io.BytesIO()
    image.save(buf, format="PNG", optimize=True)
    return buf.getvalue()


# ============================================================================ players
@dataclass(frozen=True, repr=False, eq=False)
class Player:
    """One embedded player: compressed audio, an optional spectrogram and a caption.

    Made by :func:`player`; displaying it in a notebook shows the HTML of
    :meth:`_repr_html_`; its plain-text form is one short line, never the data.

    Attributes
    ----------
    title : str or None
    audio : bytes
        The encoded file (see :func:`compressed_audio`).
    mime : str
        ``"audio/mpeg"`` or ``"audio/ogg"``.
    sample_rate : int
        Rate of the audio that was passed in, in Hz.
    seconds : float
        Duration embedded (after cutting to ``max_seconds``).
    total_seconds : float
        Duration of the audio that was passed in.
    channels : int
    image : bytes or None
        PNG of the log-mel spectrogram of the embedded part.
    """

    title: str | None
    audio: bytes
    mime: str
    sample_rate: int
    seconds: float
    total_seconds: float
    channels: int = 1
    image: bytes | None = None

    def __repr__(self) -> str:
        head = f"{self.title!r}, " if self.title is not None else ""
        return f"Player({head}{self.seconds:.1f} s, {self.sample_rate} Hz)"

    @property
    def caption(self) -> str:
        """Title and duration, e.g. ``"dream · 3.0 s"`` or ``"… · first 15.0 s of 42.0 s"``."""
        length = (f"first {self.seconds:.1f} s of {self.total_seconds:.1f} s"
                  if self.total_seconds - self.seconds > 0.5 / self.sample_rate else f"{self.seconds:.1f} s")
        extra = ", stereo" if self.channels == 2 else ""
        return f"{self.title} · {length}{extra}" if self.title else f"{length}{extra}"

    def _repr_html_(self) -> str:
        caption = html.escape(self.caption)
        parts = [f'<figure style="margin:4px;width:{_WIDTH}px">',
                 f'<figcaption style="font-size:0.85em;font-weight:bold">{caption}</figcaption>']
        if self.image is not None:
            alt = html.escape(f"log-mel spectrogram of {self.title or 'the audio'}")
            parts.append(f'<img src="data:image/png;base64,{base64.b64encode(self.image).decode()}" '
                         f'alt="{alt}" width="{_WIDTH}" height="{_HEIGHT}" style="display:block">')
        parts.append(f'<audio controls preload="none" style="width:{_WIDTH}px" '
                     f'src="data:{self.mime};base64,{base64.b64encode(self.audio).decode()}"></audio>')
        parts.append("</figure>")
        return "".join(parts)


@dataclass(frozen=True, repr=False, eq=False)
class PlayerRow:
    """Several :class:`Player` s side by side, wrapping onto new rows.

    Made by :func:`players`; iterate or index it for the single players.

    Attributes
    ----------
    items : tuple of Player
    columns : int
        At most this many players per row.
    """

    items: tuple
    columns: int = 3

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self):
        return iter(self.items)

    def __getitem__(self, i) -> Player:
        return self.items[i]

    def __repr__(self) -> str:
        titles = ", ".join(repr(p.title) for p in self.items)
        return f"PlayerRow({len(self.items)} players: {titles})"

    def _repr_html_(self) -> str:
        width = self.columns * (_WIDTH + 8 + 16)  # player + figure margins + gap
        cells = "".join(p._repr_html_() for p in self.items)
        return (f'<div style="display:flex;flex-wrap:wrap;gap:16px;align-items:flex-start;'
                f'max-width:{width}px">{cells}</div>')


def player(y, *, sample_rate: int, title: str | None = None, max_seconds: float | None = DEFAULT_MAX_SECONDS,
           spectrogram: bool = True, format: str = "mp3") -> Player:
    """A notebook player: compressed audio with a small spectrogram above it.

    Use it in place of ``IPython.display.Audio(y, rate=sr)``::

        display(player(y, sample_rate=sr, title="dream"))

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
        Mono or channels-first stereo float audio.
    sample_rate : int
    title : str, optional
        Shown above the player (and in the image's alt text).
    max_seconds : float or None
        Embed only the first ``max_seconds`` seconds (the caption says so); ``None``
        embeds the whole clip.
    spectrogram : bool
        Add the log-mel spectrogram PNG (about 360 × 140 px).
    format : {"mp3", "ogg"}

    Returns
    -------
    Player

    Raises
    ------
    AudioInputError
        As :func:`compressed_audio`.
    """
    fmt = _check_format(format)
    rate = _check_rate(sample_rate)
    full = _as_channels_first(y)
    clipped = _clip(full, sample_rate=rate, max_seconds=max_seconds)
    data = _encode(clipped, sample_rate=rate, fmt=fmt)
    image = _spectrogram_png(clipped, sample_rate=rate) if spectrogram else None
    return Player(title=None if title is None else str(title), audio=data, mime=audio_mime(fmt),
                  sample_rate=rate, seconds=clipped.shape[1] / rate, total_seconds=full.shape[1] / rate,
                  channels=clipped.shape[0], image=image)


def players(items, *, sample_rate: int, max_seconds: float | None = DEFAULT_MAX_SECONDS, columns: int = 3,
            spectrogram: bool = True, format: str = "mp3") -> PlayerRow:
    """Several titled players in a row that wraps (e.g. input and dream side by side).

    Parameters
    ----------
    items : dict of str to np.ndarray, or iterable of (str, np.ndarray)
        Title → audio of shape (n_samples,) or (channels, n_samples), in display order.
    sample_rate : int
        Rate of every clip.
    max_seconds : float or None
        As for :func:`player`.
    columns : int
        At most this many players per row.
    spectrogram : bool
    format : {"mp3", "ogg"}

    Returns
    -------
    PlayerRow

    Raises
    ------
    AudioInputError
        No items, an item that is not a (title, audio) pair, ``columns`` < 1, or bad audio.
    """
    pairs = list(items.items()) if isinstance(items, Mapping) else _pairs(items)
    if not pairs:
        raise AudioInputError("players() got no clips; pass {'title': audio, ...}.")
    if int(columns) != columns or columns < 1:
        raise AudioInputError(f"columns must be a whole number of at least 1, not {columns!r}.")
    return PlayerRow(items=tuple(player(y, sample_rate=sample_rate, title=str(title), max_seconds=max_seconds,
                                        spectrogram=spectrogram, format=format) for title, y in pairs),
                     columns=int(columns))


def _pairs(items) -> list:
    if not isinstance(items, Iterable) or isinstance(items, (str, bytes, np.ndarray)):
        raise AudioInputError("players() takes a dict {title: audio} or a list of (title, audio) pairs, "
                              f"not {type(items).__name__}.")
    pairs = list(items)
    for item in pairs:
        if not (isinstance(item, tuple) and len(item) == 2):
            raise AudioInputError("players() takes a dict {title: audio} or a list of (title, audio) pairs; "
                                  f"got an item of type {type(item).__name__}.")
    return pairs
