"""Tagger judges: musicnn's taggers scoring a clip's tags, and the margins of tag dreams."""

import librosa
import numpy as np
import pytest

from auditory_deepdream import audio
from pathlib import Path

from auditory_deepdream.dreamer import (
    SHARED_TAGS,
    SOURCE_LEVELS_DB,
    TAGGERS,
    judge_tag,
    load_taggers,
    mix_source,
    real_source_equivalent,
    source_rises,
    tag_control_margins,
    tag_other_margins,
    tagger_logits,
)
from auditory_deepdream.errors import AudioInputError, DreamError, ModelError
from auditory_deepdream.models import musicnn

SR = 22_050


@pytest.fixture(scope="module")
def taggers():
    return load_taggers()


@pytest.fixture(scope="module")
def notes():
    """The bundled piano and cello notes at 22.05 kHz (3 s each)."""
    return {n: librosa.load(audio.example_clip(n), sr=SR)[0] for n in ("piano_E4", "cello_C3")}


def test_the_four_taggers_load_with_fifty_tags_and_logit_outputs(taggers):
    assert list(taggers) == list(TAGGERS)
    for name, judge in taggers.items():
        assert judge.name == name and len(judge.classes) == 50
        assert judge.logits.output.shape[-1] == 50
        assert judge.logits.layers[-1].name == "tags"  # the Dense before the sigmoid
    assert "piano" in taggers["vgg-mtt"].classes and "piano" not in taggers["vgg-msd"].classes


def test_logits_are_finite_one_per_tag_and_judge(taggers, notes):
    every = tagger_logits(notes["piano_E4"], sample_rate=SR, taggers=taggers)
    assert list(every) == list(TAGGERS)
    for name, scores in every.items():
        assert list(scores) == list(taggers[name].classes)
        assert np.all(np.isfinite(list(scores.values())))
    some = tagger_logits(notes["piano_E4"], sample_rate=SR, taggers=taggers, tags=["piano", "female vocal"])
    assert some["vgg-mtt"] == {"piano": every["vgg-mtt"]["piano"], "female vocal": every["vgg-mtt"]["female vocal"]}
    # an MSD judge scores 'female vocal' by its pair and has no piano, so it skips it
    assert some["vgg-msd"] == {"female vocal": every["vgg-msd"]["female vocalists"]}


def test_a_judge_with_none_of_the_tags_is_left_out_and_a_tag_nobody_has_is_refused(taggers, notes):
    only_mtt = tagger_logits(notes["cello_C3"], sample_rate=SR, taggers=taggers, tags=["cello"])
    assert set(only_mtt) == {"musicnn-mtt", "vgg-mtt"}
    with pytest.raises(ModelError, match="kazoo"):
        tagger_logits(notes["cello_C3"], sample_rate=SR, taggers=taggers, tags=["kazoo"])


def test_a_piano_note_is_more_piano_than_a_cello_note(taggers, notes):
    judge = {"musicnn-mtt": taggers["musicnn-mtt"]}
    piano, cello = (tagger_logits(notes[n], sample_rate=SR, taggers=judge, tags=["piano"])["musicnn-mtt"]["piano"]
                    for n in ("piano_E4", "cello_C3"))
    assert piano > cello + 1.0  # about -1.8 against -4.7


def test_a_score_is_the_mean_of_the_patch_logits_and_stereo_is_mixed(taggers, notes):
    y16 = audio.load_audio(audio.example_clip("piano_E4"), settings=musicnn.SETTINGS)
    y16 = np.concatenate([y16, y16[::-1]])  # two different halves: patches that disagree
    judge = {"vgg-mtt": taggers["vgg-mtt"]}
    got = tagger_logits(y16, sample_rate=16_000, taggers=judge, tags=["piano"])["vgg-mtt"]["piano"]
    p = musicnn.taggram(y16, model="vgg-mtt", input_overlap=1.0)[:, taggers["vgg-mtt"].classes.index("piano")]
    assert len(p) > 1 and np.ptp(p) > 0.05
    assert got == pytest.approx(np.mean(np.log(p / (1 - p))), abs=1e-3)
    stereo = tagger_logits(np.stack([y16, y16]), sample_rate=16_000, taggers=judge, tags=["piano"])
    assert stereo["vgg-mtt"]["piano"] == pytest.approx(got, abs=1e-6)


def test_judge_tag_uses_the_shared_pairs_both_ways():
    mtt, msd = musicnn._labels("MTT_musicnn"), musicnn._labels("MSD_musicnn")
    assert judge_tag("female vocal", msd) == "female vocalists"
    assert judge_tag("female vocalists", mtt) == "female vocal"
    assert judge_tag("guitar", msd) == "guitar"
    assert judge_tag("piano", msd) is None
    assert all(a in mtt and b in msd for a, b in SHARED_TAGS.items())


