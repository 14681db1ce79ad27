"""The store's incoming folder: segment files that recorders write and absorbs read.

A file appears under a temporary name and is renamed into place, so a reader sees a
whole file or none; names sort by creation time and are unique across processes.
"""

from __future__ import annotations

import contextlib
import logging
import os
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from tracer.store.private import private_dir, private_file

if TYPE_CHECKING:
    import pyarrow as pa

logger = logging.getLogger("baton.store")

SEGMENT_SUFFIX = ".arrow"
_TMP_SUFFIX = ".tmp"
_STALE_TMP_SECONDS = 3600.0
_WRITE_BUFFER_BYTES = 1 << 20


def write_new_file(directory: Path, suffix: str, write: Callable[[Path], object]) -> Path:
    """A new file in ``directory``, named to sort by creation time and unique across
    processes, that ``write`` fills under a temporary name before it is renamed into place:
    readers see the whole file or none of it. File and rename are on the disk (fsync)
    before this returns, so what it returns survives a crash or a power loss."""
    name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:12]}{suffix}"
    final = directory / name
    tmp = final.with_name(name + _TMP_SUFFIX)
    write(tmp)
    private_file(tmp)
    durable(tmp)
    os.replace(tmp, final)
    durable(directory)  # the rename itself, so an acknowledged file survives power loss
    return final


FSYNC_ENV = "BATON_FSYNC"


def durable(path: Path) -> None:
    """fsync ``path`` (a file's data, or a folder's entries) to the disk; skipped with
    ``BATON_FSYNC=0``, for throwaway stores where a power loss does not matter."""
    if os.environ.get(FSYNC_ENV, "1").strip().lower() in ("0", "false", "no", "off"):
        return
    flags = os.O_RDONLY | getattr(os, "O_DIRECTORY", 0) if path.is_dir() else os.O_RDONLY
    try:
        fd = os.open(path, flags)
    except OSError:  # a platform where folders cannot be opened (Windows)
        return
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_segment(incoming: Path, table: pa.Table) -> Path:
    """``table`` as a new segment file in ``incoming``."""
    import pyarrow as pa  # here, not at the top: listing the folder (every read) needs none

    private_dir(incoming)

    def write(tmp: Path) -> None:
        # Buffered: the IPC writer hands over each column's buffers and paddings apart, a
        # system call each (hundreds a batch); the bytes written are the same.
        with (
            pa.OSFile(str(tmp), "wb") as raw,
            pa.BufferedOutputStream(raw, _WRITE_BUFFER_BYTES) as sink,
            pa.ipc.new_file(sink, table.schema) as out,
        ):
            out.write_table(table)

    return write_new_file(incoming, SEGMENT_SUFFIX, write)


def read_segment(path: Path) -> pa.Table:
    """One segment file as an Arrow table."""
    import pyarrow as pa

    with pa.OSFile(str(path), "rb") as source:
        return pa.ipc.open_file(source).read_all()


def pending(incoming: Path) -> list[Path]:
    """The segments in ``incoming``, oldest first."""
    try:
        names = sorted(
            entry.name
            for entry in os.scandir(incoming)
            if entry.name.endswith(SEGMENT_SUFFIX) and entry.is_file()
        )
    except (FileNotFoundError, NotADirectoryError):
        return []
    return [incoming / name for name in names]


def set_aside(incoming: Path, path: Path, reason: str) -> Path:
    """Move a file that cannot be read into ``incoming/corrupt``, where it blocks nothing
    and can be looked at; returns where."""
    target_dir = private_dir(incoming / "corrupt")
    target = target_dir / path.name
    with contextlib.suppress(FileNotFoundError):
        os.replace(path, target)
    logger.warning("%s is unreadable (%s); moved it to %s", path, reason, target)
    return target


def clear_stale_tmp(incoming: Path) -> None:
    """Delete temporary files left by recorders killed mid-write, once they are old
    enough that no writer can still be on them."""
    cutoff = time.time() - _STALE_TMP_SECONDS
    try:
        entries = list(os.scandir(incoming))
    except FileNotFoundError:
        return
    for entry in entries:
        if not entry.name.endswith(_TMP_SUFFIX):
            continue
        try:
            if entry.stat().st_mtime < cutoff:
                Path(entry.path).unlink(missing_ok=True)
        except FileNotFoundError:  # its writer renamed it meanwhile
            continue
