"""Process-wide recording settings that instrumentation reads when it emits spans."""

from __future__ import annotations

import os

CAPTURE_CONTENT_ENV = "BATON_CAPTURE_CONTENT"
_FALSE = {"0", "false", "no", "off"}


class _Settings:
    """Mutable on purpose: ``tracer.setup`` sets them once for the process."""

    def __init__(self) -> None:
        self.capture_content = os.environ.get(CAPTURE_CONTENT_ENV, "true").lower() not in _FALSE


settings = _Settings()
