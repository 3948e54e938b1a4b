"""Folders the system refuses to write into: a read-only disk, a full disk, no write permission.

The disks are tiny tmpfs mounts, which need root (CAP_SYS_ADMIN): where mounting is not
permitted the test is skipped and says why. Root may write anywhere regardless of a folder's
mode, so :func:`unprivileged` drops the effective user to ``nobody`` for the write.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

NOBODY = 65534
DISK_BYTES = 64 * 1024  # size of the "full" disk: any write larger than this fills it


@contextlib.contextmanager
def tmpfs(folder: Path, *, read_only: bool = False):
    """Mount a 64 KiB tmpfs on ``folder`` (read-only if asked) for the block; skip where mounting is refused."""
    folder.mkdir(parents=True, exist_ok=True)
    if shutil.which("mount") is None:
        pytest.skip("no mount command here, so no read-only or full disk can be made")
    options = f"size={DISK_BYTES}" + (",ro" if read_only else "")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(folder)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"mounting a tmpfs is not permitted here ({done.stderr.strip() or done.returncode}); "
                    "run the tests as root to check read-only and full disks")
    try:
        yield folder
    finally:
        subprocess.run(["umount", str(folder)], check=True)


@contextlib.contextmanager
def unprivileged():
    """Run the block as user ``nobody`` when this process is root (else as it is)."""
    if os.geteuid() != 0:
        yield
        return
    os.setegid(NOBODY)
    os.seteuid(NOBODY)
    try:
        yield
    finally:
        os.seteuid(0)
        os.setegid(0)


@contextlib.contextmanager
def unwritable_folder():
    """A folder that ``nobody`` may enter but not write in, in the system's temporary folder
    (pytest's own is private to its user); removed after the block."""
    folder = Path(tempfile.mkdtemp(prefix="unwritable-"))
    folder.chmod(0o555)
    try:
        yield folder
    finally:
        folder.chmod(0o755)
        shutil.rmtree(folder)
