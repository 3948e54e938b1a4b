"""The measure of meaning: agreement of dreamed and exemplified families against shuffles."""

from auditory_deepdream.atlas.meaning import agreement, dominant


def test_dominant_family_breaks_ties_by_rank():
    assert dominant(["flute", "piano", "piano"]) == "piano"
    assert dominant(["flute", "piano"]) == "flute"


def test_a_perfect_pairing_beats_its_shuffles():
    families = ["brass", "flute", "piano", "string"] * 5
    report = agreement({"conv1": [(f, f) for f in families]}, permutations=500)
    row = report["layers"]["conv1"]
    assert row["agreement"] == 1.0 and row["filters"] == 20
    assert row["baseline_mean"] < 0.4 and row["p_value"] < 0.01
    assert report["overall"]["agreement"] == 1.0


def test_a_layer_pointing_at_one_family_gets_no_credit_from_the_shuffle():
    pairs = {"conv1": [("piano", "piano")] * 10, "conv2": [("flute", "piano")] * 10}
    report = agreement(pairs, permutations=200)
    assert report["layers"]["conv1"]["agreement"] == report["layers"]["conv1"]["baseline_mean"] == 1.0
    assert report["layers"]["conv1"]["p_value"] == 1.0  # every shuffle agrees as often
    assert report["layers"]["conv2"]["agreement"] == 0.0
    assert report["overall"]["agreement"] == 0.5 and report["overall"]["filters"] == 20

