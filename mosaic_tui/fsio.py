"""Atomic file replacement, the one way the program writes a file that must never be half-written.

Plans, journals and exports are written to a temporary file in the same directory, flushed to
disk, then renamed over the target, and the directory itself is synced so the rename survives a
power cut. A reader (or a restarted run after a crash) therefore sees either the old file or the
new one, never a mixture.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from pathlib import Path

SECRET_MODE = 0o600
PUBLIC_MODE = 0o644


def atomic_write(path: str | os.PathLike[str], data: bytes, *, secret: bool = False) -> Path:
    """Replace `path` with `data` atomically; mode 0600 when `secret`, else 0644."""
    target = Path(path)
    directory = target.parent if str(target.parent) else Path(".")
    directory.mkdir(parents=True, exist_ok=True)
    # mkstemp creates the file 0600 from the start, so a secret is never readable by others, not
    # even for the moment between creating and renaming.
    fd, temp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=directory)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fchmod(handle.fileno(), SECRET_MODE if secret else PUBLIC_MODE)
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temp_name)
        raise
    _sync_directory(directory)
    return target


def _sync_directory(directory: Path) -> None:
    try:
        dir_fd = os.open(directory, os.O_RDONLY)
    except OSError:  # some filesystems do not let a directory be opened; the rename still happened
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(dir_fd)
    finally:
        os.close(dir_fd)
