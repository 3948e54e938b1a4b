"""Tagger judges: musicnn's taggers, trained on real music, as judges of a dream.

The family judges of :mod:`.judges` learnt their instruments from the same SoundFonts as
the models they judge. musicnn's four pre-trained taggers
(:mod:`auditory_deepdream.models.musicnn`) learnt theirs from recorded music, on
MagnaTagATune (MTT) and on the Million Song Dataset (MSD). Whichever tagger a dream was
made with, the other three can judge it: :func:`tagger_logits` gives each judge's logit of
each tag, :func:`tag_other_margins` compares the dream toward a tag with dreams of the same
clip toward the other tags (:func:`.judges.other_class_margins`), and
:func:`tag_control_margins` with the phase-randomised control of the same added signal
(:func:`.judges.control_for`).

MTT and MSD name different tags. :data:`SHARED_TAGS` pairs the few that name the same
thing, so both can judge a target there; a judge that has neither the target nor its pair
is left out of that target's verdict (:mod:`auditory_deepdream.models.tag_names` holds the
wider, many-to-many table).

A recorded source is the yardstick of a dream's strength: :func:`mix_source` lays a real
recording of the tag's instrument into the clip at a level under it, loudness-matched as a
dream is, :func:`source_rises` gives each judge's rise of the tag's logit for it, and
:func:`real_source_equivalent` divides a dream's rise by the rise of the source at
:data:`YARDSTICK_DB` (1: the dream says "guitar" as loudly as a real guitar 6 dB under the
clip does).
"""

from __future__ import annotations

from dataclasses import dataclass

import keras
import numpy as np

from ..audio import check_audio, encode, integrated_loudness, match_loudness
from ..audio.resampling import resample
from ..errors import AudioInputError, DreamError, ModelError
from ..models import musicnn
from .judges import other_class_margins
from .quality import _mono

__all__ = ["SHARED_TAGS", "SOURCE_LEVELS_DB", "TAGGERS", "Tagger", "YARDSTICK_DB", "judge_tag", "load_taggers",
           "mix_source", "real_source_equivalent", "source_rises", "tag_control_margins", "tag_other_margins",
           "tagger_logits"]

TAGGERS = ("musicnn-mtt", "vgg-mtt", "musicnn-msd", "vgg-msd")

# MTT tag -> the MSD tag that names the same sound or genre, one to one. MSD's tags are
# last.fm genres, eras and vocalist genders: no instrument but the guitar, nothing for piano,
# strings, flute, choir or drums, and 'techno' has no MSD twin ('electronic' is its own tag).
SHARED_TAGS = {
    "guitar": "guitar",
    "female vocal": "female vocalists",
    "male vocal": "male vocalists",
    "electronic": "electronic",
    "rock": "rock",
    "pop": "pop",
    "dance": "dance",
    "metal": "metal",
    "ambient": "ambient",
    "country": "country",
}
SOURCE_LEVELS_DB = (-12.0, -6.0, 0.0)  # a recorded source's loudness against the clip's, LU
YARDSTICK_DB = -6.0  # the level whose rise a dream's rise is divided by
_PAIRS = {**SHARED_TAGS, **{msd: mtt for mtt, msd in SHARED_TAGS.items()}}


@dataclass(frozen=True, eq=False)
class Tagger:
    """One tagger as a judge.

    Attributes
    ----------
    name : str
        A key of :data:`auditory_deepdream.models.musicnn.PRETRAINED`.
    classes : tuple of str
        Its 50 tags, in output order.
    logits : keras.Model
        ``(batch, 96, frames, 1)`` log-mel dB to ``(batch, 50)`` tag logits (the Dense
        ``tags``, before the sigmoid).
    """

    name: str
    classes: tuple
    logits: keras.Model


def load_taggers(names=TAGGERS) -> dict[str, Tagger]:
    """Load musicnn taggers to judge dreams by.

    Parameters
    ----------
    names : iterable of str
        :data:`TAGGERS` names (all four by default); leave out the one the dream was made with.

    Returns
    -------
    taggers : dict of str to Tagger

    Raises
    ------
    ModelError
        An unknown name, or ``musicnn`` not installed.
    """
    out = {}
    for name in names:
        model, _, card = musicnn.load_pretrained(name)
        out[card["name"]] = Tagger(card["name"], tuple(card["classes"]),
                                   keras.Model(model.inputs, model.get_layer("tags").output))
    return out


