"""What an atlas is built with: one frozen :class:`AtlasConfig`, saved as ``atlas.json`` beside it.

Imports no TensorFlow, so the CLI can check and save a build's settings before a model loads.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..errors import AuditoryDeepDreamError
from ..options import DreamOptions

__all__ = ["AtlasConfig", "AtlasError", "CONFIG_FILE"]

CONFIG_FILE = "atlas.json"


class AtlasError(AuditoryDeepDreamError):
    """An atlas cannot be built as asked (its message says what to change)."""


@dataclass(frozen=True)
class AtlasConfig:
    """How every filter of an atlas is dreamed, heard, pictured and exemplified.

    Attributes
    ----------
    steps, step_size : int, float
        The ascent of each filter's dream (a free mel ascent, as the auditioner's; the same for
        every filter, so the change pictures compare across a layer).
    seed : int
        Seed of the dreams (the build is deterministic for a seed).
    chunk : int
        Filters dreamed in one batched run (a unit of the build, resumed whole); bounds memory.
    top_k : int
        Natural examples kept per filter: the store segments of highest mean activation.
    example_seconds : float
        Length of each natural example clip.
    max_segments : int or None
        Store segments searched for examples (the first ones of an evenly spaced selection);
        None for all of them.
    clip_seconds : float
        Atlas clips are cut to this length before dreaming.
    kbps : int
        MP3 bit rate of every clip (mono).
    top_outputs : int
        Classes or tags listed per filter: those whose logits its dream raises most.
    """

    steps: int = 10
    step_size: float = 1.0
    seed: int = 0
    chunk: int = 32
    top_k: int = 4
    example_seconds: float = 1.0
    max_segments: int | None = 4000
    clip_seconds: float = 3.0
    kbps: int = 32
    top_outputs: int = 3

    def __post_init__(self):
        for name in ("steps", "chunk", "top_k", "kbps", "top_outputs"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < (0 if name == "steps" else 1):
                raise AtlasError(f"AtlasConfig.{name} must be a whole number >= {0 if name == 'steps' else 1}, "
                                 f"not {value!r}.")
        for name in ("step_size", "example_seconds", "clip_seconds"):
            value = getattr(self, name)
            if not isinstance(value, (int, float)) or not value > 0:
                raise AtlasError(f"AtlasConfig.{name} must be a positive number of "
                                 f"{'dB' if name == 'step_size' else 'seconds'}, not {value!r}.")
        if self.max_segments is not None and (not isinstance(self.max_segments, int) or self.max_segments < 1):
            raise AtlasError(f"AtlasConfig.max_segments must be a positive whole number or None, "
                             f"not {self.max_segments!r}.")

    def dream_options(self) -> DreamOptions:
        """The :class:`DreamOptions` every filter is dreamed with."""
        return DreamOptions(steps=self.steps, step_size=float(self.step_size), seed=self.seed)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> AtlasConfig:
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise AtlasError(f"Unknown atlas settings {unknown}; known: {sorted(known)}.")
        return cls(**data)

    @classmethod
    def load(cls, path) -> AtlasConfig:
        return cls.from_dict(json.loads(Path(path).read_text())["config"])
