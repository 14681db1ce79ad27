"""Finding text in a conversation: messages, tool arguments and results, nested turns.

Pure functions over the replay model; the replay screen runs them in a worker because a
conversation may have ten thousand turns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from replay.model import Message, Step
from tui.turns import split_input


def step_texts(steps: Sequence[Step]) -> list[str]:
    """``step_text`` of each step, in order."""
    return [step_text(step, steps[i - 1] if i else None) for i, step in enumerate(steps)]


def step_text(step: Step, previous: Step | None) -> str:
    """What is new in a turn, lower-cased, one piece per line: its fresh input (not the
    history it was sent again), its answer, its tool calls and nested turns, its errors.
    Searching the history too would match every turn after the first mention."""
    return "\n".join(_pieces(step, previous)).lower()


def _pieces(step: Step, previous: Step | None) -> Iterator[str]:
    if step.agent:
        yield step.agent
    _, fresh = split_input(step.input_messages or (), previous)
    for message in (*_new_instructions(step, previous), *fresh, *(step.output_messages or ())):
        yield from _message_pieces(message)
    for call in step.tool_calls:
        yield call.name
        for piece in (call.arguments, call.result, call.agent, call.error_type):
            if piece:
                yield piece
        before: Step | None = None
        for inner in call.nested:
            yield from _pieces(inner, before)
            before = inner
    for error in step.errors:
        yield error.kind
        if error.message:
            yield error.message


def _instructions(step: Step | None) -> list[Message]:
    messages = (step.input_messages or ()) if step is not None else ()
    return [m for m in messages if m.role in ("system", "developer")]


def _new_instructions(step: Step, previous: Step | None) -> list[Message]:
    """The system prompts a turn was sent that the turn before was not (the first turn's,
    a new agent's after a transfer): shown under "earlier context", found by search."""
    before = set(_instructions(previous))
    return [m for m in _instructions(step) if m not in before]


def _message_pieces(message: Message) -> Iterator[str]:
    for part in message.parts:
        for piece in (part.content, part.name, part.arguments):
            if piece:
                yield piece


def mentions(message: Message, term: str) -> bool:
    """Whether ``message`` holds ``term`` (any case)."""
    needle = term.lower()
    return any(needle in piece.lower() for piece in _message_pieces(message))


def matching_steps(texts: Sequence[str], term: str) -> tuple[int, ...]:
    """The 1-based indexes of the turns that mention ``term``."""
    needle = term.lower()
    return tuple(i + 1 for i, text in enumerate(texts) if needle in text)


def find_step(
    texts: Sequence[str], term: str, current: int, *, backwards: bool = False
) -> int | None:
    """The 1-based index of the next turn (after ``current``, wrapping round) whose text
    holds ``term``; ``texts[i]`` is turn ``i + 1``'s ``step_text``."""
    needle = term.lower()
    count = len(texts)
    for offset in range(1, count + 1):
        index = (current - 1 + (-offset if backwards else offset)) % count
        if needle in texts[index]:
            return index + 1
    return None
