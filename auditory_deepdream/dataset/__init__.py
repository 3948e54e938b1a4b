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

from .build import build_dataset, build_default_dataset, default_render_config
from .encode import (
    PITCH_CLASSES,
    ChunkJob,
    EncodedChunk,
    chunk_jobs,
    encode_chunk,
    process_note,
)
from .folds import leave_out, sample_folder_rows, soundfont_fold, soundfont_position, without_rows
from .ontology import apply_ontology, kept_programs, load_ontology
from .pieces import (
    PRELUDE_CHORDS,
    bach_prelude,
    break_beat,
    find_drumkit,
    sustained_note,
)
from .plan import (
    DATASET_PRESETS,
    SPLITS,
    DatasetConfig,
    apply_plan,
    assign_splits,
    plan_augmentation,
)
from .recording import RecordingAugmentation, augment_recording, draw_effects
from .readers import (
    NOTE_COLUMNS,
    parse_philharmonia_name,
    parse_sample_name,
    read_durations,
    read_nsynth,
    read_philharmonia,
    read_samples,
    read_sources,
    sample_folders,
    sample_instruments,
)
from .soundfont import (
    NSYNTH_FAMILIES,
    NSYNTH_SOURCES,
    RENDER_PRESETS,
    RenderConfig,
    gm_programs,
    load_soundfont,
    pip_soundfont,
    render_soundfont,
)
from .discovery import FoundSoundFont, default_soundfonts, find_soundfonts, survey_soundfonts
from .sample_headers import sample_names, shared_sample_names
from .store import STORE_DTYPE, FeatureStore, StoreWriter
from .summary import distribution, plot_distribution, plot_summary, summarize

__all__ = [
    "DATASET_PRESETS",
    "NOTE_COLUMNS",
    "NSYNTH_FAMILIES",
    "NSYNTH_SOURCES",
    "PITCH_CLASSES",
    "PRELUDE_CHORDS",
    "RENDER_PRESETS",
    "SPLITS",
    "STORE_DTYPE",
    "ChunkJob",
    "DatasetConfig",
    "EncodedChunk",
    "FeatureStore",
    "FoundSoundFont",
    "RecordingAugmentation",
    "RenderConfig",
    "StoreWriter",
    "apply_ontology",
    "apply_plan",
    "assign_splits",
    "augment_recording",
    "bach_prelude",
    "break_beat",
    "build_dataset",
    "build_default_dataset",
    "chunk_jobs",
    "default_render_config",
    "default_soundfonts",
    "distribution",
    "draw_effects",
    "encode_chunk",
    "find_drumkit",
    "find_soundfonts",
    "gm_programs",
    "kept_programs",
    "leave_out",
    "soundfont_fold",
    "load_ontology",
    "load_soundfont",
    "parse_philharmonia_name",
    "parse_sample_name",
    "pip_soundfont",
    "plan_augmentation",
    "plot_distribution",
    "plot_summary",
    "process_note",
    "read_durations",
    "read_nsynth",
    "read_philharmonia",
    "read_samples",
    "read_sources",
    "render_soundfont",
    "sample_folder_rows",
    "sample_folders",
    "sample_names",
    "sample_instruments",
    "summarize",
    "survey_soundfonts",
    "soundfont_position",
    "shared_sample_names",
    "sustained_note",
    "without_rows",
]
