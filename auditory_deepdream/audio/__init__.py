"""The audio front end: load, trim, segment, log-mel encode and decode back to sound.

Every part of the library (dataset builds, training, dreaming) goes through these
functions, so a spectrogram means the same thing everywhere. A dream is
*encode → ascend → sonify*; this package holds the first step and the Griffin-Lim of
the last. All functions take the :class:`~auditory_deepdream.settings.AudioSettings` as
a keyword-only ``settings`` argument.

``io``           load, check and save audio files (mono, or every channel with its
                 format); the bundled example clips
``loudness``     BS.1770 integrated loudness, true peak, a look-ahead limiter, loudness matching
``frames``       trim silence, cut segments with a hop
``spectral``     NumPy/librosa window, mel bank, STFT and inverse, dB, log-mel :func:`encode`
``resampling``   SoX high-quality sample-rate conversion (librosa's ``soxr_hq``, without librosa)
``inverse``      mel to STFT magnitude, the batched Griffin-Lim, :func:`decode`
``tf_spectral``  the TensorFlow twin of ``spectral`` (imported on its own: it loads TensorFlow)
"""

from .frames import n_segments, segment, trim
from .inverse import decode, griffin_lim, mel_to_magnitude
from .io import (
    AUDIO_SUFFIXES,
    EXAMPLE_CLIPS,
    WRITE_FORMATS,
    AudioFormat,
    check_audio,
    check_channels,
    example_clip,
    load_audio,
    read_audio,
    save_audio,
    write_audio,
)
from .loudness import integrated_loudness, limit_true_peak, match_loudness, parse_loudness, true_peak_db
from .resampling import resample
from .spectral import (db_to_power, encode, hann_istft, hann_stft, hann_window, istft, mel_basis, mel_centres,
                       power_to_db, stft)

__all__ = [
    "load_audio",
    "check_audio",
    "check_channels",
    "trim",
    "segment",
    "n_segments",
    "mel_basis",
    "mel_centres",
    "hann_window",
    "stft",
    "istft",
    "hann_stft",
    "hann_istft",
    "resample",
    "encode",
    "power_to_db",
    "db_to_power",
    "mel_to_magnitude",
    "griffin_lim",
    "decode",
    "save_audio",
    "AUDIO_SUFFIXES",
    "example_clip",
    "EXAMPLE_CLIPS",
    "AudioFormat",
    "read_audio",
    "write_audio",
    "WRITE_FORMATS",
    "integrated_loudness",
    "true_peak_db",
    "limit_true_peak",
    "match_loudness",
    "parse_loudness",
]
