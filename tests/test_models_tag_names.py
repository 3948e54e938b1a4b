"""The MTT <-> MSD tag table: its rows, a tag's counterparts, and the matrix a cross-data ensemble uses."""

import musicnn.configuration as labels
import numpy as np
import pytest

from auditory_deepdream.dreamer.tag_judges import SHARED_TAGS
from auditory_deepdream.models.tag_names import RELATIONS, counterparts, tag_map, tag_pairs


def test_every_row_names_a_real_mtt_tag_and_a_real_msd_tag_once():
    rows = tag_pairs()
    assert len(rows) >= 30 and len(set(rows)) == len(rows)
    for r in rows:
        assert r.mtt in labels.MTT_LABELS and r.msd in labels.MSD_LABELS and r.relation in RELATIONS
    # the judges' one-to-one pairs are all 'same' rows of the table
    same = {(r.mtt, r.msd) for r in rows if r.relation == "same"}
    assert set(SHARED_TAGS.items()) <= same


def test_counterparts_go_both_ways_and_many_to_many():
    assert counterparts("female vocal") == ["female vocalists", "female vocalist"]
    assert counterparts("electronic", relations=("same",)) == ["electronic", "electronica"]
    assert "electro" in counterparts("electronic")
    assert set(counterparts("female vocalists")) >= {"female vocal", "female voice", "female", "woman"}
    assert counterparts("electronica") == ["electronic"]
    assert counterparts("piano") == [] and counterparts("80s") == []


def test_tag_map_carries_a_members_logits_into_the_leads_tags():
    lead = ["piano", "female vocal", "electronic", "rock"]
    member = ["rock", "female vocalists", "electronic", "electronica", "80s", "female vocalist"]
    w = tag_map(lead, member, relations=("same",))
    assert w.shape == (6, 4) and w.dtype == np.float32
    logits = np.array([[1.0, 2.0, 3.0, 5.0, 7.0, 4.0]])
    np.testing.assert_allclose(logits @ w, [[0.0, 3.0, 3.0, 1.0]])  # piano: no column; electronic: itself
    np.testing.assert_allclose(w.sum(axis=0), [0.0, 1.0, 1.0, 1.0])
    assert tag_map(lead, lead).tolist() == np.eye(4).tolist()


@pytest.mark.parametrize("tag", ["guitar", "rock", "ambient"])
def test_a_tag_both_vocabularies_have_maps_to_itself(tag):
    w = tag_map([tag], list(labels.MSD_LABELS))
    assert w[list(labels.MSD_LABELS).index(tag), 0] == 1.0 and w.sum() == 1.0
