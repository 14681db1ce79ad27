"""The span store: one DuckDB file plus a folder of incoming segment files.

DuckDB lets one process at a time open a file for writing, so recorders never open it:
each exported batch becomes an Arrow segment file, written under a temporary name and
renamed into ``<store>.incoming/`` (``tracer.store.segments``: atomic, so a killed
recorder leaves either a whole segment or none). Whoever next opens the store for
writing absorbs the segments — resolve, insert, commit, then delete the files — so a
crash at any point leaves segments that are absorbed again, and inserting only the
(trace id, span id) pairs not stored yet keeps each span once (``tracer.store.ingest``;
the table has no key).

Every connection is short-lived and waits, with backoff, for a lock another process
holds; a user sees a clear ``StoreBusyError`` only if the wait runs out.
"""

from __future__ import annotations

import errno
import logging
import os
import re
import threading
import time
import weakref
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import duckdb

from tracer.store import private, segments
from tracer.store.location import resolve_store_path
from tracer.store.schema import SCHEMA_VERSION, migrate, scalar, schema_version, transaction
from tracer.store.views import VIEW_NAMES, ensure_views, schema_and_views_current

if TYPE_CHECKING:
    import pyarrow as pa

    from tracer.store.lake import LakeInfo

logger = logging.getLogger("baton.store")

DEFAULT_LOCK_TIMEOUT = 30.0
#: How long a recorder shutting down waits for the lock to move its segments into the file.
EXIT_ABSORB_TIMEOUT = 10.0
_ABSORB_CHUNK_ROWS = 50_000  # per transaction: what an absorb holds in memory at once
_HOLDER = re.compile(r"Conflicting lock is held in (.+?) \(PID (\d+)\)")

Connection = duckdb.DuckDBPyConnection


# Recorders in this process that hold spans they have not written yet (the Agents SDK
# processor writes ended traces from a thread of its own), by store path: a read in this
# process has them write first, so what a program recorded it can read back at once.
_before_read: dict[Path, list[weakref.WeakMethod[Callable[[], None]]]] = {}
_before_read_lock = threading.Lock()


def register_before_read(store: Store, write_pending: Callable[[], None]) -> None:
    """Have reads of ``store`` in this process call ``write_pending`` (a bound method,
    held weakly) first."""
    with _before_read_lock:
        _before_read.setdefault(store.path, []).append(weakref.WeakMethod(write_pending))


def _write_pending(path: Path) -> None:
    with _before_read_lock:
        callbacks = [ref() for ref in _before_read.get(path, ())]
    for callback in callbacks:
        if callback is not None:
            callback()


class StoreError(RuntimeError):
    """A store problem explained for the user; the message says what to do next."""


class StoreBusyError(StoreError):
    """Another program kept the store locked for longer than we were willing to wait."""


class ForeignIncomingError(StoreError):
    """The store's incoming folder belongs to another user; its files are not trusted."""


@dataclass
class AbsorbReport:
    """What one absorb did."""

    segments: int = 0
    spans_added: int = 0
    corrupt: list[Path] = field(default_factory=list)


@dataclass(frozen=True)
class QueryResult:
    """What ``Store.query`` returns: column names, DuckDB type names and the rows."""

    columns: list[str]
    types: list[str]
    rows: list[tuple[Any, ...]]


