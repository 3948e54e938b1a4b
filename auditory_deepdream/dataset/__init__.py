"""Datasets: read NSynth / Philharmonia / SoundFont renders, curate, augment, encode, store.

The pipeline of the dissertation's sections 3.1-3.4, as functions on a *notes table*
(one row per source recording), one module per step:

``readers``    :func:`read_nsynth` (the release layout; SoundFont renders use it too),
               :func:`read_philharmonia` (one folder per instrument) and
               :func:`read_samples` (one instrument's notes named by pitch, family given;
               :func:`sample_folders` looks the family up by folder name)
``ontology``   :func:`apply_ontology` maps every (source, label, instrument_source) to a
               merged family, or omits it, using the data table ``data/ontology.csv``
``plan``       :class:`DatasetConfig`; splits by source note (:func:`assign_splits`); the
               augmentation plan (:func:`plan_augmentation`): time-stretch for
               under-represented families and a per-family hop from K-means
``recording``  :class:`RecordingAugmentation`: K copies of each training note through
               pedalboard effects (EQ, reverb, compression, pitch in cents, gain)
``encode``     the per-chunk job: trim, segment (zero-padding the last window), log-mel
               encode (:func:`encode_chunk`, a pure function of a :class:`ChunkJob`)
``build``      :func:`build_dataset` writes the encoded chunks into a resumable store;
               :func:`build_default_dataset` renders the default SoundFonts first
``store``      :class:`FeatureStore` / :class:`StoreWriter`, the float16 on-disk store
``folds``      :func:`leave_out`: a derived store whose test split is one whole source
               (a SoundFont) that training never hears; :func:`soundfont_fold` derives it once;
               :func:`without_rows` drops a training source from every split
``summary``    counts per family and source, before and after augmentation, and plots
``soundfont``  :func:`render_soundfont`, NSynth-layout notes from General MIDI SoundFonts
``discovery``  :func:`survey_soundfonts`: which installed SoundFonts a default build trains on,
               holds out or skips (variants of the held-out one, copies), and why
``sample_headers`` :func:`sample_names` of a SoundFont and the names two SoundFonts share
               (:func:`shared_sample_names`): has a "never heard" SoundFont been heard in part?
``synths``     the two synthesizers a render can use (tinysoundfont, FluidSynth)
``timidity``   GUS patch sets (Debian's freepats) played by TiMidity++, named by their ``.cfg``
``pieces``     long demonstration pieces (:func:`bach_prelude`, :func:`break_beat`) and
               single held notes (:func:`sustained_note`), mono or stereo
``workers``    the process pool the renders and encodes run in
"""

from ..lazy import lazy_exports

_EXPORTS = {  # name -> the submodule that defines it
    "DATASET_PRESETS": "plan",
    "NOTE_COLUMNS": "readers",
    "NSYNTH_FAMILIES": "soundfont",
    "NSYNTH_SOURCES": "soundfont",
    "PITCH_CLASSES": "encode",
    "PRELUDE_CHORDS": "pieces",
    "RENDER_PRESETS": "soundfont",
    "SPLITS": "plan",
    "STORE_DTYPE": "store",
    "ChunkJob": "encode",
    "DatasetConfig": "plan",
    "EncodedChunk": "encode",
    "FeatureStore": "store",
    "FoundSoundFont": "discovery",
    "RecordingAugmentation": "recording",
    "RenderConfig": "soundfont",
    "StoreWriter": "store",
    "apply_ontology": "ontology",
    "apply_plan": "plan",
    "assign_splits": "plan",
    "augment_recording": "recording",
    "bach_prelude": "pieces",
    "break_beat": "pieces",
    "build_dataset": "build",
    "build_default_dataset": "build",
    "chunk_jobs": "encode",
    "default_render_config": "build",
    "default_soundfonts": "discovery",
    "distribution": "summary",
    "draw_effects": "recording",
    "encode_chunk": "encode",
    "find_drumkit": "pieces",
    "find_soundfonts": "discovery",
    "gm_programs": "soundfont",
    "kept_programs": "ontology",
    "leave_out": "folds",
    "soundfont_fold": "folds",
    "load_ontology": "ontology",
    "load_soundfont": "soundfont",
    "parse_philharmonia_name": "readers",
    "parse_sample_name": "readers",
    "pip_soundfont": "soundfont",
    "plan_augmentation": "plan",
    "plot_distribution": "summary",
    "plot_summary": "summary",
    "process_note": "encode",
    "read_durations": "readers",
    "read_nsynth": "readers",
    "read_philharmonia": "readers",
    "read_samples": "readers",
    "read_sources": "readers",
    "render_soundfont": "soundfont",
    "sample_folder_rows": "folds",
    "sample_folders": "readers",
    "sample_names": "sample_headers",
    "sample_instruments": "readers",
    "summarize": "summary",
    "survey_soundfonts": "discovery",
    "soundfont_position": "folds",
    "shared_sample_names": "sample_headers",
    "sustained_note": "pieces",
    "without_rows": "folds",
}

__all__ = list(_EXPORTS)
__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
