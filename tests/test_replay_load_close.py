"""``load_conversation`` closes its connection on a thread of its own while it builds the
conversation (DuckDB lets go of the GIL while it closes), and returns only once it is
closed: the same conversation, no connection left open, a close error not lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, cast

import pytest

import replay
from tracer.capture.importing import import_files
from tracer.store import Store
from tracer.store.store import Connection

ROOT = Path(__file__).resolve().parent.parent
LONG = ROOT / "sample_traces" / "long_conversation.otlp.json"

pytestmark = pytest.mark.usefixtures("utc")


class WatchedStore(Store):
    """A real store that notes which thread closed each read connection, and when."""

    def __init__(self, path: Path, *, close_error: Exception | None = None) -> None:
        super().__init__(path)
        self.closed_on: list[str] = []
        self.close_error = close_error

    @contextmanager
    def read_connection(self, *, timeout: float | None = None) -> Iterator[Connection]:
        try:
            with super().read_connection(timeout=timeout) as con:
                yield con
        finally:
            self.closed_on.append(threading.current_thread().name)
        if self.close_error is not None:
            raise self.close_error


def imported(tmp_path: Path) -> tuple[Path, str]:
    path = tmp_path / "store.duckdb"
    problems: list[str] = []
    import_files(Store(path), [LONG], report=problems.append)
    assert problems == []
    rows = Store(path).query("SELECT conversation_id FROM conversations").rows
    return path, str(rows[0][0])


def test_the_connection_closes_on_its_own_thread_before_the_load_returns(
    tmp_path: Path,
) -> None:
    path, conversation_id = imported(tmp_path)
    watched = WatchedStore(path)
    loaded, version = replay.load_conversation_at(watched, conversation_id)
    assert watched.closed_on == ["baton-close"]  # closed, once, and not by the caller
    assert loaded == replay.load_conversation(Store(path), conversation_id)
    assert [t.reason for t in loaded.transitions] == [
        t.reason for t in replay.load_conversation(Store(path), conversation_id).transitions
    ]
    assert version == replay.load_conversation_at(Store(path), conversation_id)[1]
    assert "baton-close" not in {t.name for t in threading.enumerate()}


def test_an_error_closing_the_connection_is_raised(tmp_path: Path) -> None:
    path, conversation_id = imported(tmp_path)
    watched = WatchedStore(path, close_error=RuntimeError("close failed"))
    with pytest.raises(RuntimeError, match="close failed"):
        replay.load_conversation(watched, conversation_id)
    assert watched.closed_on == ["baton-close"]


def test_a_missing_conversation_still_closes_on_the_callers_thread(tmp_path: Path) -> None:
    """Nothing was fetched: the connection closes as the error leaves the ``with``."""
    path, _ = imported(tmp_path)
    watched = WatchedStore(path)
    with pytest.raises(replay.NotFoundError):
        replay.load_conversation(watched, "no-such-conversation")
    assert watched.closed_on == [threading.current_thread().name]


class _Noted:
    """A real connection that notes each statement run on it and the thread it ran on."""

    def __init__(self, con: Connection, log: list[tuple[str, str]]) -> None:
        self._con = con
        self._log = log

    def _note(self, sql: str) -> None:
        self._log.append((threading.current_thread().name, " ".join(sql.split())))

    def execute(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._note(sql)
        return self._con.execute(sql, *args, **kwargs)

    def sql(self, sql: str, *args: Any, **kwargs: Any) -> Any:
        self._note(sql)
        return self._con.sql(sql, *args, **kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._con, name)


class NotingStore(Store):
    """A real store whose read connections note what runs on them."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.log: list[tuple[str, str]] = []

    @contextmanager
    def read_connection(self, *, timeout: float | None = None) -> Iterator[Connection]:
        with super().read_connection(timeout=timeout) as con:
            yield cast(Connection, _Noted(con, self.log))


def test_the_version_is_read_with_the_spans_while_the_conversation_is_built(
    tmp_path: Path,
) -> None:
    """The store's version (a scan of every span) is read after the spans, on the closing
    thread, in the transaction the spans were read in: it counts what was loaded."""
    path, conversation_id = imported(tmp_path)
    noting = NotingStore(path)
    loaded, version = replay.load_conversation_at(noting, conversation_id)
    caller = threading.current_thread().name
    threads = [thread for thread, _ in noting.log]
    statements = [sql for _, sql in noting.log]
    assert statements[0] == "BEGIN TRANSACTION" and threads[0] == caller
    spans = next(i for i, sql in enumerate(statements) if "FROM spans WHERE" in sql)
    versions = [i for i, sql in enumerate(statements) if "count(*)" in sql and "FROM spans" in sql]
    assert threads[spans] == caller
    assert versions == [len(statements) - 1] and versions[0] > spans
    assert threads[versions[0]] == "baton-close"
    assert version == replay.store_version(Store(path))
    assert loaded == replay.load_conversation(Store(path), conversation_id)
