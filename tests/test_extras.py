"""Optional dependencies: a missing extra is a MissingExtraError that names it."""

import sys

import pytest

from auditory_deepdream.errors import AuditoryDeepDreamError, MissingExtraError
from auditory_deepdream.extras import require


def test_require_imports_what_is_installed():
    import json

    assert require("json", extra="train", needed_for="Nothing") is json


def test_a_missing_package_names_the_extra_that_installs_it():
    with pytest.raises(MissingExtraError, match=r'pip install "auditory-deepdream\[cluster\]"') as err:
        require("no_such_package_anywhere", extra="cluster", needed_for="Running jobs on a Dask cluster")
    assert isinstance(err.value, AuditoryDeepDreamError) and isinstance(err.value, ImportError)
    assert str(err.value).startswith("Running jobs on a Dask cluster needs the package 'no_such_package_anywhere'")


def test_a_dask_cluster_without_distributed_says_to_install_the_cluster_extra(monkeypatch):
    from auditory_deepdream.cluster import dask_client

    monkeypatch.setitem(sys.modules, "distributed", None)  # as if not installed
    with pytest.raises(MissingExtraError, match=r"auditory-deepdream\[cluster\]"):
        with dask_client(announce=None):
            pass


def test_the_search_and_the_run_log_without_their_packages_say_to_install_the_train_extra(monkeypatch, tmp_path):
    import importlib

    from auditory_deepdream.training.runlog import RunLog

    search = importlib.import_module("auditory_deepdream.training.search")  # the package's `search` is the function

    monkeypatch.setitem(sys.modules, "bayes_opt", None)
    with pytest.raises(MissingExtraError, match=r"auditory-deepdream\[train\]"):
        search._acquisition("ucb")
    monkeypatch.setitem(sys.modules, "aim", None)
    with pytest.raises(MissingExtraError, match=r"auditory-deepdream\[train\]"):
        RunLog(tmp_path, model_id=0, experiment="test")._open_aim_run()
