"""What a live Agents SDK run knows that its span exports do not say.

The SDK's span data leaves out facts users ask about: whether a run was streamed, the
``Session`` it used, and for a handoff the input filter that ran, the transfer tool and
the arguments the model gave it. The live processor (``tracer.capture.agents_sdk``) reads
them, when a span starts or ends, from the SDK's own frames on the call stack: the run
loop (``start_streaming`` for a streamed run, ``_run_impl`` otherwise, each holding the
run's ``session``) and ``execute_handoffs`` (which ends the handoff span after the input
filter ran, holding ``input_filter`` and the ``actual_handoff`` it executed).

This is read-only and best effort: it reads SDK internals (checked against openai-agents
0.24), so anything missing or shaped otherwise is simply not recorded. Files exported by
the SDK and imported with ``baton import`` never have these facts.
"""

from __future__ import annotations

import sys
from types import FrameType
from typing import Any

_MAX_FRAMES = 200
_STREAMED_LOOP = "start_streaming"
_RUN_LOOPS = frozenset({_STREAMED_LOOP, "_run_impl"})
_HANDOFF_FRAMES = frozenset({"execute_handoffs"})


def _sdk_frame(names: frozenset[str]) -> FrameType | None:
    """The innermost Agents SDK frame on the current call stack whose function is one of
    ``names`` (the name is checked first, the file only then: this runs on the run's
    thread as spans start and end)."""
    frame: FrameType | None = sys._getframe(1)
    for _ in range(_MAX_FRAMES):
        if frame is None:
            return None
        code = frame.f_code
        if code.co_name in names and "/agents/" in code.co_filename.replace("\\", "/"):
            return frame
        frame = frame.f_back
    return None


def run_facts() -> dict[str, Any]:
    """Facts about the innermost run on the stack: ``streamed`` (bool), ``session_id``."""
    frame = _sdk_frame(_RUN_LOOPS)
    if frame is None:
        return {}
    facts: dict[str, Any] = {"streamed": frame.f_code.co_name == _STREAMED_LOOP}
    session_id = _session_id(frame.f_locals.get("session"))
    if session_id is not None:
        facts["session_id"] = session_id
    return facts


def _session_id(session: Any) -> str | None:
    if session is None:
        return None
    try:
        value = session.session_id
    except Exception:  # a session whose id is computed and fails: not recorded
        return None
    return value.strip() or None if isinstance(value, str) else None


def handoff_facts() -> dict[str, Any]:
    """Facts about the handoff being executed: ``tool_name``, ``arguments`` (the model's
    JSON text), ``call_id``, ``input_filter`` (its qualified name) and ``nest_history``."""
    frame = _sdk_frame(_HANDOFF_FRAMES)
    if frame is None:
        return {}
    local = frame.f_locals
    facts: dict[str, Any] = {}
    actual = local.get("actual_handoff")
    handoff = getattr(actual, "handoff", None)
    tool_call = getattr(actual, "tool_call", None)
    if isinstance(getattr(handoff, "tool_name", None), str):
        facts["tool_name"] = handoff.tool_name  # type: ignore[union-attr]
    if isinstance(getattr(tool_call, "arguments", None), str):
        facts["arguments"] = tool_call.arguments  # type: ignore[union-attr]
    if isinstance(getattr(tool_call, "call_id", None), str):
        facts["call_id"] = tool_call.call_id  # type: ignore[union-attr]
    input_filter = local.get("input_filter")
    if input_filter is not None:
        facts["input_filter"] = str(getattr(input_filter, "__qualname__", repr(input_filter)))
    nest = local.get("should_nest_history")
    if isinstance(nest, bool):
        facts["nest_history"] = nest
    before, after = local.get("handoff_input_data"), local.get("filtered")
    if input_filter is not None and before is not None and after is not None:
        facts["removed"] = _removed(before, after)
    return facts


_INPUT_FIELDS = ("input_history", "pre_handoff_items", "new_items")


def _removed(before: Any, after: Any) -> list[dict[str, Any]]:
    """The items an input filter took out of the next agent's input, each described by
    where it was, its type, role, name and call id (what it removed, not its content)."""
    removed: list[dict[str, Any]] = []
    for field in _INPUT_FIELDS:
        kept = getattr(after, field, ())
        kept_items = list(kept) if isinstance(kept, (list, tuple)) else []
        items = getattr(before, field, ())
        for item in items if isinstance(items, (list, tuple)) else ():
            if any(item is other or item == other for other in kept_items):
                continue
            removed.append({"from": field, **_describe(item)})
    return removed


def _describe(item: Any) -> dict[str, Any]:
    raw = getattr(item, "raw_item", item)
    described: dict[str, Any] = {}
    for key in ("type", "role", "name", "call_id"):
        value = raw.get(key) if isinstance(raw, dict) else getattr(raw, key, None)
        if isinstance(value, str):
            described[key] = value
    if "type" not in described and hasattr(item, "type"):
        described["type"] = str(item.type)
    return described
