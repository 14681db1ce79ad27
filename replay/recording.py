"""A recorded run of baton's runner, as re-runs and ``baton replay serve`` need it: the
model calls in order with the exact responses recorded for them, and the run's input."""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from replay.errors import ReplayError, StoreLike, existing_store
from replay.load import load_conversation
from replay.model import Conversation, Message, Step
from replay.paths import all_steps
from tracer.runner.genai_format import recorded_response
from tracer.runner.models import ModelResponse

#: Producers whose chat spans record responses the way baton's runner does.
_SERVABLE_SOURCES = ("baton", "otel_genai")
_MAX_TURNS = re.compile(r"max_turns=(\d+)")


@dataclass(frozen=True, slots=True)
class RecordedCall:
    """One model call of the run: who made it, and the answer it got (None when the
    run was recorded without content)."""

    turn: int  # 1-based within the trace, nested agent-tool calls included
    agent: str | None
    depth: int
    span_id: str
    response: ModelResponse | None
    error: str | None = None  # the call failed ("ModelError: HTTP 500 ..."): no response


@dataclass(frozen=True, slots=True)
class Recording:
    """A run of baton's runner ready to re-serve: its model calls in order, what it was
    started with and by whom, and the turn limit it hit, if any."""

    conversation: Conversation
    calls: tuple[RecordedCall, ...]
    input: str | list[dict[str, Any]] | None  # what the run was started with
    first_agent: str | None
    max_turns: int | None  # the limit the run hit, when it ended on MaxTurnsExceeded

    @property
    def trace_id(self) -> str:
        return self.conversation.trace_ids[0]

    def missing(self, upto: int | None = None) -> list[int]:
        """Turns (below ``upto``) that neither got a recorded response nor failed."""
        return [
            c.turn
            for c in self.calls
            if c.response is None and c.error is None and (upto is None or c.turn < upto)
        ]


def load_recording(store: StoreLike, trace_id: str) -> Recording:
    """The run ``trace_id`` ready to re-serve. Raises ``ReplayError`` (naming the store)
    for an unknown id, a conversation of several runs, or another producer's trace."""
    store = existing_store(store)
    conversation = load_conversation(store, trace_id)
    if len(conversation.trace_ids) != 1:
        listed = ", ".join(conversation.trace_ids[:5])
        raise ReplayError(
            f"{trace_id!r} is a conversation of {len(conversation.trace_ids)} runs in "
            f"{store.path}; give one of its trace ids: {listed}"
        )
    foreign = [s for s in conversation.sources if s not in (*_SERVABLE_SOURCES, "unknown")]
    if foreign or not conversation.steps:
        what = f"by {', '.join(foreign)}" if foreign else "with no model calls"
        raise ReplayError(
            f"trace {conversation.trace_ids[0]} in {store.path} was recorded {what}; "
            "re-runs serve the responses of runs of baton's runner, and of OpenAI Agents SDK "
            "runs recorded by tracer.agents_sdk.install()"
        )
    with store.read_connection() as con:
        rows = con.execute(
            "SELECT span_id, attributes::VARCHAR FROM spans WHERE trace_id = ? AND op = 'chat'",
            [conversation.trace_ids[0]],
        ).fetchall()
    responses = {span_id: _response(text) for span_id, text in rows}
    calls = tuple(
        RecordedCall(
            step.turn,
            step.agent,
            depth,
            step.span_id,
            responses.get(step.span_id),
            _failure(step) if step.status == "error" else None,
        )
        for step, depth in sorted(all_steps(conversation.steps), key=lambda p: p[0].turn)
    )
    first = conversation.steps[0]
    return Recording(
        conversation=conversation,
        calls=calls,
        input=run_input(first.input_messages),
        first_agent=first.agent,
        max_turns=_max_turns(conversation),
    )


def run_input(messages: Sequence[Message] | None) -> str | list[dict[str, Any]] | None:
    """What a run was started with, from its first model call's input: the user's text,
    or Chat Completions messages. None when not recorded (or cut by the size limit)."""
    if messages is None:
        return None
    history = [m for m in messages if m.role != "system"]
    if any(m.role == "unknown" for m in history):
        return None
    if (
        len(history) == 1
        and history[0].role == "user"
        and all(p.type == "text" for p in history[0].parts)
    ):
        return history[0].text
    out: list[dict[str, Any]] = []
    for message in history:
        if message.role == "tool":
            out.extend(
                {"role": "tool", "tool_call_id": p.call_id, "content": p.content or ""}
                for p in message.parts
                if p.type == "tool_call_response"
            )
            continue
        chat: dict[str, Any] = {"role": message.role, "content": message.text or None}
        calls = [p for p in message.parts if p.type == "tool_call"]
        if calls:
            chat["tool_calls"] = [
                {
                    "id": p.call_id,
                    "type": "function",
                    "function": {"name": p.name, "arguments": p.arguments or "{}"},
                }
                for p in calls
            ]
        out.append(chat)
    return out


def _response(attributes_json: str | None) -> ModelResponse | None:
    try:
        attributes = json.loads(attributes_json or "{}")
        return recorded_response(attributes)
    except (ValueError, KeyError, TypeError):
        return None  # not recorded, or cut by the store's size limit


def _failure(step: Step) -> str:
    own = [e for e in step.errors if e.span_id == step.span_id]
    if own:
        return own[0].message or own[0].kind
    return "the model call failed"


def _max_turns(conversation: Conversation) -> int | None:
    for error in conversation.errors:
        if error.kind == "MaxTurnsExceeded" and error.message:
            found = _MAX_TURNS.search(error.message)
            if found:
                return int(found.group(1))
    return None
