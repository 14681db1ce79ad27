"""Process-wide recording settings that instrumentation reads when it emits spans."""

from __future__ import annotations

import os
from contextvars import ContextVar

CAPTURE_CONTENT_ENV = "BATON_CAPTURE_CONTENT"
_FALSE = {"0", "false", "no", "off"}

#: The conversation that work started in this context belongs to (``tracer.record``
#: sets it; the runner and the capture processors stamp it on what they record).
current_conversation_id: ContextVar[str | None] = ContextVar("baton_conversation_id", default=None)


def content_from_env() -> bool:
    """Whether ``$BATON_CAPTURE_CONTENT`` lets content be recorded (unset: yes)."""
    return os.environ.get(CAPTURE_CONTENT_ENV, "true").strip().lower() not in _FALSE


class _Settings:
    """Mutable on purpose: ``tracer.setup`` sets them once for the process."""

    def __init__(self) -> None:
        self.capture_content = content_from_env()


settings = _Settings()
