"""Messages that travel up to the app: requests a screen cannot fulfil on its own."""

from __future__ import annotations

from textual.message import Message


class OpenConversation(Message):
    """Replay this conversation (or trace)."""

    def __init__(self, conversation_id: str) -> None:
        super().__init__()
        self.conversation_id = conversation_id
