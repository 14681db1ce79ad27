"""A conversation's transitions are made when first read (``replay.steps.Transitions``)
and the timeline's marks when first drawn (``tui.widgets.timeline.lazy_turn_marks``): in
whatever order they are read they equal what reading everything at once gives, and
opening a long conversation makes neither transitions nor marks beyond those shown."""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from recordings import LONG, RECORDED, imported

import replay
from replay.model import Conversation
from replay.steps import HandoffOutline, Transitions, handoff_outline, outlines
from tui.scrub import boundaries
from tui.widgets.replay_bars import conversation_title
from tui.widgets.timeline import lazy_turn_marks, turn_marks

pytestmark = pytest.mark.usefixtures("utc")


def test_there_are_handoffs_to_compare() -> None:
    assert len(RECORDED) > 40


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_transitions_read_in_any_order_equal_those_the_steps_hold(
    path: Path, tmp_path: Path
) -> None:
    store, ids = imported(path, tmp_path)
    for conversation_id in ids:
        # Made through the steps first (each step's handoff), then read in order.
        by_steps = replay.load_conversation(store, conversation_id)
        handoffs = [s.handoff for s in by_steps.steps if s.handoff is not None]
        made = tuple(by_steps.transitions)
        # Made by reading the transitions first, in a shuffled order.
        lazy = replay.load_conversation(store, conversation_id)
        assert isinstance(lazy.transitions, Transitions)
        order = list(range(len(lazy.transitions)))
        random.Random(conversation_id).shuffle(order)
        scattered = {i: lazy.transitions[i] for i in order}
        assert tuple(scattered[i] for i in range(len(order))) == made
        assert lazy.transitions == made and made == lazy.transitions
        assert hash(lazy.transitions) == hash(made) and repr(lazy.transitions) == repr(made)
        assert [t.reason for t in lazy.transitions] == [t.reason for t in made]
        assert lazy == by_steps and repr(lazy) == repr(by_steps)
        # A step's handoff is its conversation's transition, the same object.
        assert all(any(h is t for t in made) for h in handoffs)
        for step in lazy.steps:  # the steps, made after their transitions
            if step.handoff is not None:
                assert any(step.handoff is t for t in lazy.transitions)
        # The outline's agents are its step's transition's.
        assert [o.handoff for o in outlines(lazy.steps)] == [
            handoff_outline(s.handoff) for s in by_steps.steps
        ]


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_marks_made_in_any_order_equal_turn_marks(path: Path, tmp_path: Path) -> None:
    store, ids = imported(path, tmp_path)
    for conversation_id in ids:
        conversation = replay.load_conversation(store, conversation_id)
        every = turn_marks(conversation)
        marks = lazy_turn_marks(conversation)
        assert len(marks) == len(every) and marks.made == 0
        order = list(range(len(marks)))
        random.Random(conversation_id).shuffle(order)
        assert {i: marks[i] for i in order} == dict(enumerate(every))
        assert list(marks) == every and marks[1:4] == tuple(every[1:4])
        assert not every or marks[-1] == every[-1]


def made_transitions(conversation: Conversation) -> int:
    assert isinstance(conversation.transitions, Transitions)
    return conversation.transitions.made


def test_opening_a_long_conversation_makes_no_transition(tmp_path: Path) -> None:
    """What the replay screen reads on opening (marks, boundaries, graph, title)
    makes no transition but those of the steps the build makes (a user turn's first and
    last): counted."""
    store, _ = imported(LONG, tmp_path)
    conversation_id = store.query("SELECT conversation_id FROM conversations").rows[0][0]
    conversation = replay.load_conversation(store, conversation_id)
    count = len(conversation.transitions)
    assert count >= 20
    built = made_transitions(conversation)
    assert built <= 2 * len(conversation.user_turns) < count
    turn_marks(conversation)
    boundaries(conversation)
    replay.agent_graph(conversation)
    conversation_title(conversation)
    assert made_transitions(conversation) == built
    handed = next(o for o in outlines(conversation.steps) if o.handoff is not None)
    assert isinstance(handed.handoff, HandoffOutline)
    step = conversation.steps[handed.step_index - 1]
    assert step.handoff is not None
    assert made_transitions(conversation) <= built + 1
    list(conversation.transitions)
    assert made_transitions(conversation) == count
