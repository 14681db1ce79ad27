"""``load_conversation`` closes its connection on a thread of its own while it builds the
conversation (DuckDB lets go of the GIL while it closes), and returns only once it is
closed: the same conversation, no connection left open, a close error not lost."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

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
