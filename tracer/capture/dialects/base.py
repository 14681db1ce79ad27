"""The shapes every dialect shares: what it reads and what it fills."""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

#: Every value of ``spans.op``.
OPS = ("workflow", "agent", "chat", "tool", "handoff", "agent_tool", "guardrail", "other")


@dataclass(slots=True)
class SpanView:
    """What a dialect may look at: the span's own name, kind, attributes and scope.

    Dialects only read it. Not frozen: one is made per span stored, and a frozen
    dataclass's ``__init__`` (``object.__setattr__`` per field) costs twice as much."""

    name: str
    kind: str
    attributes: Mapping[str, Any]
    scope: str | None = None


@dataclass(slots=True)
class Normalised:
    """The store's normalised columns for one span (see DESIGN.md, "The store").

    ``agent_name`` is the agent a span belongs to: its own name for an agent span,
    else left empty here and filled from the nearest enclosing agent when the store
    absorbs the span. ``from_agent`` of a handoff is filled the same way when the
    producer does not say it. ``final_answer`` marks a model call that ended its run
    (needed to tell ping-pong loops apart from separate exchanges); None when unknown.
    """

    op: str = "other"
    source: str = "unknown"
    agent_name: str | None = None
    tool_name: str | None = None
    from_agent: str | None = None
    to_agent: str | None = None
    conversation_id: str | None = None
    model: str | None = None
    input_tokens: int | None = None
    output_tokens: int | None = None
    tool_call_id: str | None = None
    tool_arguments: str | None = None
    tool_result: str | None = None
    error_type: str | None = None
    final_answer: bool | None = None
    #: Transfers a model call asked for that its producer records nowhere else (Swarm runs
    #: them unrecorded): ``(tool name, call id, target agent)``. Each is stored as a
    #: handoff span of its own under the model call (``SpanRows.add``).
    transfers: tuple[tuple[str, str, str], ...] = ()
    #: For a model call whose producer names its agent only on other calls (Swarm's first
    #: call of a run): keys another call of the trace may claim an agent for, in order of
    #: trust; and the agents this call knows by key. Stored as the attributes
    #: ``baton.agent_keys`` / ``baton.agent_claims`` and matched at ingest
    #: (``tracer.store.resolve_claims``).
    agent_keys: tuple[str, ...] = ()
    agent_claims: tuple[tuple[str, str], ...] = ()


#: One message in the OpenTelemetry GenAI "parts" format: ``{"role": ..., "parts": [{"type":
#: "text", "content": ...}, {"type": "tool_call", "id", "name", "arguments"}, {"type":
#: "tool_call_response", "id", "response"}], "finish_reason": ...}``.
PartsMessage = dict[str, Any]


@dataclass(frozen=True, slots=True)
class ChatMessages:
    """A model call's messages as its producer recorded them, translated to the GenAI parts
    format. Each is None when the producer recorded no such content (content capture off,
    or a producer that never records it); ``system`` is the instructions' parts."""

    input: list[PartsMessage] | None = None
    output: list[PartsMessage] | None = None
    system: list[dict[str, Any]] | None = None


#: Errors a producer reports on a span for a condition the run handled, by the span's op:
#: the Agents SDK marks the handoff it followed with "Multiple handoffs requested" when a
#: response asked for several (it follows the first and ignores the rest). Such a span is
#: stored with a warning (``WARNING``), not as a failure.
HANDLED_ERRORS: dict[str, tuple[str, ...]] = {"handoff": ("Multiple handoffs requested",)}
WARNING = "baton.warning"


def handled_error(op: str, message: str | None) -> bool:
    """Whether an error ``message`` on a span of ``op`` is a handled condition."""
    return bool(message) and str(message).startswith(HANDLED_ERRORS.get(op, ()))


def text_or_none(value: Any) -> str | None:
    """A string attribute as text; JSON-ish values as their JSON; missing as None."""
    if value is None:
        return None
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, default=str)
    except (TypeError, ValueError):
        return str(value)


def int_or_none(value: Any) -> int | None:
    """A number attribute as an int; missing, boolean, not a number, infinite or beyond a
    64-bit column (a producer's ``1e300`` token count) as None."""
    if value is None or isinstance(value, bool):
        return None
    try:
        number = int(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if -(2**63) <= number < 2**63 else None


def decode_json(value: Any, *, otherwise: Any = None) -> Any:
    """An attribute that may hold JSON text, decoded: the value it encodes when it is JSON,
    ``otherwise`` when it is text that is not (prose, or JSON cut by the store's size
    limit), and the value itself when it is not text."""
    if not isinstance(value, str):
        return value
    try:
        # ``json.loads`` without its Python wrappers (most of its cost for a short text):
        # from index 0 it scans what ``loads`` scans when the text starts with a value.
        decoded, end = _scan_once(value, 0)
        if end == len(value):
            return decoded
    except StopIteration:  # leading whitespace or no value at all: ``loads`` decides
        pass
    except ValueError:  # ``loads`` scans from the same index and fails the same way
        return otherwise
    try:
        return json.loads(value)
    except ValueError:
        return otherwise


#: ``json.loads``'s scanner (the C one where there is one), with its default settings.
_scan_once: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
