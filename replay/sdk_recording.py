"""A recorded OpenAI Agents SDK run, as ``baton replay`` re-runs it: every model call in
order with the HTTP body its endpoint answered, rebuilt from what ``tracer.agents_sdk``
stored (``tracer.capture.sdk_responses``), and what the run was started with."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from replay.errors import ReplayError, StoreLike, existing_store
from replay.load import load_conversation
from replay.model import Conversation
from replay.paths import all_steps
from tracer.capture.sdk_responses import FORMAT
from tracer.capture.sdk_responses import PREFIX as CALL

#: The dialect of spans recorded by the Agents SDK's own tracing.
SDK_SOURCE = "openai_agents"
_DATA = "openai_agents.data."
#: The limit in the SDK's error: "Max turns (4) exceeded", or its span's data.
_MAX_TURNS = re.compile(r"Max turns \((\d+)\)|\"max_turns\": (\d+)")


@dataclass(frozen=True, slots=True)
class SdkCall:
    """One model call of the run: who made it, and how to answer it again."""

    turn: int  # 1-based within the trace, nested calls included (the turns view's order)
    agent: str | None
    depth: int
    span_id: str
    api: str | None  # "responses" or "chat"
    streamed: bool
    model: str | None
    first_input: str | None  # digest of the call's first input item
    body: dict[str, Any] | None  # the endpoint's answer (a Response or a ChatCompletion)
    unservable: str | None  # why ``body`` is None
    error: str | None = None  # the call failed: served as a failure again
    request: Mapping[str, Any] = field(default_factory=dict)  # settings, tools, handoffs


@dataclass(frozen=True, slots=True)
class SdkRecording:
    """An Agents SDK run ready to re-serve."""

    conversation: Conversation
    calls: tuple[SdkCall, ...]
    input: str | list[dict[str, Any]] | None
    first_agent: str | None
    streamed: bool
    max_turns: int | None

    @property
    def trace_id(self) -> str:
        return self.conversation.trace_ids[0]

    def missing(self, upto: int | None = None) -> list[SdkCall]:
        """Calls (below turn ``upto``) that can neither be answered nor failed again."""
        return [
            c
            for c in self.calls
            if c.body is None and c.error is None and (upto is None or c.turn < upto)
        ]


def is_sdk_trace(store: StoreLike, trace_id: str) -> bool:
    """Whether ``trace_id`` (or the conversation of that id) was recorded from the Agents
    SDK's own tracing (``tracer.agents_sdk``, or ``baton import`` of its exports)."""
    conversation = load_conversation(existing_store(store), trace_id)
    return SDK_SOURCE in conversation.sources


def load_sdk_recording(store: StoreLike, trace_id: str) -> SdkRecording:
    """The SDK run ``trace_id``, ready to re-serve; ``ReplayError`` for a conversation of
    several runs or a run with no model calls."""
    store = existing_store(store)
    conversation = load_conversation(store, trace_id)
    if len(conversation.trace_ids) != 1:
        listed = ", ".join(conversation.trace_ids[:5])
        raise ReplayError(
            f"{trace_id!r} is a conversation of {len(conversation.trace_ids)} runs in "
            f"{store.path}; give one of its trace ids: {listed}"
        )
    if not conversation.steps:
        raise ReplayError(
            f"trace {conversation.trace_ids[0]} in {store.path} has no model calls to re-run"
        )
    with store.read_connection() as con:
        rows = con.execute(
            "SELECT span_id, attributes::VARCHAR FROM spans WHERE trace_id = ? AND op = 'chat'",
            [conversation.trace_ids[0]],
        ).fetchall()
    attributes = {span_id: _loads(text) for span_id, text in rows}
    calls = tuple(
        _call(step.turn, step.agent, depth, step.span_id, attributes.get(step.span_id, {}), step)
        for step, depth in sorted(all_steps(conversation.steps), key=lambda p: p[0].turn)
    )
    top = [c for c in calls if c.depth == 0]
    first = top[0] if top else calls[0]
    return SdkRecording(
        conversation=conversation,
        calls=calls,
        input=_run_input(attributes.get(first.span_id, {})),
        first_agent=first.agent,
        streamed=first.streamed,
        max_turns=_max_turns(conversation),
    )


