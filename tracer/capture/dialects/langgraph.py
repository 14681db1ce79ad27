"""LangGraph through OpenInference's LangChain instrumentation
(``openinference-instrumentation-langchain``), as ``langgraph-swarm`` and
``langgraph-supervisor`` run it.

Every span carries a ``metadata`` JSON with ``langgraph_node`` and
``langgraph_checkpoint_ns`` (``agent:<id>|node:<id>``): the first segment is the agent
(the node of the multi-agent graph) the span runs in. A handoff is a TOOL span whose
metadata holds ``__handoff_destination`` (both libraries' ``create_handoff_tool``); the
supervisor's automatic hand-back has no tool span, only the worker's ``call_agent`` span
(its whole run) whose output ends with the library's ``__is_handoff_back`` messages: the
hand-back is stored as a handoff span derived from it at its end, when the worker's last
turn is over (so it belongs to that turn, and comes after it). Everything else is read as
OpenInference.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from tracer.capture.dialects import openinference
from tracer.capture.dialects.base import Normalised, SpanView, decode_json, text_or_none

SOURCE = "langgraph"
SCOPE = "openinference.instrumentation.langchain"
_DESTINATION = "__handoff_destination"
_HANDOFF_BACK = "__is_handoff_back"
_BACK_PREFIX = "transfer_back_to_"
_NOT_AGENTS = frozenset({"__start__", "__end__", "tools", ""})


def normalise(span: SpanView) -> Normalised | None:
    if span.scope != SCOPE:
        return None
    found = openinference.normalise(span)
    if found is None:
        return None
    found.source = SOURCE
    attrs = span.attributes
    metadata = decode_json(attrs.get("metadata"))
    if not isinstance(metadata, Mapping):
        return found  # the graph's root span, or a plain LangChain call
    agent = _agent_of(metadata)
    if found.op == "workflow":  # an AGENT span without agent.name: LangGraph's own node
        found.op = "agent" if agent else "other"
    destination = metadata.get(_DESTINATION)
    if found.op == "tool" and isinstance(destination, str):
        found.op = "handoff"
        found.to_agent = destination
        found.from_agent = agent
    elif found.op == "tool":
        found.tool_call_id = found.tool_call_id or _tool_call_id(attrs.get("output.value"))
    elif span.name == "call_agent" and (back := _handed_back_to(attrs.get("output.value"))):
        found.transfers = (back,)
    elif _is_agent_node(span.name, metadata):
        found.op = "agent"
    if agent:
        found.agent_name = found.agent_name or agent
    return found


def _agent_of(metadata: Mapping[str, Any]) -> str | None:
    """The first segment of the checkpoint namespace: the multi-agent graph's node."""
    namespace = metadata.get("langgraph_checkpoint_ns")
    if not isinstance(namespace, str) or not namespace:
        return None
    first = namespace.split("|", 1)[0].split(":", 1)[0]
    return None if first in _NOT_AGENTS else first


def _is_agent_node(name: str, metadata: Mapping[str, Any]) -> bool:
    # A node span of the top-level graph (a single-segment namespace named after it).
    namespace = metadata.get("langgraph_checkpoint_ns")
    return (
        isinstance(namespace, str)
        and "|" not in namespace
        and name == metadata.get("langgraph_node")
        and name not in _NOT_AGENTS
    )


def _tool_call_id(output: Any) -> str | None:
    message = decode_json(output)
    data = message.get("data") if isinstance(message, Mapping) else None
    return text_or_none(data.get("tool_call_id")) if isinstance(data, Mapping) else None


def _handed_back_to(output: Any) -> tuple[str, str, str] | None:
    """The hand-back a worker's ``call_agent`` ended with, from its added messages:
    ``(tool name, call id, supervisor)``."""
    value = decode_json(output)
    messages = value.get("messages") if isinstance(value, Mapping) else None
    for message in reversed(messages if isinstance(messages, list) else []):
        data = message.get("data") if isinstance(message, Mapping) else None
        if not isinstance(data, Mapping):
            continue
        metadata = data.get("response_metadata")
        if not (isinstance(metadata, Mapping) and metadata.get(_HANDOFF_BACK)):
            return None
        for call in data.get("tool_calls") or ():
            name = call.get("name") if isinstance(call, Mapping) else None
            if isinstance(name, str) and name.startswith(_BACK_PREFIX):
                return name, str(call.get("id") or name), name[len(_BACK_PREFIX) :]
    return None
