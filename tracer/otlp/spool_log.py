"""The spool's log: each accepted request body appended to one open file as a frame, and
made durable with one ``fdatasync`` before it is answered.

A frame is a 16-byte header (magic, body length, the body's CRC-32, the header's own
CRC-32) and the body. Appending to an open file needs no rename and no folder fsync: the
folder is synced only when a new log starts (its name must survive a crash too). Requests
that arrive while a sync runs share the next one (group commit).

A log is deleted once every frame in it has been converted and it takes no more (it is
retired when full, when the worker has converted all of it, or at stop); a log holding a
frame whose conversion could not be written is kept for the next receiver. A receiver
holds an exclusive ``flock`` on each of its logs, so another receiver starting on the same
store leaves them alone; after a crash the lock is gone and the next receiver reads them
back (``recover``): whole frames are converted, a frame
whose body does not match its checksum is set aside in ``corrupt/``, and a torn tail (a
write the crash cut short; never answered, since nothing is answered before its sync) in
``torn/``, each named in a warning.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import time
import uuid
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from tracer.store.private import private_dir
from tracer.store.segments import FSYNC_ENV

try:
    import fcntl
except ImportError:  # Windows: no flock; one receiver per store is then the user's care
    fcntl = None  # type: ignore[assignment]

logger = logging.getLogger("baton.collect")

LOG_SUFFIX = ".log"
MAGIC = b"BTN1"
_FIELDS = struct.Struct("<4sII")  # magic, body length, CRC-32 of the body
_HEADER_CRC = struct.Struct("<I")  # CRC-32 of the fields above
HEADER_SIZE = _FIELDS.size + _HEADER_CRC.size
#: A log past this size takes no more frames; the next request starts a new one.
ROTATE_BYTES = 32 * 1024 * 1024
#: Where frames that fail their checksum go, and torn tails (beside the store's segments).
CORRUPT_DIR = "corrupt"
TORN_DIR = "torn"

_TORN = "are a torn tail: a write cut short, so never acknowledged"
_DAMAGED = "do not match their checksum: damaged on the disk"

#: Makes a file's (or a folder's) written data durable, given its descriptor.
Sync = Callable[[int], None]


def _fsync_wanted() -> bool:
    return os.environ.get(FSYNC_ENV, "1").strip().lower() not in ("0", "false", "no", "off")


def sync_data(fd: int) -> None:
    """A log's appended frames (and its size) to the disk; skipped with ``BATON_FSYNC=0``."""
    if _fsync_wanted():
        getattr(os, "fdatasync", os.fsync)(fd)  # macOS and Windows have fsync only


def sync_folder(fd: int) -> None:
    """A folder's entries to the disk; skipped with ``BATON_FSYNC=0``."""
    if _fsync_wanted():
        os.fsync(fd)


def frame_header(body: bytes | memoryview) -> bytes:
    fields = _FIELDS.pack(MAGIC, len(body), zlib.crc32(body))
    return fields + _HEADER_CRC.pack(zlib.crc32(fields))


class SpoolWriteError(OSError):
    """A body could not be made durable in the log (answered 503: the sender retries)."""


@dataclass(eq=False)
class Log:
    """One log file, open for reading back (and, while it is the current one, appending)."""

    path: Path
    fd: int
    size: int = 0  # bytes of whole frames
    unconverted: int = 0  # frames written and not yet converted (or given up on)
    sealed: bool = False  # takes no more frames
    keep: bool = False  # a conversion failed: left on disk for the next receiver


@dataclass(frozen=True)
class Frame:
    """Where one body lies in a log."""

    log: Log
    offset: int  # of the body
    size: int
    crc: int


