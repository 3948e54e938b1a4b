"""The atlas: every filter of every convolution layer, dreamed, pictured, heard and exemplified.

``config``   :class:`AtlasConfig`, the frozen settings saved as ``atlas.json`` (no TensorFlow)
``build``    :func:`build_atlas`: resumable units of batched dreams, on this process or Dask
``dreams``   one unit: a chunk of a layer's filters dreamed on every clip, as PNGs and MP3s
``examples`` natural examples: the store segments that excite each filter most
``meaning``  does a filter's dream raise the family its natural examples belong to?
``site``     the static pages (``index.html``, one per layer) that work offline from ``file://``

Example::

    from auditory_deepdream.atlas import build_atlas
    build = build_atlas("default", "out/atlas-default", store="out/datasets/heldout")
    print(build.line())
"""

from ..lazy import lazy_exports

_EXPORTS = {
    "AtlasConfig": "config",
    "AtlasError": "config",
    "CONFIG_FILE": "config",
    "AtlasBuild": "build",
    "build_atlas": "build",
    "check_output_folder": "build",
    "atlas_units": "build",
    "agreement": "meaning",
    "page_name": "site",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
