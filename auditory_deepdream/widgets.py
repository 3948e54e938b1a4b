"""The filter auditioner: pick a layer and a filter, move a slider, hear the dream.

Moves are cheap: a layer is dreamed whole once (with a progress bar), each state's pictures
are drawn without matplotlib and its sounds encoded once, and a move already seen only swaps
bytes; with a built atlas (``atlas=``) its precomputed pictures and sounds are shown instead.

:class:`Auditioner` holds the state and the plain callbacks (:meth:`Auditioner.filter_range`,
:meth:`Auditioner.result`, :meth:`Auditioner.on_layer`, :meth:`Auditioner.refresh`);
:meth:`Auditioner.widget` only wires ipywidgets controls to them, so the logic is tested
without a browser. Results are cached by every setting that changes the sound, and the
first request for a filter dreams *every* filter of its layer in one batched run, so
moving the slider afterwards is instant.

Example (in a notebook)::

    from auditory_deepdream import audio, widgets
    from auditory_deepdream.dreamer import Dreamer
    d = Dreamer.load("default")
    y = audio.load_audio(audio.example_clip("cello_C3"), settings=d.settings)
    widgets.Auditioner(y, dreamer=d).widget()
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, fields, replace

import ipywidgets
import numpy as np

from . import audio, models
from .atlas.assets import AtlasAssets
from .atlas.pictures import change_png, grid_png, spectrogram_png
from .dreamer import OBJECTIVE_KINDS, Dreamer, DreamResult, audition_layer, dream, make_objective
from .dreamer.result import CHANGE_FLOOR_DB
from .errors import AuditoryDeepDreamError
from .options import SOUND_PATHS, DreamOptions
from .players import compressed_audio

__all__ = ["AuditionState", "Auditioner"]


@dataclass(frozen=True)
class AuditionState:
    """Every control of the auditioner; equal states give the same (cached) sound.

    ``sound_path`` is a key of :data:`~auditory_deepdream.dreamer.SOUND_PATHS`.
    """

    layer: str
    filter: int = 0
    steps: int = 10
    step_size: float = 1.0
    objective: str = "filter"
    family: int = 0
    sound_path: str = "original"
    seed: int = 0


class Auditioner:
    """State, cache and callbacks of the filter auditioner.

    Parameters
    ----------
    y : np.ndarray [shape=(n_samples,)]
        The clip, at ``dreamer.settings.sample_rate``.
    dreamer : Dreamer
    layer : str, optional
        Initial layer (default: the first convolution).
    options : DreamOptions, optional
        How to dream; the sliders and buttons set its ``steps``, ``step_size``, ``seed`` and
        sound path (default ``DreamOptions()``, the free mel ascent).
    steps, step_size : optional
        The sliders' starting values (default: those of ``options``).
    prefetch_filters : int
        Layers with at most this many filters are dreamed whole on the first filter request (in
        batched runs of ``chunk`` filters, with a progress bar); larger layers one filter at a time.
    atlas : path-like, optional
        A built atlas (``auditory-deepdream atlas``) of this model: where it holds the dream asked
        for (filter objective, original phase, its steps, step size and seed) on ``clip``, its
        precomputed pictures and sounds are shown and nothing is dreamed.
    clip : str, optional
        The clip's name in ``atlas`` (e.g. ``"cello_C3"``); needed with ``atlas``.
    chunk : int
        Filters per batched run when a layer is dreamed whole.
    """

    def __init__(self, y, *, dreamer: Dreamer, layer: str | None = None, options: DreamOptions | None = None,
                 steps: int | None = None, step_size: float | None = None, prefetch_filters: int = 64,
                 atlas=None, clip: str | None = None, chunk: int = 16):
        self.y = audio.check_audio(y)
        self.dreamer = dreamer
        every = list(dreamer.info.layer_filters)
        if not every:
            raise AuditoryDeepDreamError("This model has no feature-map layers to audition.")
        # the dropdown offers the convolutions: batch-norm, pooling and dropout outputs are
        # the same feature maps rescaled, subsampled or (at inference) passed through
        convs = [name for name in models.conv_layer_names(dreamer.model) if name in dreamer.info.layer_filters]
        self.layers = convs or every
        start = layer or self.layers[0]
        dreamer.info.filters(start)
        if start not in self.layers:  # a layer asked for by name is offered too
            self.layers.append(start)
        self.options = options if options is not None else DreamOptions()
        self.state = AuditionState(layer=start, steps=int(self.options.steps if steps is None else steps),
                                   step_size=float(self.options.step_size if step_size is None else step_size),
                                   seed=self.options.seed)
        self.prefetch_filters = int(prefetch_filters)
        self.chunk = max(1, int(chunk))
        if atlas is not None and clip is None:
            raise AuditoryDeepDreamError("Name the clip's entry in the atlas too: Auditioner(..., atlas=PATH, "
                                         "clip='cello_C3').")
        self.atlas = None if atlas is None else AtlasAssets(atlas, clip=clip)
        self.cache: dict = {}
        self._views: dict = {}   # state key -> what the widget shows; a cached move costs a lookup
        self._input: dict = {}   # the clip's own picture and sound, drawn and encoded once
        self.runs = 0  # dream() calls made; a cached result costs none
        self.refreshes = 0  # views pushed into the widget (one per move or layer change)
        self.busy_messages: list = []  # what the busy indicator said, in order (also without a widget)
        self._controls: dict = {}
        self._holding = False  # True while the widget sets its own controls: their observers stay quiet

    # ------------------------------------------------------------ plain callbacks
    def filter_range(self, layer: str) -> tuple[int, int]:
        """Smallest and largest filter index of ``layer`` (the slider's range)."""
        return 0, self.dreamer.info.filters(layer) - 1

    def class_options(self) -> list[tuple[str, int]]:
        """(label, index) pairs of the model's classes, for the class dropdown."""
        n = self.dreamer.info.n_classes or 0
        names = self.dreamer.info.classes
        return [(names[i] if i < len(names) else str(i), i) for i in range(n)]

    def on_layer(self, layer: str) -> AuditionState:
        """Switch layer; the filter index is clamped into the new layer's range."""
        low, high = self.filter_range(layer)
        self.state = replace(self.state, layer=layer, filter=min(max(self.state.filter, low), high))
        return self.state

    def update(self, **changes) -> AuditionState:
        """Change some controls (names as :class:`AuditionState` fields)."""
        if "layer" in changes:
            self.on_layer(changes.pop("layer"))
        self.state = replace(self.state, **changes)
        return self.state

    def _key(self, state: AuditionState):
        # drop the controls an objective ignores, so they do not split the cache
        if state.objective == "layer":
            return replace(state, filter=0, family=0)
        if state.objective == "class":
            return replace(state, layer="", filter=0)
        return replace(state, family=0)

    def _busy(self, message: str | None, done: int = 0, total: int = 0) -> None:
        """Show (``message``) or clear (None) the busy state: a status line and a progress bar."""
        if message is not None:
            self.busy_messages.append(message)
        c = self._controls
        if not c:
            return
        if message is None:
            c["progress"].layout.visibility = "hidden"
            c["status"].remove_class("auditioner-busy")
            return
        c["status"].value = message
        c["status"].add_class("auditioner-busy")
        c["progress"].max, c["progress"].value = max(total, 1), done
        c["progress"].layout.visibility = "visible"

    def result(self, state: AuditionState | None = None) -> DreamResult:
        """The dream for a state, from the cache when it was heard before."""
        state = state or self.state
        key = self._key(state)
        if key in self.cache:
            return self.cache[key]
        options = self.options.replace(steps=state.steps, step_size=state.step_size, seed=state.seed,
                                       **SOUND_PATHS[state.sound_path])
        n = self.dreamer.info.filters(state.layer)
        if state.objective == "filter" and n <= self.prefetch_filters:
            self._busy(f"dreaming all {n} filters of {state.layer} (once; moves within it are instant)…", 0, n)
            try:
                for first in range(0, n, self.chunk):
                    part = list(range(first, min(first + self.chunk, n)))
                    batch = audition_layer(self.y, model=self.dreamer, layer=state.layer, filters=part,
                                           options=options, progress=False)
                    self.runs += 1
                    for i, k in enumerate(part):
                        self.cache[replace(key, filter=k)] = _item(batch, i)
                    self._busy(f"dreaming all {n} filters of {state.layer}: {part[-1] + 1} done…", part[-1] + 1, n)
            finally:
                self._busy(None)
            return self.cache[key]
        index = state.family if state.objective == "class" else state.filter
        objective = make_objective(state.objective, layer=state.layer, index=index,
                                     classes=self.dreamer.info.classes)
        self._busy(f"dreaming {_describe(state)}…")
        try:
            self.cache[key] = dream(self.y, model=self.dreamer, objective=objective, options=options, progress=False)
        finally:
            self._busy(None)
        self.runs += 1
        return self.cache[key]

    def _atlas_covers(self, state: AuditionState) -> bool:
        plain = self.options.replace(steps=state.steps, step_size=state.step_size, seed=state.seed)
        return (self.atlas is not None and state.objective == "filter" and state.sound_path == "original"
                and plain == DreamOptions(steps=state.steps, step_size=state.step_size, seed=state.seed)
                and self.atlas.covers(layer=state.layer, index=state.filter, steps=state.steps,
                                      step_size=state.step_size, seed=state.seed))

    def views(self, state: AuditionState | None = None) -> dict:
        """What the widget shows, drawn once per state and kept.

        Returns
        -------
        views : dict
            ``png`` (the change picture: red where the dream raised a band beyond its common level
            change, blue where it cut), ``before_png`` (the clip's spectrogram), ``before_audio`` and
            ``after_audio`` (MP3 bytes of the input and the dream, first 15 s, see
            :func:`~auditory_deepdream.players.compressed_audio`) and ``text`` (a summary line).
            Taken from the atlas where it holds this dream.
        """
        state = state or self.state
        key = self._key(state)
        if key in self._views:
            return self._views[key]
        if self._atlas_covers(state):
            found = self.atlas.views(layer=state.layer, index=state.filter)
            self._views[key] = {"png": found["change_png"], "before_png": found["before_png"],
                                "before_audio": found["before_audio"], "after_audio": found["after_audio"],
                                "text": f"{_describe(state)}; {found['text']}"}
            return self._views[key]
        res = self.result(state)
        sr = self.dreamer.settings.sample_rate
        if not self._input:
            self._input = {"before_png": spectrogram_png(res.mel_before[0]),
                           "before_audio": compressed_audio(res.input_audio, sample_rate=sr)}
        before, after = res.mel_before[0], res.mel_after[0]
        floor = before.max() - CHANGE_FLOOR_DB
        png, scale, level = change_png(after - before, heard=(before > floor) | (after > floor))
        s = res.summary()
        survival = "n/a" if s["survival"] is None else f"{s['survival']:.2f}"
        text = (f"{_describe(state)}: objective {s['objective_before']:.3g} → {s['objective_dreamed']:.3g} "
                f"(dreamed), {s['objective_after']:.3g} heard; survival {survival} (the share of the gain "
                f"heard); spectral change {s['spectral_change_db']:.1f} dB; picture: level {level:+.1f} dB "
                f"taken out, full colour at ±{scale:g} dB")
        self._views[key] = {"png": png, **self._input, "after_audio": compressed_audio(res.audio, sample_rate=sr),
                            "text": text}
        return self._views[key]

    def grid(self, state: AuditionState | None = None) -> bytes | None:
        """Every filter of the state's layer as one picture (None until the layer has been dreamed whole)."""
        state = state or self.state
        n = self.dreamer.info.filters(state.layer)
        base = replace(self._key(replace(state, objective="filter")), filter=0)
        key = ("grid", base)
        if key in self._views:
            return self._views[key]
        cover = all(self._atlas_covers(replace(state, objective="filter", filter=k)) for k in range(n))
        if not cover and not all(replace(base, filter=k) in self.cache for k in range(n)):
            return None
        pictures = [self.views(replace(state, objective="filter", filter=k))["png"] for k in range(n)]
        self._views[key] = grid_png(pictures, columns=min(8, n))
        return self._views[key]

    def refresh(self, *_):
        """Push the views of the current state into the controls (one refresh per move)."""
        c = self._controls
        self.refreshes += 1
        try:
            views = self.views()
        except AuditoryDeepDreamError as exc:
            c["status"].value = f"error: {exc}"
            return
        c["image"].value = views["png"]
        if c["input_image"].value != views["before_png"]:
            c["input_image"].value = views["before_png"]
        if c["before"].value != views["before_audio"]:  # the input player keeps its bytes: no reload
            c["before"].value = views["before_audio"]
        c["after"].value = views["after_audio"]
        c["status"].value = views["text"]
        grid = self.grid() if self.state.objective == "filter" else None
        if grid is not None and c["grid"].value != grid:
            c["grid"].value = grid

    # -------------------------------------------------------------------- widget
    def widget(self):
        """The ipywidgets UI (layer dropdown, filter slider, steps, step size, objective, sound path,
        the input's spectrogram and the dream's change picture, two players, the layer's grid and a
        progress bar while a layer is dreamed)."""
        st = self.state
        low, high = self.filter_range(st.layer)
        c = self._controls = {
            "layer": ipywidgets.Dropdown(options=self.layers, value=st.layer, description="layer"),
            "filter": ipywidgets.IntSlider(value=st.filter, min=low, max=high, description="filter",
                                           continuous_update=False),
            "steps": ipywidgets.IntSlider(value=st.steps, min=0, max=200, description="steps",
                                          continuous_update=False),
            "step_size": ipywidgets.FloatLogSlider(value=st.step_size, base=10, min=-1.5, max=1,
                                                   description="step (dB)", continuous_update=False),
            "objective": ipywidgets.ToggleButtons(options=list(OBJECTIVE_KINDS), value=st.objective,
                                                  description="objective"),
            "family": ipywidgets.Dropdown(options=self.class_options() or [("none", 0)], value=st.family,
                                          description="class"),
            "sound_path": ipywidgets.ToggleButtons(options=list(SOUND_PATHS), value=st.sound_path,
                                                   description="sound"),
            "input_image": ipywidgets.Image(format="png", layout=ipywidgets.Layout(width="300px", height="160px")),
            "image": ipywidgets.Image(format="png", layout=ipywidgets.Layout(width="300px", height="160px")),
            "before": ipywidgets.Audio(format="mpeg", autoplay=False),  # MP3: MIME audio/mpeg
            "after": ipywidgets.Audio(format="mpeg", autoplay=False),
            "status": ipywidgets.Label(),
            "progress": ipywidgets.IntProgress(value=0, min=0, max=1, description="dreaming",
                                               layout=ipywidgets.Layout(visibility="hidden")),
            "grid": ipywidgets.Image(format="png"),
        }

        def on_layer(change):
            self.on_layer(change["new"])
            _, hi = self.filter_range(change["new"])
            self._holding = True  # clamping the slider must not refresh a second time
            try:
                c["filter"].max = max(hi, c["filter"].min)
                c["filter"].value = self.state.filter
            finally:
                self._holding = False
            self.refresh()

        def on_control(name):
            def handler(change):
                if self._holding:
                    return
                self.update(**{name: change["new"]})
                self.refresh()
            return handler

        for name, control in c.items():  # stable handles (e.g. for the browser test): .auditioner-filter, ...
            control.add_class(f"auditioner-{name}")
        c["layer"].observe(on_layer, names="value")
        for name in ("filter", "steps", "step_size", "objective", "family", "sound_path"):
            c[name].observe(on_control(name), names="value")
        self.refresh()
        pictures = ipywidgets.HBox([ipywidgets.VBox([ipywidgets.Label("input"), c["input_image"], c["before"]]),
                                    ipywidgets.VBox([ipywidgets.Label("change made by the dream"), c["image"],
                                                     c["after"]])])
        grid = ipywidgets.VBox([ipywidgets.Label("every filter of the layer (change pictures)"), c["grid"]])
        return AuditionerView([ipywidgets.HBox([c["layer"], c["filter"]]),
                                ipywidgets.HBox([c["steps"], c["step_size"]]),
                                ipywidgets.HBox([c["objective"], c["family"]]),
                                c["sound_path"], ipywidgets.HBox([c["progress"], c["status"]]), pictures, grid])


class AuditionerView(ipywidgets.VBox):
    """The auditioner's box, with a fallback for front ends that cannot draw the live widget.

    JupyterLab draws a widget only in a trusted notebook (one run or trusted on this machine);
    otherwise it shows the output's richest safe type. ipywidgets offers only ``VBox(children=...``
    text there, so the last change picture (PNG) and a line on how to get the sliders are added.
    """

    def _repr_mimebundle_(self, **kwargs):
        bundle = super()._repr_mimebundle_(**kwargs) or {}
        image = next((w for w in _walk(self) if isinstance(w, ipywidgets.Image)
                      and "auditioner-image" in w._dom_classes), None)
        if image is not None and image.value:
            bundle["image/png"] = base64.b64encode(image.value).decode("ascii")
        bundle["text/plain"] = ("Filter auditioner (an interactive widget): run the notebook, or trust it "
                                "(File > Trust Notebook), to move its sliders.")
        return bundle


def _walk(box):
    for child in getattr(box, "children", ()):
        yield child
        yield from _walk(child)


def _describe(state: AuditionState) -> str:
    what = {"filter": f"{state.layer} filter {state.filter}", "layer": f"{state.layer} (all filters)",
            "class": f"class {state.family}"}[state.objective]
    return f"{what}, {state.steps} steps × {state.step_size:g} dB, {state.sound_path}"


def _item(batch: DreamResult, i: int) -> DreamResult:
    """Item ``i`` of a batched result as a single-clip result."""
    single = {}
    for name in (f.name for f in fields(batch)):
        value = getattr(batch, name)
        if name == "objective":
            single[name] = value.items[i]
        elif name in ("audio", "input_audio"):
            single[name] = value[i]
        elif name == "history":
            single[name] = value[:, i:i + 1]
        elif isinstance(value, np.ndarray):
            single[name] = value[i:i + 1]
        else:
            single[name] = value
    return DreamResult(**single)