class SpoolLog:
    """Appends bodies durably (``append``), reads them back (``read``), and deletes logs
    once converted (``converted``)."""

    def __init__(
        self,
        directory: Path,
        *,
        sync_file: Sync = sync_data,
        sync_dir: Sync = sync_folder,
        rotate_bytes: int = ROTATE_BYTES,
    ) -> None:
        self.directory = directory
        self.sync_file = sync_file
        self.sync_dir = sync_dir
        self.rotate_bytes = rotate_bytes
        self._lock = threading.Condition()
        self._current: Log | None = None
        self._logs: list[Log] = []  # ours, not yet deleted
        self._written = 0  # frames written to logs, ever (numbers the frames)
        self._synced = 0  # frames known durable: every frame numbered up to this
        self._failed = 0  # frames whose sync failed: every frame numbered up to this
        self._syncing = False

    # -- appending -----------------------------------------------------------------------

    def append(self, body: bytes) -> Frame:
        """Append ``body`` as a frame; returns once it is on the disk. Raises
        ``SpoolWriteError`` if it could not be written or synced (nothing then counts
        it as accepted; the log it was in takes no more frames)."""
        header = frame_header(body)
        with self._lock:
            log = self._writable()
            start = log.size
            try:
                _write_all(log.fd, header, body)
            except OSError as exc:
                self._give_up(log, start)
                raise SpoolWriteError(
                    exc.errno, f"{exc.strerror}, appending to {log.path}"
                ) from exc
            log.size += len(header) + len(body)
            log.unconverted += 1
            self._written += 1
            mine = self._written
            frame = Frame(log, start + HEADER_SIZE, len(body), zlib.crc32(body))
            self._wait_durable(mine, log)
            return frame

    def _wait_durable(self, mine: int, log: Log) -> None:
        """Wait (holding the lock, which the wait and the sync release) until frame
        number ``mine`` is synced: by this thread, or by one whose sync started after it
        was written (group commit)."""
        while self._synced < mine:
            if self._failed >= mine:
                log.unconverted -= 1
                raise SpoolWriteError(f"could not make {log.path} durable")
            if self._syncing:
                self._lock.wait()
                continue
            target = self._written
            syncing = self._current
            assert syncing is not None  # the frame just written is in the current log
            self._syncing = True
            self._lock.release()
            problem: OSError | None = None
            try:
                self.sync_file(syncing.fd)
            except OSError as exc:
                problem = exc
            finally:
                self._lock.acquire()
                self._syncing = False
                self._lock.notify_all()
            if problem is not None:
                # Whatever was written to this log since its last good sync is in doubt:
                # all of it fails, and no frame goes there again.
                self._failed = self._written
                syncing.sealed = True
                log.unconverted -= 1
                raise SpoolWriteError(
                    problem.errno, f"{problem.strerror}, syncing {syncing.path}"
                ) from problem
            self._synced = max(self._synced, target)

    def _writable(self) -> Log:
        """The log to append to, a new one if the current one is full or sealed."""
        current = self._current
        if current is not None and not current.sealed and current.size < self.rotate_bytes:
            return current
        if current is not None:
            self._retire(current)
        return self._new_log()

    def _retire(self, log: Log) -> None:
        """Take ``log`` out of appending: its written frames synced first (they may belong
        to requests still waiting for a sync), deleted if nothing in it waits."""
        while self._syncing:
            self._lock.wait()
        if self._synced < self._written and self._failed < self._written:
            try:
                self.sync_file(log.fd)
                self._synced = self._written
            except OSError:
                self._failed = self._written
        log.sealed = True
        self._current = None
        self._lock.notify_all()
        self._delete_if_done(log)

    def _new_log(self) -> Log:
        name = f"{time.time_ns():020d}-{os.getpid()}-{uuid.uuid4().hex[:12]}{LOG_SUFFIX}"
        path = self.directory / name
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o600)
        except OSError as exc:
            raise SpoolWriteError(
                exc.errno, f"{exc.strerror}, starting a log in {self.directory}"
            ) from exc
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            self._sync_directory(
                self.directory
            )  # the new name, before any frame in it is acknowledged
        except OSError as exc:
            os.close(fd)
            with contextlib.suppress(OSError):
                path.unlink()
            raise SpoolWriteError(exc.errno, f"{exc.strerror}, starting {path}") from exc
        log = Log(path, fd)
        self._logs.append(log)
        self._current = log
        return log

    def _sync_directory(self, folder: Path) -> None:
        try:
            fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
        except PermissionError:  # a platform where folders cannot be opened (Windows)
            return
        try:
            self.sync_dir(fd)
        finally:
            os.close(fd)

    def _give_up(self, log: Log, start: int) -> None:
        """A frame could not be written whole: cut it off and append nothing more to
        ``log`` (if the cut fails too, recovery finds it as a torn tail)."""
        with contextlib.suppress(OSError):
            os.ftruncate(log.fd, start)
        log.sealed = True

    # -- reading back and deleting -------------------------------------------------------

    def read(self, frame: Frame) -> bytes:
        """The body of ``frame``, as written; raises ``ValueError`` if the disk gave back
        something else."""
        body = _pread(frame.log, frame.size, frame.offset)
        if len(body) != frame.size or zlib.crc32(body) != frame.crc:
            raise ValueError(f"the frame at {frame.offset} of {frame.log.path} changed on disk")
        return body

    def converted(self, frames: list[Frame], *, keep: bool = False) -> None:
        """``frames`` are converted (or, with ``keep``, could not be: their logs stay on
        disk for the next receiver); delete the logs that hold nothing more."""
        with self._lock:
            for frame in frames:
                frame.log.unconverted -= 1
                frame.log.keep = frame.log.keep or keep
            for log in {id(f.log): f.log for f in frames}.values():
                self._delete_if_done(log)

    def set_aside(self, frame: Frame, why: str) -> None:
        """``frame`` cannot be converted: copy it to ``corrupt/``, and count it done."""
        self._set_aside(
            frame.log, frame.offset - HEADER_SIZE, HEADER_SIZE + frame.size, CORRUPT_DIR, why
        )
        self.converted([frame])

    def seal_if_drained(self) -> None:
        """When every frame of the current log is converted, retire it (deleting it), so
        that a crash later has nothing already converted to read back."""
        with self._lock:
            current = self._current
            if current is not None and current.unconverted == 0 and not self._syncing:
                self._retire(current)

    def _delete_if_done(self, log: Log) -> None:
        if not log.sealed or log.unconverted > 0:
            return
        if not log.keep:
            with contextlib.suppress(FileNotFoundError):
                log.path.unlink()  # before the lock goes with the descriptor
        with contextlib.suppress(OSError):
            os.close(log.fd)
        with contextlib.suppress(ValueError):
            self._logs.remove(log)

    def close(self) -> None:
        """Retire the current log; close every log (those with frames not converted stay)."""
        with self._lock:
            if self._current is not None:
                self._retire(self._current)
            for log in list(self._logs):
                log.sealed = True
                log.keep = log.keep or log.unconverted > 0
                log.unconverted = 0
                self._delete_if_done(log)

    # -- recovery ------------------------------------------------------------------------

    def recover(self) -> Iterator[Frame]:
        """The whole frames of logs left by receivers that are gone, oldest first (logs a
        live receiver holds are skipped). Each log is ours from then on: it is deleted
        once its frames are converted."""
        names = sorted(p for p in self.directory.iterdir() if p.name.endswith(LOG_SUFFIX))
        for path in names:
            try:
                fd = os.open(path, os.O_RDWR)
            except FileNotFoundError:
                continue
            try:
                _lock(fd)
            except BlockingIOError:  # another receiver's, still running
                os.close(fd)
                continue
            log = Log(path, fd, sealed=True)
            with self._lock:
                self._logs.append(log)
            frames = list(self._frames_of(log))
            with self._lock:
                log.unconverted = len(frames)
                self._delete_if_done(log)  # a log with no whole frame
            yield from frames

    def _frames_of(self, log: Log) -> Iterator[Frame]:
        end = os.fstat(log.fd).st_size
        offset = 0
        while offset < end:
            head = _pread(log, HEADER_SIZE, offset)
            fields, header_crc = head[: _FIELDS.size], head[_FIELDS.size :]
            if (
                len(head) < HEADER_SIZE
                or zlib.crc32(fields) != _HEADER_CRC.unpack(header_crc)[0]
                or _FIELDS.unpack(fields)[0] != MAGIC
                or offset + HEADER_SIZE + _FIELDS.unpack(fields)[1] > end
            ):
                self._set_aside(log, offset, end - offset, TORN_DIR, _TORN)
                return
            _, size, crc = _FIELDS.unpack(fields)
            body = _pread(log, size, offset + HEADER_SIZE)
            if zlib.crc32(body) == crc:
                yield Frame(log, offset + HEADER_SIZE, size, crc)
            else:
                self._set_aside(log, offset, HEADER_SIZE + size, CORRUPT_DIR, _DAMAGED)
            offset += HEADER_SIZE + size

    def _set_aside(self, log: Log, offset: int, size: int, where: str, why: str) -> None:
        """Copy ``size`` bytes of ``log`` from ``offset`` into ``incoming/<where>``,
        durably, and say so."""
        folder = private_dir(self.directory.parent / where)
        target = folder / f"{log.path.name}.at-{offset}"
        data = _pread(log, size, offset)
        fd = os.open(target, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        try:
            _write_all(fd, data, b"")
            self.sync_file(fd)
        finally:
            os.close(fd)
        self._sync_directory(folder)
        logger.warning(
            "%s: %d bytes at byte %d %s; copied them to %s", log.path, size, offset, why, target
        )


def _lock(fd: int) -> None:
    """Hold ``fd``'s file for this process (released when it closes, or the process dies);
    raises ``BlockingIOError`` if another holds it."""
    if fcntl is not None:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)


def _pread(log: Log, size: int, offset: int) -> bytes:
    if hasattr(os, "pread"):
        return os.pread(log.fd, size, offset)
    with log.path.open("rb") as file:  # Windows
        file.seek(offset)
        return file.read(size)


def _write_all(fd: int, header: bytes, body: bytes) -> None:
    """Write ``header`` and ``body`` at the end of ``fd`` (a short write is continued)."""
    written = (
        os.writev(fd, [header, body]) if hasattr(os, "writev") else os.write(fd, header + body)
    )
    total = len(header) + len(body)
    if written < total:
        rest = memoryview(header + body)[written:]  # rare: only a short write copies
        while rest:
            rest = rest[os.write(fd, rest) :]
