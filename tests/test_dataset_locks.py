"""The folder lock of builds and renders: refused at once while held, free once its holder dies."""

import os
import re
import subprocess
import sys

import pytest

from auditory_deepdream.dataset import StoreWriter
from auditory_deepdream.dataset.locks import LOCK_FILE, folder_lock
from auditory_deepdream.errors import DatasetError

HOLD = """
import sys, time
from auditory_deepdream.dataset.locks import folder_lock
with folder_lock(sys.argv[1], job="build"):
    print("held", flush=True)
    time.sleep(300)
"""


def refused(folder):
    return pytest.raises(DatasetError, match=re.escape(
        f"Cannot render into {folder}: another build or render is writing there (it holds {folder / LOCK_FILE}). "
        "Wait for it to finish, or write to another folder."))


def test_a_lock_held_by_another_process_refuses_at_once_and_dies_with_it(tmp_path):
    holder = subprocess.Popen([sys.executable, "-c", HOLD, str(tmp_path)], stdout=subprocess.PIPE, text=True,
                              env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)})
    try:
        assert holder.stdout.readline() == "held\n"
        with refused(tmp_path), folder_lock(tmp_path, job="render"):
            pass
    finally:
        holder.kill()  # no release, no cleanup: as a build killed by the OOM killer or kill -9
        holder.wait()
        holder.stdout.close()
    assert (tmp_path / LOCK_FILE).exists()  # the file stays, and blocks nothing
    with folder_lock(tmp_path, job="render"):
        with refused(tmp_path), folder_lock(tmp_path, job="render"):
            pass


def test_overwriting_a_locked_store_keeps_its_lock(tmp_path, settings):
    store = tmp_path / "store"
    with folder_lock(store, job="build"):
        (store / "index.csv").write_text("row\n")
        inode = (store / LOCK_FILE).stat().st_ino
        StoreWriter(store, settings=settings, overwrite=True)
        assert sorted(p.name for p in store.iterdir()) == [LOCK_FILE, "settings.json", "shards"]
        assert (store / LOCK_FILE).stat().st_ino == inode
        with refused(store), folder_lock(store, job="render"):
            pass
