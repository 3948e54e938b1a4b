"""One exception family for the user's mistakes.

Every error that a user can cause (a bad file, a wrong layer name, settings that do not
match) is an :class:`AuditoryDeepDreamError`. Catch that one class to handle them all;
the message always says what was wrong and what to do about it.

:class:`OutputError` is the one raised for the machine's own refusals to store a result (a
read-only or full disk, a folder without write permission, an output path that is a
folder): every file the package writes goes through :mod:`auditory_deepdream.atomic`,
which turns those into it and leaves nothing half-written behind.
"""

__all__ = [
    "AuditoryDeepDreamError",
    "AudioInputError",
    "SettingsMismatchError",
    "DatasetError",
    "ModelError",
    "DreamError",
    "ClusterError",
    "GalleryError",
    "OutputError",
    "MissingExtraError",
]


class AuditoryDeepDreamError(Exception):
    """Base class of every error the user can cause and fix."""


class AudioInputError(AuditoryDeepDreamError, ValueError):
    """An audio file or array cannot be used: missing, not audio, empty, silent,
    non-finite, too short or wrongly shaped."""


class SettingsMismatchError(AuditoryDeepDreamError, ValueError):
    """Two artefacts (dataset, model, clip) were made with different audio settings."""


class DatasetError(AuditoryDeepDreamError):
    """A dataset source tree, ontology table or encoded store cannot be used."""


class ModelError(AuditoryDeepDreamError):
    """A model, layer or filter that does not exist or does not fit the request."""


class DreamError(AuditoryDeepDreamError):
    """Gradient ascent could not proceed (for example non-finite gradients)."""


class ClusterError(AuditoryDeepDreamError):
    """A Dask scheduler cannot be reached or has no workers, or its workers kept dying
    (a job that was cut short this way resumes when run again)."""


class GalleryError(AuditoryDeepDreamError):
    """The notebook gallery cannot be built: a notebook is not executed, embeds WAV audio, shows a
    local image that does not exist or cannot be read, the notebook folder is missing or empty, or
    nbconvert is not installed."""


class OutputError(AuditoryDeepDreamError, OSError):
    """A result file cannot be written: its folder is read-only or not writable, the disk is
    full, or the path is an existing folder. Nothing is left behind: neither part of the file
    nor a temporary one. It is an OSError too, for callers that catch those."""


class MissingExtraError(AuditoryDeepDreamError, ImportError):
    """A feature needs a package that a plain ``pip install auditory-deepdream`` leaves out; the
    message names the extra that installs it (``pip install "auditory-deepdream[cluster]"``)."""
