"""Reading the conversation the app was opened on while Textual starts.

``baton tui ID`` knows what it will show before the terminal is even set up; starting
the read then, on its own thread, overlaps the store's part of it (DuckDB runs without
the GIL) with Textual's start-up instead of following it. The replay screen takes the
result (or the error) once, for its first load.
"""

from __future__ import annotations

import threading
from concurrent.futures import Future

from replay.model import Conversation
from tui.source import ConversationSource

Read = tuple[Conversation, tuple[int, int]]  # the conversation and the store's version


class ReadAhead:
    """``source.conversation_at(conversation_id)``, started now."""

    def __init__(self, source: ConversationSource, conversation_id: str) -> None:
        self.conversation_id = conversation_id
        self._future: Future[Read] | None = Future()
        threading.Thread(
            target=self._read, args=(source, self._future), name="baton-read-ahead", daemon=True
        ).start()

    def _read(self, source: ConversationSource, future: Future[Read]) -> None:
        try:
            future.set_result(source.conversation_at(self.conversation_id))
        except BaseException as exc:  # handed to whoever takes it, as the read would raise
            future.set_exception(exc)

    def take(self, conversation_id: str) -> Future[Read] | None:
        """The read, the first time it is asked for this conversation; else None."""
        if conversation_id != self.conversation_id:
            return None
        future, self._future = self._future, None
        return future
