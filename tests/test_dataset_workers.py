"""Where the renders and encodes run: here with one job, on a Dask cluster with more."""

import os

import pytest

from auditory_deepdream.cluster import dask_client
from auditory_deepdream.dataset.workers import map_jobs


def _pid_and_square(x):
    return os.getpid(), x * x


def test_one_job_runs_here_in_task_order():
    out = list(map_jobs(_pid_and_square, range(5), jobs=1))
    assert out == [(x, (os.getpid(), x * x)) for x in range(5)]


def test_a_single_task_runs_here():
    assert list(map_jobs(_pid_and_square, [3], jobs=4)) == [(3, (os.getpid(), 9))]


@pytest.mark.parametrize("use_client", [False, True])
def test_more_jobs_run_on_a_cluster_and_every_result_comes_back(use_client):
    lines = []
    if use_client:
        with dask_client(n_workers=2, announce=None) as client:
            out = dict(map_jobs(_pid_and_square, range(7), client=client))
    else:
        out = dict(map_jobs(_pid_and_square, range(7), jobs=2, announce=lines.append))
        assert len(lines) == 1 and "dashboard" in lines[0]
    assert {x: sq for x, (_, sq) in out.items()} == {x: x * x for x in range(7)}
    assert os.getpid() not in {pid for pid, _ in out.values()}
