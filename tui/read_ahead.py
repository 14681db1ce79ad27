"""Reading what the app will show first while Textual starts.

``baton tui`` knows its first read before the terminal is even set up: the conversation
list's first page, or with ``baton tui ID`` that conversation. Starting the read then,
on its own thread, overlaps the store's part of it (DuckDB runs without the GIL) with
Textual's start-up instead of following it. The screen takes the result (or the error)
once, for its first load.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Generic, TypeVar

from replay.model import Conversation

T = TypeVar("T")

ConversationRead = tuple[Conversation, tuple[int, int]]  # the conversation, the version


class ReadAhead(Generic[T]):
    """``read()``, started now on its own thread; its result is taken once, by whoever
    asks with the same ``key`` (what was read: a conversation id, a page's query)."""

    def __init__(self, key: object, read: Callable[[], T]) -> None:
        self.key = key
        self._future: Future[T] | None = Future()
        threading.Thread(
            target=self._read, args=(read, self._future), name="baton-read-ahead", daemon=True
        ).start()

    @staticmethod
    def _read(read: Callable[[], T], future: Future[T]) -> None:
        try:
            future.set_result(read())
        except BaseException as exc:  # handed to whoever takes it, as the read would raise
            future.set_exception(exc)

    def take(self, key: object) -> Future[T] | None:
        """The read, the first time it is asked for ``key``; else None."""
        if key != self.key:
            return None
        future, self._future = self._future, None
        return future
