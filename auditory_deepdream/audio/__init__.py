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

from ..lazy import lazy_exports

_EXPORTS = {  # name -> the submodule that defines it
    "load_audio": "io",
    "check_audio": "io",
    "check_channels": "io",
    "trim": "frames",
    "segment": "frames",
    "n_segments": "frames",
    "mel_basis": "spectral",
    "mel_centres": "spectral",
    "hann_window": "spectral",
    "stft": "spectral",
    "istft": "spectral",
    "hann_stft": "spectral",
    "hann_istft": "spectral",
    "resample": "resampling",
    "encode": "spectral",
    "power_to_db": "spectral",
    "db_to_power": "spectral",
    "mel_to_magnitude": "inverse",
    "griffin_lim": "inverse",
    "decode": "inverse",
    "save_audio": "io",
    "AUDIO_SUFFIXES": "io",
    "example_clip": "io",
    "EXAMPLE_CLIPS": "io",
    "AudioFormat": "io",
    "read_audio": "io",
    "write_audio": "io",
    "WRITE_FORMATS": "io",
    "integrated_loudness": "loudness",
    "true_peak_db": "peaks",
    "limit_true_peak": "peaks",
    "match_loudness": "loudness",
    "parse_loudness": "loudness",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
