"""Finding text in a conversation: messages, tool arguments and results, nested turns.

Pure functions over the replay model; the replay screen runs them in a worker because a
conversation may have ten thousand turns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from replay.model import Message, Step


def step_text(step: Step) -> str:
    """Everything searchable in a turn, lower-cased, one piece per line."""
    return "\n".join(_pieces(step)).lower()


def _pieces(step: Step) -> Iterator[str]:
    if step.agent:
        yield step.agent
    for message in (*(step.input_messages or ()), *(step.output_messages or ())):
        yield from _message_pieces(message)
    for call in step.tool_calls:
        yield call.name
        for piece in (call.arguments, call.result, call.agent, call.error_type):
            if piece:
                yield piece
        for inner in call.nested:
            yield from _pieces(inner)
    for error in step.errors:
        yield error.kind
        if error.message:
            yield error.message


def _message_pieces(message: Message) -> Iterator[str]:
    for part in message.parts:
        for piece in (part.content, part.name, part.arguments):
            if piece:
                yield piece


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