def test_other_margins_by_hand_with_a_judge_that_lacks_a_target():
    # logits of tags of three dreams of one clip; judge "msd" has no piano
    dreams = {
        "piano": {"mtt": {"piano": 2.0, "guitar": -1.0, "rock": 0.0}, "msd": {"guitar": -2.0, "rock": 1.0}},
        "guitar": {"mtt": {"piano": 0.0, "guitar": 1.0, "rock": -1.0}, "msd": {"guitar": 0.5, "rock": 0.0}},
        "rock": {"mtt": {"piano": -1.0, "guitar": -2.0, "rock": 3.0}, "msd": {"guitar": -1.0, "rock": -0.5}},
    }
    m = tag_other_margins(dreams)
    assert m["piano"] == {"mtt": pytest.approx(2.0 - (0.0 - 1.0) / 2)}
    assert m["guitar"] == {"mtt": pytest.approx(1.0 - (-1.0 - 2.0) / 2), "msd": pytest.approx(0.5 - (-1.0))}
    assert m["rock"] == {"mtt": pytest.approx(3.0 - (0.0 - 1.0) / 2), "msd": pytest.approx(-0.5 - 0.0)}
    # a judge with one target left gives no margin at all
    lonely = {t: {"msd": {"guitar": d["msd"]["guitar"]}} for t, d in dreams.items()}
    assert tag_other_margins(lonely) == {t: {} for t in dreams}


def test_other_margins_refuse_a_single_target():
    with pytest.raises(DreamError, match="at least two"):
        tag_other_margins({"piano": {"mtt": {"piano": 1.0}}})


def test_control_margins_by_hand_and_a_judge_that_lacks_the_target():
    x = {"mtt": {"piano": -3.0}, "msd": {"guitar": -2.0}}
    d = {"mtt": {"piano": 1.0}, "msd": {"guitar": 0.0}}
    c = {"mtt": {"piano": -1.5}, "msd": {"guitar": 1.0}}
    assert tag_control_margins(x, d, c, target="piano") == {"mtt": pytest.approx(4.0 - 1.5)}
    assert tag_control_margins(x, d, c, target="guitar") == {"msd": pytest.approx(2.0 - 3.0)}


# ------------------------------------------------------------------ a recorded source as yardstick
GUITAR = Path(__file__).parent / "fixtures" / "guitar_acoustic_E3.ogg"  # a real note (tests/fixtures/README.md)


@pytest.fixture(scope="module")
def guitar():
    return librosa.load(GUITAR, sr=SR)[0]


def test_a_source_is_mixed_at_its_level_under_the_clip_and_the_mix_at_the_clips_loudness(notes, guitar):
    clip = np.stack([notes["piano_E4"], 0.5 * notes["piano_E4"]])
    lufs = audio.integrated_loudness(clip, sample_rate=SR)
    for level in SOURCE_LEVELS_DB:
        mix = mix_source(clip, guitar, sample_rate=SR, level_db=level)
        assert mix.shape == clip.shape and mix.dtype == np.float32
        assert audio.integrated_loudness(mix, sample_rate=SR) == pytest.approx(lufs, abs=0.15)
    # what was added, before the mix's level match, sits level_db under the clip
    quiet, loud = (mix_source(clip, guitar, sample_rate=SR, level_db=lv) for lv in (-12.0, 0.0))
    assert np.sum((quiet - clip) ** 2) < np.sum((loud - clip) ** 2)
    with pytest.raises(AudioInputError, match="silent"):
        mix_source(clip, np.zeros_like(guitar), sample_rate=SR, level_db=-6.0)


def test_a_real_guitar_raises_the_guitar_logit_more_the_louder_it_is(taggers, notes, guitar):
    judges = {n: taggers[n] for n in ("vgg-mtt", "vgg-msd")}
    rises = source_rises(notes["cello_C3"], {"guitar": guitar}, sample_rate=SR, taggers=judges)
    assert list(rises["guitar"]) == list(SOURCE_LEVELS_DB)
    mtt = rises["guitar"]
    assert mtt[0.0]["vgg-mtt"] > mtt[-12.0]["vgg-mtt"] and mtt[0.0]["vgg-mtt"] > 0.5
    assert set(mtt[-6.0]) == {"vgg-mtt", "vgg-msd"}  # MSD names it too


def test_the_real_source_equivalent_is_the_dreams_rise_over_the_sources():
    assert real_source_equivalent(1.5, 3.0) == pytest.approx(0.5)
    assert real_source_equivalent(-0.3, 1.0) == pytest.approx(-0.3)
    assert real_source_equivalent(1.0, 0.05) is None and real_source_equivalent(1.0, -1.0) is None