class Store:
    """A baton store at ``path`` (default: ``$BATON_STORE``, else the per-user data dir).
    A DuckLake URL (``ducklake:postgres:…``, ``ducklake:<file>.ducklake``) makes it a
    ``tracer.store.lake.LakeStore``: the same store, shared by a team."""

    # Class-level, so LakeStore (its own __init__) has them too. DuckDB's memory_limit on
    # this Store's write connections (absorbs), e.g. "256MB"; None leaves DuckDB's default
    # (80% of RAM). Past it, DuckDB spills to <store>.tmp.
    write_memory_limit: str | None = None
    # Bytes of segment files one absorb transaction takes at most (one larger segment
    # still goes alone); None: only _ABSORB_CHUNK_ROWS bounds it. DuckDB holds a
    # transaction's inserted rows in memory, so this is what write_memory_limit must fit.
    absorb_chunk_bytes: int | None = None

    def __new__(cls, path: str | os.PathLike[str] | None = None, *_: Any, **__: Any) -> Store:
        from tracer.store.url import chosen_lake_url  # team store: see tracer.store.lake

        if cls is Store and chosen_lake_url(path) is not None:
            from tracer.store.lake import LakeStore

            return object.__new__(LakeStore)
        return object.__new__(cls)

    def __init__(
        self, path: str | os.PathLike[str] | None = None, *, lock_timeout: float | None = None
    ) -> None:
        self.path = resolve_store_path(path).absolute()
        self.incoming = self.path.with_name(self.path.name + ".incoming")
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._prepared = False
        self._absorb_lock = threading.Lock()
        self._unwritable: BaseException | None = None  # why the last absorb could not write

    def __repr__(self) -> str:
        return f"Store({str(self.path)!r})"

    # -- the recording side: never touches the database file ---------------------------

    def write_segment(self, table: pa.Table) -> Path:
        """Make ``table`` durable as one segment; it is absorbed on the next write open."""
        return segments.write_segment(self.incoming, table)

    def exists(self) -> bool:
        """Whether there is anything to read: the file, segments waiting to be absorbed,
        or spans this process's recorders hold for it (which are written now)."""
        if _before_read:
            _write_pending(self.path)
        return self.path.exists() or bool(self.pending_segments())

    def pending_segments(self) -> list[Path]:
        """Segments waiting to be absorbed, oldest first."""
        return segments.pending(self.incoming)

    # -- the database side ---------------------------------------------------------------

    @contextmanager
    def write_connection(self, *, timeout: float | None = None) -> Iterator[Connection]:
        """A read-write connection to an up-to-date schema, closed on exit. The file and its
        write-ahead log are readable by their owner only."""
        self.path.parent.mkdir(mode=private.DIR_MODE, parents=True, exist_ok=True)
        with private.owner_only_files():
            con = self._open(read_only=False, timeout=timeout)
            try:
                if self.write_memory_limit is not None:
                    con.execute(f"SET memory_limit = '{self.write_memory_limit}'")
                private.private_file(self.path)
                migrate(con)
                ensure_views(con)
                yield con
            finally:
                con.close()

    def absorb(self, *, timeout: float | None = None) -> AbsorbReport:
        """Move pending segments into the database file. Safe to run from any process at
        any time; raises ``StoreBusyError`` if the file stays locked past ``timeout``."""
        report = AbsorbReport()
        if not self.pending_segments() and self._prepared and self.path.exists():
            return report
        self._check_incoming_owner()
        with self._absorb_lock, self.write_connection(timeout=timeout) as con:
            self._prepared = True
            segments.clear_stale_tmp(self.incoming)
            waiting = self.pending_segments()  # listed again, now that we hold the lock
            if waiting:
                self._absorb_segments(con, waiting, report)
        return report

    def absorb_if_free(self) -> None:
        """``absorb`` now if no other program holds the lock, else leave the segments for
        the next absorb: what recorders do now and then to keep ``incoming`` short. Never
        raises (a failure is logged, and the segments stay where they are)."""
        try:
            self.absorb(timeout=0)
        except StoreBusyError:
            pass
        except Exception:
            logger.exception("could not absorb segments into %s", self.path)

    def absorb_before_exit(self) -> None:
        """``absorb`` when a recorder shuts down, waiting a little for the lock. Never raises:
        segments it cannot move stay, and move in the next time the store is opened."""
        try:
            self.absorb(timeout=EXIT_ABSORB_TIMEOUT)
        except Exception as exc:
            pending = len(self.pending_segments())
            if pending:
                logger.warning(
                    "baton left %d segment%s of spans in %s (%s); they move into the store "
                    "the next time it is opened for writing; %s",
                    pending,
                    "" if pending == 1 else "s",
                    self.incoming,
                    str(exc).splitlines()[0],
                    what_to_do(exc, self.path),
                )
            else:
                logger.warning("baton could not open %s to finish (%s)", self.path, exc)

    def ingest(self, table: pa.Table, *, timeout: float | None = None) -> int:
        """Insert a batch straight into the database (bulk loads); returns spans added."""
        from tracer.store.ingest import insert_spans

        with self._absorb_lock, self.write_connection(timeout=timeout) as con:
            self._prepared = True
            with transaction(con):
                return insert_spans(con, table)

    @contextmanager
    def read_connection(self, *, timeout: float | None = None) -> Iterator[Connection]:
        """A read-only connection that sees every span recorded so far, closed on exit."""
        con = self._open_for_reading(timeout)
        try:
            yield con
        finally:
            con.close()

    def query(
        self, sql: str, params: Sequence[Any] | None = None, *, timeout: float | None = None
    ) -> QueryResult:
        """Run one read-only query; DuckDB's errors come through as ``duckdb.Error``."""
        with self.read_connection(timeout=timeout) as con:
            cursor = con.execute(sql, params) if params is not None else con.execute(sql)
            if cursor.description is None:
                return QueryResult([], [], [])
            columns = [d[0] for d in cursor.description]
            types = [str(d[1]) for d in cursor.description]
            return QueryResult(columns, types, cursor.fetchall())

    def user_query(self, sql: str, *, timeout: float | None = None) -> list[QueryResult]:
        """Run a user's SQL, every statement of it, one result each. It reads the store and
        nothing else: statements that would write, attach, copy, load or configure are
        refused before any runs, on a read-only connection without access to files or the
        network (``tracer.store.user_sql``). Raises ``StoreError`` for a refused or empty
        query, ``duckdb.Error`` for one DuckDB cannot run."""
        from tracer.store import user_sql

        con = self._open_for_reading(timeout, config=user_sql.LOCKED_CONFIG)
        try:
            try:
                found = user_sql.statements(con, sql)
            except (user_sql.QueryRefused, user_sql.EmptyQuery) as exc:
                raise StoreError(str(exc)) from exc
            results = []
            for statement in found:
                try:
                    cursor = con.execute(statement)
                except duckdb.PermissionException as exc:
                    raise StoreError(user_sql.explain_permission_error(exc)) from exc
                if cursor.description is None:
                    results.append(QueryResult([], [], []))
                    continue
                columns = [d[0] for d in cursor.description]
                types = [str(d[1]) for d in cursor.description]
                results.append(QueryResult(columns, types, cursor.fetchall()))
            return results
        finally:
            con.close()

    def status(self) -> StoreStatus:
        """Location, size, schema version and rows per table and view."""
        with self.read_connection() as con:
            counts: dict[str, int] = {}
            for name in ("spans", *VIEW_NAMES):
                counts[name] = int(scalar(con, f"SELECT count(*) FROM {name}"))
            version = schema_version(con)
            redacted = int(scalar(con, "SELECT coalesce(sum(redacted), 0) FROM spans"))
        pending = self.pending_segments()
        return StoreStatus(
            path=self.path,
            size_bytes=_size(self.path) + _size(self.path.with_name(self.path.name + ".wal")),
            schema_version=version,
            rows=counts,
            pending_segments=len(pending),
            pending_bytes=sum(_size(p) for p in pending),
            redacted=redacted,
        )

    # -- internals -----------------------------------------------------------------------

    def _prepare(self, timeout: float | None) -> None:
        """Before reading: create or upgrade the file and absorb pending segments. If
        another program holds the lock, a reader goes on with what is already absorbed;
        so it does when the store cannot be written here (a read-only mount, another
        user's store, a full disk), saying what is left out and why."""
        if self._prepared and self.path.exists() and not self.pending_segments():
            return
        wait = self.lock_timeout if timeout is None else timeout
        exists = self.path.exists()
        try:
            self.absorb(timeout=min(wait, 2.0) if exists else wait)
        except StoreBusyError:
            if not exists:
                raise
        except (StoreError, duckdb.Error, OSError) as exc:
            if not exists or isinstance(exc, ForeignIncomingError):
                raise
            self._unwritable = exc
            self._warn_unabsorbed(exc)

    def _warn_unabsorbed(self, exc: BaseException) -> None:
        pending = len(self.pending_segments())
        if not pending:
            return
        logger.warning(
            "reading %s as it is: %d pending segment%s in %s could not be absorbed (%s); %s",
            self.path,
            pending,
            "" if pending == 1 else "s",
            self.incoming,
            str(exc).splitlines()[0],
            what_to_do(exc, self.path),
        )

    def _open_for_reading(
        self, timeout: float | None, *, config: dict[str, Any] | None = None
    ) -> Connection:
        """A read-only connection to the store with nothing pending and the current
        schema and views. The common case (all of that already true) costs one read-only
        open; otherwise the store is brought up to date first, which needs the lock."""
        if _before_read:
            _write_pending(self.path)
        if self.path.exists() and not self.pending_segments():
            con = self._open(read_only=True, timeout=timeout, config=config)
            if self._prepared:  # this Store checked or upgraded it already
                return con
            if schema_and_views_current(con, SCHEMA_VERSION):
                self._prepared = True
                return con
            con.close()
        self._unwritable = None
        self._prepare(timeout)
        con = self._open(read_only=True, timeout=timeout, config=config)
        if schema_version(con) < SCHEMA_VERSION:
            con.close()
            cause = self._unwritable
            if cause is not None:
                raise StoreError(
                    f"{self.path} was written by an older baton and cannot be upgraded here "
                    f"({str(cause).splitlines()[0]}); {what_to_do(cause, self.path)}"
                )
            raise StoreError(
                f"{self.path} was written by an older baton and could not be upgraded "
                "because another program holds it; close that program and retry"
            )
        return con

    def _open(
        self, *, read_only: bool, timeout: float | None, config: dict[str, Any] | None = None
    ) -> Connection:
        wait = self.lock_timeout if timeout is None else timeout
        deadline = time.monotonic() + wait
        delay = 0.005
        last: duckdb.Error
        while True:
            try:
                return duckdb.connect(str(self.path), read_only=read_only, config=config or {})
            except duckdb.ConnectionException as exc:
                # This process already has the file open in the other mode: share it.
                if "different configuration" not in str(exc):
                    raise StoreError(f"cannot open {self.path}: {exc}") from exc
                if config:  # a locked connection must not fall back to an open one
                    raise StoreError(
                        f"cannot open {self.path} for reading only: this program has it "
                        "open for writing"
                    ) from exc
                if read_only:
                    return duckdb.connect(str(self.path), read_only=False)
                last = exc
            except duckdb.IOException as exc:
                if "lock" not in str(exc).lower():
                    raise StoreError(f"cannot open {self.path}: {exc}") from exc
                last = exc
            except duckdb.Error as exc:
                # Two threads of this process opening the file at the same instant: DuckDB
                # refuses the second ("Unique file handle conflict"); it is free a moment later.
                if "file handle conflict" not in str(exc).lower():
                    raise
                last = exc
            if time.monotonic() >= deadline:
                raise StoreBusyError(_busy_message(self.path, last, wait)) from last
            time.sleep(delay)
            delay = min(delay * 2, 0.1)

    def _absorb_segments(self, con: Connection, waiting: list[Path], report: AbsorbReport) -> None:
        # Arrow and ingest load here, not at the top: a read (every `baton` command)
        # absorbs nothing most of the time and starts faster without them.
        import pyarrow as pa

        from tracer.store.ingest import insert_spans, prepared

        while waiting:
            chunk, waiting = self._take_chunk(waiting, report, prepared)
            tables = [table for _, table in chunk]
            if tables:
                with transaction(con):
                    report.spans_added += insert_spans(con, pa.concat_tables(tables))
            for path, _ in chunk:
                path.unlink(missing_ok=True)
            report.segments += len(chunk)
            del chunk, tables  # before the next chunk is read: one chunk in memory at a time
        if report.segments:
            con.execute("CHECKPOINT")

    def _take_chunk(
        self,
        waiting: list[Path],
        report: AbsorbReport,
        prepared: Callable[[pa.Table], pa.Table],
    ) -> tuple[list[tuple[Path, pa.Table]], list[Path]]:
        # Each segment is brought to the current shape on its own, so one written by
        # another baton version (a column fewer or more) combines with the rest; only a
        # file that cannot be read or converted at all is set aside.
        chunk: list[tuple[Path, pa.Table]] = []
        rows = taken = 0
        rest = list(waiting)
        while rest and rows < _ABSORB_CHUNK_ROWS:
            if self.absorb_chunk_bytes is not None:
                size = _size(rest[0])
                if chunk and taken + size > self.absorb_chunk_bytes:
                    break
                taken += size
            path = rest.pop(0)
            try:
                table = prepared(segments.read_segment(path))
            except FileNotFoundError:
                continue
            except Exception as exc:  # a damaged file must not block the others
                report.corrupt.append(self.set_aside(path, str(exc)))
                continue
            chunk.append((path, table))
            rows += table.num_rows
        return chunk, rest

    def _check_incoming_owner(self) -> None:
        try:
            private.check_owner(self.incoming, like=self.path)
        except private.ForeignOwnerError as exc:
            raise ForeignIncomingError(str(exc)) from exc

    def set_aside(self, path: Path, reason: str) -> Path:
        """Move a file that cannot be read (a segment, a receiver's spool file) into
        ``incoming/corrupt``, where it blocks nothing and can be looked at; returns where."""
        return segments.set_aside(self.incoming, path, reason)


