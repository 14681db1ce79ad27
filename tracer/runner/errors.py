"""The exceptions that end a run. Each carries what the run did before it stopped.

``RunError`` and ``HandoffLoopError`` live in ``tracer.errors`` (the Agents SDK loop guard
raises the latter too, and capture does not import the runner); they are re-exported here.
"""

from __future__ import annotations

from tracer.errors import HandoffLoopError, RunError

__all__ = [
    "HandoffLoopError",
    "MaxTurnsExceeded",
    "ModelBehaviorError",
    "ModelError",
    "RunError",
]


class MaxTurnsExceeded(RunError):
    """The run made ``max_turns`` model calls without a final answer."""


class ModelError(RunError):
    """A model call failed: an HTTP error after the client's retries, an unreachable
    endpoint, a missing API key, or a model object that raised."""


class ModelBehaviorError(ModelError):
    """The model answered something the runner cannot act on: tool-call arguments that
    are not JSON, or a final answer that does not match the agent's ``output_type``."""
