"""The exceptions that end a run. Each carries what the run did before it stopped."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from tracer.loops import Loop
    from tracer.runner.result import RunResult


class RunError(Exception):
    """A run stopped before a final answer. ``result`` is the partial ``RunResult``:
    the items, usage, last agent and trace id up to the failure (None until the runner
    attaches it)."""

    def __init__(self, message: str, *, result: RunResult | None = None) -> None:
        super().__init__(message)
        self.result = result


class MaxTurnsExceeded(RunError):
    """The run made ``max_turns`` model calls without a final answer."""


class HandoffLoopError(RunError):
    """The loop guard saw agents hand control back and forth (DESIGN.md's ping-pong)."""

    def __init__(self, message: str, *, loop: Loop, result: RunResult | None = None) -> None:
        super().__init__(message, result=result)
        self.loop = loop


class ModelError(RunError):
    """A model call failed: an HTTP error after the client's retries, an unreachable
    endpoint, a missing API key, or a model object that raised."""


class ModelBehaviorError(ModelError):
    """The model answered something the runner cannot act on: tool-call arguments that
    are not JSON, or a final answer that does not match the agent's ``output_type``."""
