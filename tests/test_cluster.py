"""Dask clusters: a local cluster, a two-process cluster on loopback, bad addresses, lost workers."""

import os
from pathlib import Path

import pytest

from auditory_deepdream.cluster import dask_client, run_jobs
from auditory_deepdream.errors import ClusterError


def square_pid(x):
    return x * x, os.getpid()


def die_once(marker: str):
    """Kill the worker process the first time, succeed the second (the marker remembers)."""
    if not Path(marker).exists():
        Path(marker).touch()
        os._exit(1)
    return "survived"


def always_die():
    os._exit(1)


def fail(x):
    if x == 2:
        raise ValueError(f"bad input {x}")
    return x


@pytest.fixture(scope="module")
def local():
    with dask_client(n_workers=2, announce=None) as client:
        yield client


def test_local_cluster_runs_every_job_in_worker_processes(local):
    out = dict(run_jobs(local, square_pid, {k: {"x": k} for k in range(6)}))
    assert {k: v[0] for k, v in out.items()} == {k: k * k for k in range(6)}
    assert os.getpid() not in {pid for _, pid in out.values()}


def test_announce_names_the_workers_and_the_dashboard():
    lines = []
    with dask_client(n_workers=1, announce=lines.append) as client:
        assert client.dashboard_link.startswith("http://127.0.0.1:")
    assert len(lines) == 1 and "1 workers" in lines[0] and "dashboard http://127.0.0.1:" in lines[0]


def test_a_failing_job_raises_its_own_error_after_the_others_finish(local):
    seen = []
    with pytest.raises(ValueError, match="bad input 2"):
        for key, value in run_jobs(local, fail, {k: {"x": k} for k in range(5)}):
            seen.append(key)
    assert sorted(seen) == [0, 1, 3, 4]


def test_a_lost_worker_is_retried_elsewhere(local, tmp_path):
    out = dict(run_jobs(local, die_once, {0: {"marker": str(tmp_path / "m")}}))
    assert out == {0: "survived"}


def test_a_job_that_keeps_killing_workers_is_a_cluster_error(local):
    import dask

    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        with pytest.raises(ClusterError, match="killed the Dask workers"):
            list(run_jobs(local, always_die, {0: {}}))


def test_unreachable_scheduler_is_a_clear_error():
    with pytest.raises(ClusterError, match="Cannot reach a Dask scheduler at 'tcp://127.0.0.1:9'"):
        with dask_client("tcp://127.0.0.1:9", timeout=2, announce=None):
            pass
    with pytest.raises(ClusterError, match="Cannot reach"):
        with dask_client("not an address", timeout=2, announce=None):
            pass


def test_two_process_cluster_on_loopback(two_process_cluster):
    with dask_client(two_process_cluster, timeout=60, announce=None) as client:
        out = dict(run_jobs(client, square_pid, {k: {"x": k} for k in range(3)}))
    assert {k: v[0] for k, v in out.items()} == {0: 0, 1: 1, 2: 4}
    assert len({pid for _, pid in out.values()}) == 1 and os.getpid() not in {pid for _, pid in out.values()}


def test_an_event_loop_that_fails_to_start_is_retried_then_a_cluster_error():
    from auditory_deepdream.cluster import _started

    calls = []

    def flaky():
        calls.append(1)
        assert len(calls) > 1  # distributed's LoopRunner fails this way when its thread starts late
        return "client"

    assert _started(flaky) == "client" and len(calls) == 2

    def never():
        raise AssertionError

    with pytest.raises(ClusterError, match="event-loop thread did not start in 3 tries"):
        _started(never)
