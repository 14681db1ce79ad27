"""Scrubbing a long conversation: where the next user message, run or handoff starts,
and how the timeline marks those boundaries.

Pure functions over the replay model (step indexes are 1-based), shared by the replay
screen's keys and the timeline.
"""

from __future__ import annotations

from collections.abc import Sequence
from itertools import pairwise

from replay.model import Conversation
from replay.steps import Outline, outlines

#: What the jump keys go to, as their help names them.
KINDS = {"user": "user message", "run": "run", "handoff": "handoff"}


def jump_targets(conversation: Conversation, kind: str) -> list[int]:
    """The steps a jump of ``kind`` lands on: the first step answering each user message,
    the first step of each run, each step that handed control over."""
    steps = conversation.steps
    if kind == "user":
        starts = {turn.first_step for turn in conversation.user_turns}
        starts |= {
            step.index for previous, step in pairwise(steps) if step.user_turn != previous.user_turn
        }
        return sorted(starts | ({1} if steps else set()))
    if kind == "run":
        return [
            step.index
            for i, step in enumerate(steps)
            if i == 0 or step.trace_id != steps[i - 1].trace_id
        ]
    if kind == "handoff":
        return [step.index for step in steps if step.handoff is not None]
    raise ValueError(f"no jumps to {kind!r}")


def next_target(targets: list[int], index: int, direction: int) -> tuple[int | None, bool]:
    """The target after (``direction`` 1) or before (-1) step ``index``, and whether the
    search went round the end to find it."""
    if not targets:
        return None, False
    ahead = (
        [t for t in targets if t > index] if direction > 0 else [t for t in targets if t < index]
    )
    if ahead:
        return (ahead[0] if direction > 0 else ahead[-1]), False
    wrapped = targets[0] if direction > 0 else targets[-1]
    return (wrapped, True) if wrapped != index else (None, False)


def boundaries(conversation: Conversation) -> list[str]:
    """For each step, what starts there: ``run`` (a new run of a multi-run conversation),
    ``user`` (a new user message within a run) or ``""``."""
    shown = outlines(conversation.steps)  # without making the steps
    return [boundary(shown, i) for i in range(len(shown))]


def boundary(shown: Sequence[Outline], position: int) -> str:
    """What starts at the step at ``position`` (0-based) of ``shown``, as ``boundaries``
    says: read from it and the one before, so a window of steps costs its own length."""
    if position == 0:
        return ""
    step, previous = shown[position], shown[position - 1]
    if step.trace_id != previous.trace_id:
        return "run"
    if step.user_turn != previous.user_turn:
        return "user"
    return ""
