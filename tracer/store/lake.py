"""A store on DuckLake: one store for a whole team (``Store("ducklake:postgres:…")``).

The lake holds the same tables and views as a local store (the migrations and
``tracer.store.views`` run on it), and every span goes in through the same
``insert_spans``, so redaction, resolution and the derived facts hold as they do locally.
Recorders never touch the network: they write local segments, exactly as for a file
store, into this machine's folder for the lake; ``absorb`` commits them in batches.

Several machines absorb at once. DuckLake lets concurrent appends commit side by side,
which would let two machines insert the same span twice, so every absorb transaction
also updates the lake's one commit-counter row: two transactions that overlap both
change it, DuckLake refuses the second at commit, and that one is retried on the new
snapshot, where the anti-join sees the spans the first stored. Commits are thereby
serialised through the catalog (PostgreSQL's transactions), and a segment is deleted
only after the commit that holds its spans, so a kill at any point loses nothing and a
repeat stores nothing twice.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

import duckdb

from tracer.store import lake_extensions, private, segments
from tracer.store.location import default_data_dir
from tracer.store.schema import SCHEMA_VERSION, migrate, scalar, schema_version, transaction
from tracer.store.store import (
    DEFAULT_LOCK_TIMEOUT,
    AbsorbReport,
    Connection,
    Store,
    StoreBusyError,
    StoreError,
    StoreStatus,
)
from tracer.store.url import LAKE_INCOMING_ENV, LakeTarget, LakeUrlError, parse_lake_url
from tracer.store.views import VIEW_NAMES, ensure_views, schema_and_views_current

if TYPE_CHECKING:
    import pyarrow as pa

LAKE_ALIAS = "baton_lake"
_META = f"__ducklake_metadata_{LAKE_ALIAS}"
#: A lake batch: big enough that a commit's fixed cost (catalog round trips) is small.
_LAKE_CHUNK_ROWS = 200_000
_MAX_CONFLICT_RETRIES = 200
T = TypeVar("T")
#: This process's databases with a lake attached, by (lake, data path, locked).
_INSTANCES: dict[tuple[str, str | None, bool], Connection] = {}
_INSTANCES_LOCK = threading.Lock()


@dataclass(frozen=True)
class LakeInfo:
    """Which lake a status read: its catalog, data path and snapshot."""

    url: str
    catalog: str
    data_path: str
    snapshot: int


class LakeStore(Store):
    """A store whose tables live in a DuckLake (see the module's docstring)."""

    def __init__(
        self,
        path: str | os.PathLike[str] | None = None,
        *,
        lock_timeout: float | None = None,
        lake_data: str | None = None,
    ) -> None:
        from tracer.store.url import chosen_lake_url

        url = chosen_lake_url(path)
        if url is None:
            raise LakeUrlError(f"{path!r} is not a DuckLake URL")
        try:
            self.target: LakeTarget = parse_lake_url(url, data_path=lake_data)
        except LakeUrlError as exc:
            raise StoreError(str(exc)) from exc
        # This machine's own folder for the lake: its segments wait here, never on the network.
        # It exists from the start, as the lake itself is checked when it is opened.
        self.path = private.private_dir(default_data_dir() / "lakes" / self.target.key)
        custom = os.environ.get(LAKE_INCOMING_ENV)
        self.incoming = Path(custom).expanduser().absolute() if custom else self.path / "incoming"
        self.lock_timeout = DEFAULT_LOCK_TIMEOUT if lock_timeout is None else lock_timeout
        self._prepared = False
        self._absorb_lock = threading.Lock()
        self._unwritable: BaseException | None = None

    def __repr__(self) -> str:
        return f"Store({self.target.url!r})"

    @property
    def url(self) -> str:
        return self.target.url

    # -- connections ------------------------------------------------------------------

    def _connect(self, *, read_only: bool, locked: bool = False) -> Connection:
        """A connection with the lake attached and in use; ``locked``: cut off from files,
        the network and settings, as ``baton sql`` needs (the lake keeps reading its own
        catalog and data files). Loading the extensions and attaching the lake cost about
        a second and a half, so each process does it once per lake, on one in-memory
        database whose connections every later open shares (``read_only`` is then the
        caller's promise; only the locked database is attached read-only). A
        one-machine lake's catalog file is attached per connection instead."""
        if self.target.catalog_kind != "postgres":
            # A catalog file is locked by whichever database opens it, so a one-machine
            # lake is attached per connection and let go with it.
            return self._attach(locked, read_only=read_only)
        key = (self.target.attach_url, self.target.data_path, locked)
        with _INSTANCES_LOCK:
            base = _INSTANCES.get(key)
            if base is None:
                base = _INSTANCES[key] = self._attach(locked)
        con = base.cursor()
        try:
            con.execute(f"USE {LAKE_ALIAS}")
        except duckdb.Error:  # the catalog's server went away: attach afresh, once
            con.close()
            with _INSTANCES_LOCK:
                _INSTANCES.pop(key, None)
                base = _INSTANCES[key] = self._attach(locked)
            con = base.cursor()
            con.execute(f"USE {LAKE_ALIAS}")
        return con

    def _attach(self, locked: bool, *, read_only: bool = False) -> Connection:
        con = duckdb.connect(":memory:")
        try:
            lake_extensions.load(con, "ducklake")
            if self.target.catalog_kind == "postgres":
                lake_extensions.load(con, "postgres_scanner")
            options = []
            if self.target.data_path:
                options.append(f"DATA_PATH '{_quote(self.target.data_path)}'")
            if locked or read_only:
                options.append("READ_ONLY")
            clause = f" ({', '.join(options)})" if options else ""
            attach = f"ATTACH '{_quote(self.target.attach_url)}' AS {LAKE_ALIAS}{clause}"
            # Machines attaching a new lake at once race to create its catalog tables.
            _retrying(lambda: con.execute(attach))
            con.execute(f"USE {LAKE_ALIAS}")
            if locked:
                # The lake's own data files stay readable; every other file is out of reach.
                data_path = _data_path(con)
                if data_path:
                    con.execute("SET allowed_directories = ?", [[str(data_path)]])
                con.execute("SET autoinstall_known_extensions = false")
                con.execute("SET autoload_known_extensions = false")
                con.execute("SET enable_external_access = false")
                con.execute("SET lock_configuration = true")
        except lake_extensions.ExtensionMissing as exc:
            con.close()
            raise StoreError(str(exc)) from exc
        except duckdb.Error as exc:
            con.close()
            raise StoreError(
                f"cannot open the lake {self.target.describe_catalog()}: "
                f"{str(exc).splitlines()[0]}; {_lake_advice(exc, self.target)}"
            ) from exc
        return con

    @contextmanager
    def write_connection(self, *, timeout: float | None = None) -> Iterator[Connection]:
        con = self._connect(read_only=False)
        try:
            if not self._prepared:
                _retrying(lambda: _prepare_lake(con))
            yield con
        finally:
            con.close()

    @contextmanager
    def read_connection(self, *, timeout: float | None = None) -> Iterator[Connection]:
        con = self._open_for_reading(timeout)
        try:
            yield con
        finally:
            con.close()

    def _open_for_reading(
        self, timeout: float | None, *, config: dict[str, Any] | None = None
    ) -> Connection:
        pending = self.pending_segments()
        if not pending and not self._prepared:
            # The common case costs one check: a lake already at this baton's schema and
            # views needs nothing written before it is read.
            con = self._connect(read_only=True, locked=bool(config))
            if schema_and_views_current(con, SCHEMA_VERSION):
                self._prepared = True
                return con
            con.close()
        if pending or not self._prepared:
            try:
                self.absorb(timeout=timeout)
            except StoreError as exc:
                if not self._prepared:
                    raise
                self._warn_unabsorbed(exc)
        con = self._connect(read_only=True, locked=bool(config))
        if schema_version(con) < SCHEMA_VERSION:
            con.close()
            raise StoreError(f"the lake {self.target.describe_catalog()} has no baton tables")
        return con

    # -- writing ----------------------------------------------------------------------

    def absorb(self, *, timeout: float | None = None) -> AbsorbReport:
        """Commit this machine's pending segments to the lake, in batches; safe to run
        on any number of machines at once."""
        report = AbsorbReport()
        if not self.pending_segments() and self._prepared:
            return report
        self._check_incoming_owner()
        with self._absorb_lock, self.write_connection(timeout=timeout) as con:
            self._prepared = True
            segments.clear_stale_tmp(self.incoming)
            waiting = self.pending_segments()
            if waiting:
                self._absorb_segments(con, waiting, report)
        return report

    def _absorb_segments(self, con: Connection, waiting: list[Path], report: AbsorbReport) -> None:
        import pyarrow as pa

        from tracer.store.ingest import prepared

        while waiting:
            chunk, waiting = self._take_chunk(waiting, report, prepared)
            tables = [table for _, table in chunk]
            if tables:
                report.spans_added += commit_spans(con, pa.concat_tables(tables))
            for path, _ in chunk:  # only once the lake holds them
                path.unlink(missing_ok=True)
            report.segments += len(chunk)

    def ingest(self, table: pa.Table, *, timeout: float | None = None) -> int:
        """Commit a batch straight to the lake (``baton store push``); returns spans added."""
        with self._absorb_lock, self.write_connection(timeout=timeout) as con:
            self._prepared = True
            added = 0
            for start in range(0, table.num_rows, _LAKE_CHUNK_ROWS):
                added += commit_spans(con, table.slice(start, _LAKE_CHUNK_ROWS))
            return added

    # -- reading ----------------------------------------------------------------------

    def lake_info(self, con: Connection) -> LakeInfo:
        """The catalog, data path and snapshot ``con`` reads."""
        data_path = _data_path(con)
        snapshot = scalar(con, f"SELECT id FROM ducklake_current_snapshot('{LAKE_ALIAS}')")
        return LakeInfo(
            url=self.target.url,
            catalog=self.target.describe_catalog(),
            data_path=str(data_path or self.target.data_path or ""),
            snapshot=int(snapshot or 0),
        )

    def status(self) -> StoreStatus:
        with self.read_connection() as con:
            counts = {
                name: int(scalar(con, f"SELECT count(*) FROM {name}"))
                for name in ("spans", *VIEW_NAMES)
            }
            version = schema_version(con)
            redacted = int(scalar(con, "SELECT coalesce(sum(redacted), 0) FROM spans"))
            info = self.lake_info(con)
            size = int(
                scalar(
                    con,
                    f"SELECT coalesce(sum(file_size_bytes), 0) FROM {_META}.ducklake_data_file "
                    "WHERE end_snapshot IS NULL",
                )
                or 0
            )
        pending = self.pending_segments()
        return StoreStatus(
            path=self.path,
            size_bytes=size,
            schema_version=version,
            rows=counts,
            pending_segments=len(pending),
            pending_bytes=sum(p.stat().st_size for p in pending if p.exists()),
            redacted=redacted,
            lake=info,
        )


def commit_spans(con: Connection, table: pa.Table) -> int:
    """Insert ``table`` into the lake in one transaction that conflicts with any other
    absorb's (the commit-counter row), retried on the snapshot that won; spans added."""
    from tracer.store.ingest import insert_spans

    def attempt() -> int:
        with transaction(con):
            con.execute("UPDATE _baton_lake_commits SET commits = commits + 1")
            return insert_spans(con, table)

    return _retrying(attempt)


def _prepare_lake(con: Connection) -> None:
    """The baton tables and views in the lake, as in a local store, plus the
    commit-counter row that serialises absorbs."""
    lake_ddl = cast(Connection, _LakeDDL(con))
    migrate(lake_ddl)
    ensure_views(lake_ddl)
    con.execute("CREATE TABLE IF NOT EXISTS _baton_lake_commits (commits BIGINT NOT NULL)")
    with transaction(con):
        if not scalar(con, "SELECT count(*) FROM _baton_lake_commits"):
            con.execute("INSERT INTO _baton_lake_commits VALUES (0)")


def _data_path(con: Connection) -> str | None:
    """Where the attached lake keeps its data files (its catalog records it)."""
    value = scalar(con, f"SELECT value FROM {_META}.ducklake_metadata WHERE key = 'data_path'")
    return None if value is None else str(value)


def _retrying(attempt: Callable[[], T]) -> T:
    """``attempt()``, again after a DuckLake transaction conflict (another machine
    committed first), with a random pause so retries do not collide in step."""
    for tries in range(_MAX_CONFLICT_RETRIES):
        try:
            return attempt()
        except duckdb.Error as exc:
            if not _is_conflict(exc) or tries == _MAX_CONFLICT_RETRIES - 1:
                if _is_conflict(exc):
                    raise StoreBusyError(
                        "the lake stayed busy with other machines' commits; retry"
                    ) from exc
                raise
            time.sleep(random.uniform(0.005, min(0.5, 0.01 * 2 ** min(tries, 6))))
    raise AssertionError("unreachable")


def _is_conflict(exc: duckdb.Error) -> bool:
    # "already exists": another machine created the lake's tables since this one looked.
    text = str(exc).lower()
    return any(
        sign in text
        for sign in ("conflict", "could not serialize", "duplicate key", "already exists")
    )


class _LakeDDL:
    """A connection that spells the store's DDL the way DuckLake takes it: DuckLake has
    no keys or indexes (uniqueness is ingest's anti-join, as it is locally), so PRIMARY
    KEY is dropped and INSERT OR REPLACE becomes delete-then-insert."""

    def __init__(self, con: Connection) -> None:
        self._con = con

    def execute(self, sql: str, params: Any = None) -> Any:
        text = sql.replace(" PRIMARY KEY", "")
        if text.lstrip().upper().startswith("INSERT OR REPLACE INTO _BATON_META"):
            key = params[0] if params and len(params) > 1 else None
            if key is None:  # the key is a literal: ('views_hash', ?)
                key = text.split("VALUES", 1)[1].split("'")[1]
                params = [key, *(params or [])]
            self._con.execute("DELETE FROM _baton_meta WHERE key = ?", [key])
            return self._con.execute("INSERT INTO _baton_meta VALUES (?, ?)", params)
        return self._con.execute(text, params) if params is not None else self._con.execute(text)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


def _lake_advice(exc: duckdb.Error, target: LakeTarget) -> str:
    text = str(exc).lower()
    if target.catalog_kind == "postgres" and ("connect" in text or "connection" in text):
        return "check that the PostgreSQL server is up and the connection string is right"
    if "data_path" in text or "data path" in text:
        return "set BATON_LAKE_DATA (or --lake-data) to the lake's data directory or s3:// path"
    return "check the store URL and BATON_LAKE_DATA"


def _quote(text: str) -> str:
    return text.replace("'", "''")


def push(local: Store, lake: LakeStore, *, batch_rows: int = _LAKE_CHUNK_ROWS) -> int:
    """Copy every span of the local store ``local`` into ``lake`` (``baton store push``);
    returns how many the lake did not hold yet, so pushing again adds nothing."""
    from tracer.store.rows import COLUMN_NAMES

    added = 0
    with local.read_connection() as con:
        import pyarrow as pa

        reader: pa.RecordBatchReader = con.execute(
            f"SELECT {', '.join(COLUMN_NAMES)} FROM spans ORDER BY trace_id, start_time"
        ).to_arrow_reader(batch_rows)
        for batch in reader:
            added += lake.ingest(pa.Table.from_batches([batch]))
    return added
