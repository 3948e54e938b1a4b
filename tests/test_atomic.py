"""Atomic writes: the system's refusals become one OutputError, nothing half-written stays, and
the temporary files of a killed writer are recognised and removed."""

import errno
import json
import os

import numpy as np
import pandas as pd
import pytest
from filesystem_faults import tmpfs, unprivileged, unwritable_folder

from auditory_deepdream import OutputError
from auditory_deepdream.atomic import (
    atomic_path,
    remove_stale_temps,
    save_keras_atomic,
    save_npy_atomic,
    write_csv_atomic,
    write_json_atomic,
    write_text_atomic,
)

BIG = {"samples": "x" * 200_000}  # more than the 64 KiB disk holds


def test_full_disk_read_only_disk_and_folder_path_are_one_error_each(tmp_path):
    with tmpfs(tmp_path / "full") as full:
        write_json_atomic(full / "meta.json", {"kept": True})
        for write in (lambda: write_json_atomic(full / "meta.json", BIG),
                      lambda: save_npy_atomic(full / "shard.npy", np.zeros(20_000)),
                      lambda: write_csv_atomic(full / "index.csv", pd.DataFrame({"row": np.arange(20_000)}))):
            with pytest.raises(OutputError, match=f"Cannot write {full}/.*: the disk holding {full} is full"):
                write()
        assert [p.name for p in full.iterdir()] == ["meta.json"]
        assert json.loads((full / "meta.json").read_text()) == {"kept": True}
    with tmpfs(tmp_path / "ro", read_only=True) as ro:
        with pytest.raises(OutputError, match=f"{ro} is on a read-only file system.*remount that one read-write"):
            write_json_atomic(ro / "meta.json", {})
        assert list(ro.iterdir()) == []
    (tmp_path / "meta.json").mkdir()
    with pytest.raises(OutputError, match="meta.json: it is an existing folder, not a file"):
        write_json_atomic(tmp_path / "meta.json", {})
    (tmp_path / "a-file").write_text("")
    with pytest.raises(OutputError, match=f"{tmp_path / 'a-file'}, is a file rather than a folder"):
        write_text_atomic(tmp_path / "a-file" / "notes.txt", "")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a-file", "full", "meta.json", "ro"]


def test_no_write_permission_is_one_error():
    with unwritable_folder() as folder:
        with unprivileged(), pytest.raises(OutputError, match=f"no permission to write in {folder}"):
            write_text_atomic(folder / "notes.txt", "hello")
        with unprivileged(), pytest.raises(OutputError, match=f"no permission to write in {folder}"):
            write_text_atomic(folder / "sub" / "notes.txt", "hello")  # the folder it would create
        assert list(folder.iterdir()) == []


def test_a_keras_model_on_a_full_disk_is_one_error(tmp_path):
    keras = pytest.importorskip("keras")
    model = keras.Sequential([keras.Input((64,)), keras.layers.Dense(256)])  # 66 KB of weights
    with tmpfs(tmp_path / "full") as full:
        with pytest.raises(OutputError, match="is full"):
            save_keras_atomic(model, full / "model.keras")
        assert list(full.iterdir()) == []


def test_a_writers_own_errors_pass_through_and_the_temporary_goes(tmp_path):
    with pytest.raises(ValueError, match="bad data"), atomic_path(tmp_path / "x.json") as tmp:
        tmp.write_text("{")
        raise ValueError("bad data")
    with pytest.raises(OutputError, match="is full"), atomic_path(tmp_path / "x.json"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    assert list(tmp_path.iterdir()) == []


def test_stale_temporaries_are_removed_and_nothing_else(tmp_path):
    kept = ["take.wav", ".hidden.wav", "take.wav.part-abcdefgh.wav", ".take.wav.part-short.wav",
            ".take.wav.part-abcdefghi.wav", ".take.wav.part-ABCDEFGH.wav"]
    for name in kept:
        (tmp_path / name).write_text("user's")
    (tmp_path / ".folder.wav.part-abcdefgh.wav").mkdir()
    kept.append(".folder.wav.part-abcdefgh.wav")
    # writers killed mid-write: their blocks never end (the open writers are kept, since closing one
    # would clean up), so their temporary files stay
    killed = [atomic_path(tmp_path / name, suffix=suffix)
              for name, suffix in (("take.wav", None), ("shard-00001.npy", ".npy"), ("README", None))]
    orphans = [writer.__enter__() for writer in killed]
    assert all(p.is_file() for p in orphans)
    assert sorted(remove_stale_temps(tmp_path)) == sorted(orphans)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(kept)
    assert remove_stale_temps(tmp_path / "missing") == []