@dataclass(frozen=True)
class StoreStatus:
    """What ``Store.status`` reports (``baton store status``)."""

    path: Path
    size_bytes: int
    schema_version: int
    rows: dict[str, int]
    pending_segments: int
    pending_bytes: int
    redacted: int = 0  # values replaced by redaction, over all spans
    lake: LakeInfo | None = None  # a lake store: its catalog, data path and snapshot


def _size(path: Path) -> int:
    try:
        return path.stat().st_size
    except FileNotFoundError:
        return 0


def _busy_message(path: Path, exc: Exception, waited: float) -> str:
    holder = _HOLDER.search(str(exc))
    if holder is None:
        return (
            f"the store {path} has been locked by another program for over {waited:g}s; "
            "close the program that has it open and retry"
        )
    pid = int(holder.group(2))
    command = _command_line(pid) or holder.group(1)
    if _is_baton(command):
        return (
            f"the store {path} has been locked for over {waited:g}s by another baton "
            f"process (PID {pid}: {command}), which is moving a large batch of spans into "
            "it; retry when it has finished, or wait longer (lock_timeout)"
        )
    return (
        f"the store {path} has been locked for over {waited:g}s by PID {pid} ({command}); "
        "retry when it is done, or close it if it is a DuckDB shell or notebook"
    )


