"""The ontology table and its application to real-layout notes tables."""

import logging

import pandas as pd
import pytest
from dataset_fixtures import source_trees

from auditory_deepdream.dataset import (
    apply_ontology,
    kept_programs,
    load_ontology,
    read_nsynth,
    read_philharmonia,
)
from auditory_deepdream.errors import DatasetError


@pytest.fixture(scope="module")
def trees(tmp_path_factory):
    return source_trees(tmp_path_factory.getbasetemp() / "dataset-trees" / "sources")


def test_ontology_follows_the_dissertation():
    table = load_ontology()
    fam = {(r.source, r.label, r.instrument_source): r.family for r in table.itertuples()}
    assert fam["nsynth", "keyboard", "acoustic"] == "piano"
    assert fam["nsynth", "keyboard", "electronic"] == "" and fam["nsynth", "keyboard", "synthetic"] == ""
    assert all(fam["nsynth", "mallet", s] == "" for s in ("acoustic", "electronic", "synthetic"))
    assert fam["nsynth", "guitar", "synthetic"] == "" and fam["nsynth", "guitar", "electronic"] == "guitar"
    assert fam["philharmonia", "banjo", "acoustic"] == "" and fam["philharmonia", "mandolin", "acoustic"] == ""
    for label in ("violin", "viola", "cello", "double-bass"):
        assert fam["philharmonia", label, "acoustic"] == "string"
    for label in ("bass-clarinet", "bassoon", "clarinet", "contrabassoon", "cor-anglais", "oboe", "saxophone"):
        assert fam["philharmonia", label, "acoustic"] == "reed"
    merged = {f for f in table.family if f}
    assert merged == {"bass", "brass", "flute", "guitar", "organ", "piano", "reed", "string",
                      "synth_lead", "vocal"}


def test_load_ontology_refuses_bad_tables(tmp_path):
    (tmp_path / "cols.csv").write_text("source,label,family\nnsynth,flute,flute\n")
    with pytest.raises(DatasetError, match="needs columns"):
        load_ontology(tmp_path / "cols.csv")
    (tmp_path / "dup.csv").write_text("source,label,instrument_source,family\n"
                                      "nsynth,flute,acoustic,flute\nnsynth,flute,acoustic,reed\n")
    with pytest.raises(DatasetError, match="twice"):
        load_ontology(tmp_path / "dup.csv")
    with pytest.raises(DatasetError, match="Could not read"):
        load_ontology(tmp_path / "missing.csv")


def test_apply_ontology_maps_and_omits(trees):
    notes = pd.concat([read_nsynth(trees[0]), read_philharmonia(trees[1])], ignore_index=True)
    kept = apply_ontology(notes)
    by_label = kept.groupby(["source", "label", "instrument_source"]).family.first().to_dict()
    assert by_label == {("nsynth", "flute", "acoustic"): "flute",
                        ("nsynth", "guitar", "acoustic"): "guitar",
                        ("nsynth", "keyboard", "acoustic"): "piano",
                        ("nsynth", "string", "acoustic"): "string",
                        ("philharmonia", "bass-clarinet", "acoustic"): "reed",
                        ("philharmonia", "cello", "acoustic"): "string",
                        ("philharmonia", "flute", "acoustic"): "flute"}
    # an edited table: omit strings, so only the other families stay
    edited = load_ontology()
    edited.loc[edited.family == "string", "family"] = ""
    assert "string" not in set(apply_ontology(notes, ontology=edited).family)


def test_unknown_label_is_an_error_or_a_skip(trees, caplog):
    notes = read_philharmonia(trees[1])
    notes.loc[0, "label"] = "theremin"
    with pytest.raises(DatasetError, match="theremin"):
        apply_ontology(notes)
    with caplog.at_level(logging.WARNING):
        kept = apply_ontology(notes, on_unknown="skip")
    assert "theremin" in caplog.text and "theremin" not in set(kept.label)


def test_kept_programs_match_the_ontology():
    programs = set(kept_programs())
    assert {0, 1, 40, 73, 56, 80, 52, 33} <= programs
    assert not programs & {4, 5, 12, 38, 39, 105}  # electric piano, mallet, synth bass, banjo
    # pianos, organs, guitars, basses, strings, brass, reeds, pipes, synth leads, vocals
    assert len(programs) == 69 and min(programs) == 0 and max(programs) == 111