def judge_tag(target: str, classes) -> str | None:
    """The tag of ``classes`` that judges ``target``: itself, its :data:`SHARED_TAGS` pair, or None."""
    if target in classes:
        return target
    pair = _PAIRS.get(target)
    return pair if pair in classes else None


def tagger_logits(audio_in, *, sample_rate: int, taggers: dict, tags=None, input_overlap: float = 1.0,
                  batch_size: int = 32) -> dict[str, dict[str, float]]:
    """Each judge's mean logit of each tag over a clip's 3-s patches.

    The clip is mixed to mono, resampled to 16 kHz, encoded as musicnn's input and cut
    into 3-s patches every ``input_overlap`` seconds (:func:`.musicnn.patches`, which
    repeat-pads a clip shorter than a patch). A tag's score is the **mean of its logits**
    over the patches, not the logit of the mean probability: a logit does not saturate
    where float32 sigmoids round to 1, and it is what a tag dream climbs.

    Parameters
    ----------
    audio_in : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sample_rate : int
        Rate of ``audio_in``.
    taggers : dict of str to Tagger
        From :func:`load_taggers`.
    tags : iterable of str, optional
        Targets, by MTT or MSD name. Each judge scores those it has itself or through
        :data:`SHARED_TAGS`, keyed by the target's name as given, and skips the rest.
        Default: every tag of each judge, by its own names.
    input_overlap : float
        Seconds between patch starts (musicnn's extractor calls it the overlap).
    batch_size : int
        Patches per forward pass.

    Returns
    -------
    logits : dict of str to dict of str to float
        Judge name to {target: mean logit}; a judge that has none of ``tags`` is left out.

    Raises
    ------
    ModelError
        A target that no judge has.
    AudioInputError
        Audio the encoder cannot use (silent, non-finite).
    """
    y = _mono(audio_in)
    if sample_rate != musicnn.SETTINGS.sample_rate:
        y = resample(y, orig_sr=sample_rate, target_sr=musicnn.SETTINGS.sample_rate)
    y = check_audio(np.asarray(y, np.float32), name="the clip")
    x = musicnn.patches(encode(y, settings=musicnn.SETTINGS), input_overlap=input_overlap)[..., None]
    tags = None if tags is None else list(tags)
    if tags is not None:
        unjudged = [t for t in tags if not any(judge_tag(t, j.classes) for j in taggers.values())]
        if unjudged:
            raise ModelError(f"No judge has the tag {unjudged[0]!r} (nor a SHARED_TAGS pair of it); choose tags "
                             f"of {sorted(taggers)}, e.g. {list(next(iter(taggers.values())).classes[:5])}.")
    out = {}
    for name, judge in taggers.items():
        logits = np.concatenate([np.asarray(judge.logits({"mel_db": x[i:i + batch_size]}, training=False))
                                 for i in range(0, len(x), batch_size)]).mean(axis=0, dtype=np.float64)
        wanted = {t: t for t in judge.classes} if tags is None else {t: judge_tag(t, judge.classes) for t in tags}
        scores = {t: float(logits[judge.classes.index(own)]) for t, own in wanted.items() if own is not None}
        if scores:
            out[name] = scores
    return out


def tag_other_margins(dreams: dict) -> dict[str, dict[str, float]]:
    """How much more each judge hears a tag in the dream toward it than in the dreams toward the others.

    :func:`.judges.other_class_margins` with tag logits, judge by judge over the targets
    that judge has: ``logit_j(t | dream toward t) − mean over t' ≠ t of logit_j(t | dream
    toward t')``. A judge with fewer than two of the targets gives no margin.

    Parameters
    ----------
    dreams : dict of str to dict
        Target to :func:`tagger_logits` of the dream of one clip toward it (called with
        ``tags`` = the targets).

    Returns
    -------
    margins : dict of str to dict of str to float
        Target to {judge: margin in logits}, for the judges that have the target.

    Raises
    ------
    DreamError
        Fewer than two targets.
    """
    targets = list(dreams)
    if len(targets) < 2:
        raise DreamError(f"A control from dreams toward other tags needs at least two targets; got {targets}. "
                         "Dream the clip toward two or more tags.")
    judges = {j for t in targets for j in dreams[t]}
    out = {t: {} for t in targets}
    for j in sorted(judges):
        known = [t for t in targets if all(t in dreams[u].get(j, {}) for u in targets)]
        if len(known) < 2:
            continue
        for t, by_judge in other_class_margins({t: {j: dreams[t][j]} for t in known}).items():
            out[t][j] = by_judge[j]
    return out


