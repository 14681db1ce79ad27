"""What is new in a turn: a model call is sent the whole history, so its own part is what
came after the last answer (a user's question, tool results) plus what it answered.

Pure functions over the replay model, shared by the message panel and search.
"""

from __future__ import annotations

from collections.abc import Sequence

from replay.model import Message, Step
from replay.model import model_calls as replay_model_calls


def split_input(
    messages: Sequence[Message], previous: Step | None
) -> tuple[list[Message], list[Message]]:
    """Split a model call's input into earlier context and what is new this turn: the
    messages after the last assistant message (a user's question, tool results). Results
    of calls the previous turn made are dropped: they show under that turn already."""
    last_assistant = max((i for i, m in enumerate(messages) if m.role == "assistant"), default=-1)
    context = list(messages[: last_assistant + 1])
    fresh = list(messages[last_assistant + 1 :])
    context += [m for m in fresh if m.role in ("system", "developer")]
    fresh = [m for m in fresh if m.role not in ("system", "developer")]
    answered = _requested(previous) if previous else set()
    fresh = [m for m in fresh if not (m.role == "tool" and _answers(m) <= answered and _answers(m))]
    return context, fresh


def _requested(step: Step) -> set[str]:
    """The call ids of every tool (transfers included) the step asked for."""
    ids = {call.call_id for call in step.tool_calls if call.call_id}
    for message in step.output_messages or ():
        ids.update(p.call_id for p in message.parts if p.type == "tool_call" and p.call_id)
    return ids


def _answers(message: Message) -> set[str]:
    return {p.call_id for p in message.parts if p.type == "tool_call_response" and p.call_id}


def model_calls(steps: Sequence[Step]) -> int:
    """Every model call of ``steps``, those of agents used as tools and of guardrails'
    agents included: what the ``turns`` view and the conversation list count as turns."""
    return replay_model_calls(steps)  # as they are: a tuple of them would make every step