def _command_line(pid: int) -> str | None:
    """The command line of process ``pid`` where the system tells it (Linux /proc)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return None
    words = [w.decode("utf-8", "replace") for w in raw.split(b"\0") if w]
    # One short line, however the program was started: paths by their last part
    # (`python notebook.py`), newlines of a `python -c` program folded.
    short = [Path(word).name if word.startswith("/") else word for word in words]
    text = " ".join(" ".join(short).split())
    return text if len(text) <= 100 else text[:97] + "..."


def _is_baton(command: str) -> bool:
    """Whether a command line is a ``baton`` command (``baton collect``, ``python -m tui``)."""
    words = command.split()
    return bool(words) and (
        any(Path(word).name == "baton" for word in words[:2]) or " -m tui" in command
    )


def what_to_do(exc: BaseException, path: Path) -> str:
    """What the user can do about a store that could not be written, by its cause."""
    text = str(exc).lower()
    if (isinstance(exc, OSError) and exc.errno == errno.ENOSPC) or "no space left" in text:
        return f"the disk is full: free space on the file system of {path.parent}"
    if (isinstance(exc, OSError) and exc.errno in (errno.EROFS, errno.EACCES, errno.EPERM)) or (
        "read-only" in text or "permission denied" in text
    ):
        return f"{path} cannot be written here: open it where you may write it to absorb them"
    return "they move in the next time the store is opened for writing"
