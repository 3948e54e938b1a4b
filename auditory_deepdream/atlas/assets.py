"""A built atlas read back: the precomputed pictures and sounds of each filter's dream on a clip,
a layer's grid, a filter's natural examples and the measure of meaning, from the atlas's files.

The Jupyter auditioner (:class:`auditory_deepdream.widgets.Auditioner`) shows these instead of
dreaming when its settings are the atlas's (filter objective, original phase, the same steps,
step size and seed) and its clip is one of the atlas's clips.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from .config import CONFIG_FILE, AtlasConfig, AtlasError

__all__ = ["AtlasAssets"]


class AtlasAssets:
    """The files of one clip of a built atlas.

    Parameters
    ----------
    path : path-like
        The atlas folder (with ``atlas.json`` and ``units/``).
    clip : str
        The clip's name in the atlas (a bundled clip's name, e.g. ``"cello_C3"``).

    Raises
    ------
    AtlasError
        No atlas there, or no such clip in it.
    """

    def __init__(self, path, *, clip: str):
        self.path = Path(path)
        if not (self.path / CONFIG_FILE).is_file():
            raise AtlasError(f"No atlas at {self.path} (no {CONFIG_FILE}); build one with "
                             "`auditory-deepdream atlas --model NAME --out DIR`.")
        saved = json.loads((self.path / CONFIG_FILE).read_text())
        self.model = saved.get("model")
        self.config = AtlasConfig.from_dict(saved["config"])
        self.filters: dict = {}
        self.records = [json.loads(unit.read_text()) for unit in sorted((self.path / "units").glob("*.json"))]
        for record in self.records:
            for f in record["filters"]:
                self.filters[(record["layer"], int(f["index"]))] = f
        clips = {name for f in self.filters.values() for name in f["clips"]}
        if clip not in clips:
            raise AtlasError(f"The atlas at {self.path} has no clip {clip!r}; its clips are {sorted(clips)}.")
        self.clip = clip

    def covers(self, *, layer: str, index: int, steps: int, step_size: float, seed: int) -> bool:
        """Whether the atlas holds this filter's dream made with these settings."""
        c = self.config
        return ((layer, int(index)) in self.filters and int(steps) == c.steps
                and abs(float(step_size) - c.step_size) < 1e-9 and int(seed) == c.seed)

    def views(self, *, layer: str, index: int) -> dict:
        """``change_png``, ``after_audio`` (MP3), ``before_png``, ``before_audio`` and a ``text`` line."""
        entry = self.filters[(layer, int(index))]["clips"][self.clip]
        read = lambda rel: (self.path / rel).read_bytes()  # noqa: E731
        return {"change_png": read(entry["change"]), "after_audio": read(entry["sound"]),
                "before_png": read(f"clips/{self.clip}.png"), "before_audio": read(f"clips/{self.clip}.mp3"),
                "text": (f"from the atlas ({self.path.name}): mean change {entry['change_db']} dB, level "
                         f"{entry.get('level_db', 0):+g} dB taken out of the picture, full colour at "
                         f"±{entry['scale_db']} dB")}

    @property
    def index_page(self) -> Path:
        """The atlas's front page (``index.html``), to open in a browser."""
        return self.path / "index.html"

    def layers(self) -> dict:
        """Each layer the atlas holds, with its number of filters, in the network's order."""
        return dict(Counter(layer for layer, _ in self.filters))

    def grid(self, layer: str, *, columns: int = 8) -> bytes:
        """One PNG of every filter's change picture of ``layer`` on this clip, labelled by filter."""
        from .pictures import grid_png

        indices = sorted(i for name, i in self.filters if name == layer)
        if not indices:
            raise AtlasError(f"The atlas at {self.path} has no layer {layer!r}; its layers are {list(self.layers())}.")
        pictures = [(self.path / self.filters[(layer, i)]["clips"][self.clip]["change"]).read_bytes() for i in indices]
        return grid_png(pictures, labels=indices, columns=min(columns, len(indices)))

    def files(self, *, layer: str, index: int) -> dict:
        """Where the filter's dream of this clip lies: ``change`` (PNG) and ``sound`` (MP3) paths, the
        clip's own ``clip_picture`` and ``clip_sound``, and the dream's mean ``change_db``."""
        entry = self.filters[(layer, int(index))]["clips"][self.clip]
        return {"change": self.path / entry["change"], "sound": self.path / entry["sound"],
                "clip_picture": self.path / "clips" / f"{self.clip}.png",
                "clip_sound": self.path / "clips" / f"{self.clip}.mp3", "change_db": float(entry["change_db"])}

    def raises(self, *, layer: str, index: int) -> list:
        """The classes the filter's dream raises most, as ``(class, logit rise)``, largest first."""
        return [(name, float(rise)) for name, rise in self.filters[(layer, int(index))]["raises"]]

    def _examples(self) -> dict:
        path = self.path / "examples.json"
        if not path.is_file():
            raise AtlasError(f"The atlas at {self.path} has no natural examples (no examples.json); build it "
                             "with a store: `auditory-deepdream atlas --store DIR`.")
        return json.loads(path.read_text())

    def examples(self, *, layer: str, index: int) -> list:
        """The store segments that excite the filter most, best first: each a dict with ``row``, ``label``,
        ``family``, ``source`` (the SoundFont or sample folder), ``audio`` (``"recording"``: the segment
        itself; ``"griffin-lim"``: rebuilt from its features) and ``sound``, the MP3's path."""
        found = self._examples()
        return [dict(found["rows"][str(r)], row=int(r), sound=self.path / found["rows"][str(r)]["sound"])
                for r in found["top"][layer][int(index)]]

    def meaning(self, *, permutations: int = 2000) -> dict:
        """The measure of meaning recomputed from the atlas's files (:func:`~.meaning.agreement`)."""
        from .meaning import agreement, family_pairs

        return agreement(family_pairs(self.records, self._examples()), permutations=permutations,
                         seed=self.config.seed)
