"""``ScriptedModel``: a model that gives the answers it was handed, in order, for tests and
demos; and small helpers to write those answers."""

from __future__ import annotations

import json
import uuid
from collections import deque
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from tracer.runner.errors import ModelError
from tracer.runner.models.base import ModelRequest, ModelResponse, ToolCall

#: One scripted step: an answer, an exception to raise, or a function of the request.
Step = ModelResponse | BaseException | Callable[[ModelRequest], ModelResponse]


class ScriptedModel:
    """Answers each call with the next step of its script and keeps every request in
    ``requests``. Running out of steps is a ``ModelError`` naming the call."""

    provider = "baton.scripted"

    def __init__(self, steps: Iterable[Step] = (), *, name: str = "scripted") -> None:
        self.name = name
        self.requests: list[ModelRequest] = []
        self._steps: deque[Step] = deque(steps)

    def __repr__(self) -> str:
        return f"ScriptedModel({self.name!r}, {len(self._steps)} steps left)"

    def add(self, *steps: Step) -> None:
        """Append steps to the script."""
        self._steps.extend(steps)

    @property
    def remaining(self) -> int:
        return len(self._steps)

    async def respond(self, request: ModelRequest) -> ModelResponse:
        self.requests.append(request)
        if not self._steps:
            raise ModelError(
                f"ScriptedModel {self.name!r} has no answer left for call {len(self.requests)}; "
                "add one step per model call the run makes"
            )
        step = self._steps.popleft()
        if isinstance(step, BaseException):
            raise step
        if isinstance(step, ModelResponse):
            return step
        return step(request)


def reply(content: str, *, input_tokens: int = 0, output_tokens: int = 0) -> ModelResponse:
    """A final text answer."""
    return ModelResponse(content=content, input_tokens=input_tokens, output_tokens=output_tokens)


def tool_call(
    name: str, arguments: Mapping[str, Any] | str | None = None, *, call_id: str | None = None
) -> ToolCall:
    """A call of tool ``name``; ``arguments`` as a mapping (sent as JSON) or raw text."""
    text = arguments if isinstance(arguments, str) else json.dumps(dict(arguments or {}))
    return ToolCall(id=call_id or f"call_{uuid.uuid4().hex[:24]}", name=name, arguments=text)


def call_tools(
    *calls: ToolCall, content: str | None = None, input_tokens: int = 0, output_tokens: int = 0
) -> ModelResponse:
    """An answer asking for ``calls`` (several run concurrently)."""
    return ModelResponse(
        content=content,
        tool_calls=calls,
        input_tokens=input_tokens,
        output_tokens=output_tokens,
    )