def tag_control_margins(input_logits: dict, dream_logits: dict, control_logits: dict, *,
                        target: str) -> dict[str, float]:
    """How much more each judge hears ``target`` in the dream than in its phase-randomised control.

    Per judge, ``[logit(dream) − logit(input)] − [logit(control) − logit(input)]``, the
    margin of :func:`.judges.transfer_margins` in tag logits; the control is
    :func:`.judges.control_for` of the input and the dream.

    Parameters
    ----------
    input_logits, dream_logits, control_logits : dict
        :func:`tagger_logits` of the input, the dream toward ``target`` and its control.
    target : str

    Returns
    -------
    margins : dict of str to float
        Judge to margin, for the judges that scored ``target`` in all three.
    """
    return {j: (dream_logits[j][target] - input_logits[j][target])
            - (control_logits[j][target] - input_logits[j][target])
            for j in dream_logits
            if all(target in s.get(j, {}) for s in (input_logits, dream_logits, control_logits))}


def mix_source(clip, source, *, sample_rate: int, level_db: float) -> np.ndarray:
    """A recording laid into a clip ``level_db`` LU under (or over) it, at the clip's loudness.

    The source is scaled to the clip's integrated loudness (BS.1770) plus ``level_db``,
    added (looped or cut to the clip's length; a mono source goes to every channel), and the
    mix brought back to the clip's loudness under a -1 dBTP ceiling, as a dream is written.

    Parameters
    ----------
    clip : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    source : np.ndarray [shape=(m_samples,) or (channels, m_samples)]
        Same rate; mono or the clip's channels.
    sample_rate : int
    level_db : float
        The source's loudness against the clip's (``-6``: 6 LU quieter).

    Returns
    -------
    mix : np.ndarray, the clip's shape, float32

    Raises
    ------
    AudioInputError
        A silent clip or source, or a source whose channels the clip does not have.
    """
    clip = np.asarray(clip, np.float32)
    source = np.asarray(source, np.float32)
    source = np.resize(source, source.shape[:-1] + clip.shape[-1:])  # looped or cut to the clip's length
    if source.ndim < clip.ndim:
        source = np.broadcast_to(source, clip.shape)
    if source.shape != clip.shape:
        raise AudioInputError(f"The source has shape {source.shape[:-1]} channels; the clip {clip.shape[:-1]}.")
    lufs = integrated_loudness(clip, sample_rate=sample_rate)
    gap = lufs + level_db - integrated_loudness(source, sample_rate=sample_rate)
    if not np.isfinite(gap):
        raise AudioInputError("The clip or the source is silent; a recorded source needs sound in both.")
    mix = clip + source * np.float32(10 ** (gap / 20))
    return match_loudness(mix, sample_rate=sample_rate, target_lufs=lufs).astype(np.float32)


def source_rises(clip, sources: dict, *, sample_rate: int, taggers: dict,
                 levels=SOURCE_LEVELS_DB) -> dict[str, dict[float, dict[str, float]]]:
    """How much each judge hears each tag rise when its recorded source is mixed into the clip.

    Parameters
    ----------
    clip : np.ndarray [shape=(n_samples,) or (channels, n_samples)]
    sources : dict of str to np.ndarray
        Tag to a recording of it (:func:`mix_source`).
    sample_rate : int
    taggers : dict of str to Tagger
    levels : iterable of float
        Source levels against the clip, LU.

    Returns
    -------
    rises : dict of str to dict of float to dict of str to float
        Tag to level to {judge: logit of the mix − logit of the clip}, for the judges
        that have the tag (:func:`tagger_logits`).
    """
    tags = list(sources)
    before = tagger_logits(clip, sample_rate=sample_rate, taggers=taggers, tags=tags)
    out = {}
    for tag, source in sources.items():
        out[tag] = {}
        for level in levels:
            mix = mix_source(clip, source, sample_rate=sample_rate, level_db=level)
            after = tagger_logits(mix, sample_rate=sample_rate, taggers=taggers, tags=[tag])
            out[tag][float(level)] = {j: after[j][tag] - before[j][tag] for j in after}
    return out


def real_source_equivalent(dream_rise: float, source_rise: float, *, least: float = 0.1) -> float | None:
    """A dream's rise of a tag's logit over the rise a recorded source gives (at :data:`YARDSTICK_DB`).

    Returns None when the source itself raised the logit by less than ``least``: a judge
    that does not hear the real instrument gives no yardstick.
    """
    return None if not source_rise >= least else float(dream_rise / source_rise)