def _call(
    turn: int, agent: str | None, depth: int, span_id: str, attrs: dict[str, Any], step: Any
) -> SdkCall:
    error = None
    if step.status == "error":
        own = [e for e in step.errors if e.span_id == step.span_id]
        error = (own[0].message or own[0].kind) if own else "the model call failed"
    api = attrs.get(CALL + "api")
    body, unservable = _body(attrs)
    request = {
        key: _loads(attrs.get(CALL + key))
        for key in ("model_settings", "tools", "handoffs", "output_schema")
        if attrs.get(CALL + key) is not None
    }
    return SdkCall(
        turn=turn,
        agent=agent,
        depth=depth,
        span_id=span_id,
        api=api if isinstance(api, str) else None,
        streamed=attrs.get(CALL + "streamed") is True,
        model=attrs.get(CALL + "model") if isinstance(attrs.get(CALL + "model"), str) else None,
        first_input=attrs.get(CALL + "first_input"),
        body=body,
        unservable=unservable,
        error=error,
        request=request,
    )


def _body(attrs: dict[str, Any]) -> tuple[dict[str, Any] | None, str | None]:
    """The endpoint's answer to one call, or why it cannot be rebuilt."""
    if CALL + "format" not in attrs:
        return None, (
            "it was recorded without what a re-run serves: record the run with "
            "tracer.agents_sdk.install() (an SDK export file, or an older recording, lacks it)"
        )
    if attrs.get(CALL + "format") != FORMAT:
        return None, f"it was recorded in another format ({attrs.get(CALL + 'format')})"
    if attrs.get(CALL + "servable") is not True:
        return None, str(attrs.get(CALL + "unservable") or "its response was not kept")
    output = _loads(attrs.get(_DATA + "output"), otherwise=None)
    if not isinstance(output, list):
        return None, _cut(attrs.get(_DATA + "output"))
    envelope = _loads(attrs.get(CALL + "envelope"), otherwise=None)
    api, streamed = attrs.get(CALL + "api"), attrs.get(CALL + "streamed") is True
    if api == "chat" and streamed:
        # The span's output is the whole Response the SDK built from the chunks.
        if len(output) != 1 or not isinstance(output[0], dict):
            return None, "its streamed response is not one Response"
        return output[0], None
    if not isinstance(envelope, dict):
        return None, _cut(attrs.get(CALL + "envelope"))
    if api == "responses":
        return {**envelope, "output": output}, None
    choices = envelope.get("choices")
    if not isinstance(choices, list) or len(choices) != 1 or len(output) != 1:
        return None, "its completion does not have one choice"
    return {**envelope, "choices": [{**choices[0], "message": output[0]}]}, None


def _cut(value: Any) -> str:
    if isinstance(value, str) and "…[baton:" in value:
        return (
            "its response was cut by the store's value limit (raise BATON_MAX_VALUE_CHARS "
            "before recording)"
        )
    return "its response was not recorded"


def _run_input(attrs: dict[str, Any]) -> str | list[dict[str, Any]] | None:
    """What the run was started with: the first call's input items (the user's text when
    it was one message), Chat Completions messages without the system prompt otherwise."""
    raw = attrs.get(_DATA + "input")
    given = _loads(raw, otherwise=None)
    if isinstance(raw, str) and not isinstance(given, list):
        given = raw  # the user's text as it was (JSON-looking text included)
    if isinstance(given, str):
        return given
    if not isinstance(given, list) or not all(isinstance(i, dict) for i in given):
        return None
    items = [i for i in given if i.get("role") not in ("system", "developer")]
    if any(i.get("role") == "tool" or "tool_calls" in i for i in items):
        return None  # Chat Completions history with tool calls: not read back here
    if len(items) == 1 and items[0].get("role") == "user":
        content = items[0].get("content")
        if isinstance(content, str):
            return content
    return items


def _max_turns(conversation: Conversation) -> int | None:
    for error in conversation.errors:
        found = _MAX_TURNS.search(f"{error.kind} {error.message or ''}")
        if found:
            return int(found.group(1) or found.group(2))
    return None


def _loads(text: Any, otherwise: Any = None) -> Any:
    if not isinstance(text, str):
        return text if text is not None else otherwise
    try:
        return json.loads(text)
    except ValueError:
        return otherwise
