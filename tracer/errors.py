"""The errors that end a run, shared by baton's runner (``tracer.runner``) and the Agents
SDK loop guard (``tracer.capture.sdk_loop_guard``): neither imports the other, both
import these. ``tracer.runner.errors`` re-exports them beside the runner's own."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.loops import Loop


class RunError(Exception):
    """A run stopped before a final answer. ``result`` is the partial result: for baton's
    runner its ``RunResult`` (the items, usage, last agent and trace id up to the failure;
    None until the runner attaches it), for an Agents SDK run the SDK's
    ``RunErrorDetails`` (``new_items``, ``raw_responses``, ``last_agent``)."""

    def __init__(self, message: str, *, result: Any = None) -> None:
        super().__init__(message)
        self.result = result


class HandoffLoopError(RunError):
    """The loop guard saw agents hand control back and forth (DESIGN.md's ping-pong)."""

    def __init__(self, message: str, *, loop: Loop, result: Any = None) -> None:
        super().__init__(message, result=result)
        self.loop = loop
