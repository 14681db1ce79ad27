"""A conversation's steps are made when first read (``replay.steps.Steps``): in whatever
order they are read, they equal the steps made all at once, and what the timeline, the
agent graph and the title need comes from outlines, without making them."""

from __future__ import annotations

import dataclasses
import random
from pathlib import Path

import pytest
from recordings import LONG, RECORDED, imported

import replay
from replay.model import Conversation, model_calls
from replay.steps import Steps, outlines
from tui.scrub import boundaries
from tui.widgets.replay_bars import conversation_title
from tui.widgets.timeline import turn_marks

pytestmark = pytest.mark.usefixtures("utc")


def test_there_are_recordings_to_compare() -> None:
    assert len(RECORDED) > 40


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_steps_read_in_any_order_equal_the_steps_made_at_once(path: Path, tmp_path: Path) -> None:
    store, ids = imported(path, tmp_path)
    for conversation_id in ids:
        at_once = replay.load_conversation(store, conversation_id)
        made = tuple(at_once.steps)  # every step, in order
        lazy = replay.load_conversation(store, conversation_id)
        assert isinstance(lazy.steps, Steps)
        order = list(range(len(lazy.steps)))
        random.Random(conversation_id).shuffle(order)
        scattered = {i: lazy.steps[i] for i in reversed(order)}
        assert tuple(scattered[i] for i in range(len(order))) == made
        assert lazy == at_once and repr(lazy) == repr(at_once)
        assert lazy.steps == made and made == lazy.steps and hash(lazy.steps) == hash(made)
        assert lazy.steps[1:3] == made[1:3] and (not made or lazy.steps[-1] == made[-1])


@pytest.mark.parametrize("path", RECORDED, ids=lambda p: p.name)
def test_outlines_say_what_the_made_steps_say(path: Path, tmp_path: Path) -> None:
    store, ids = imported(path, tmp_path)
    for conversation_id in ids:
        lazy = replay.load_conversation(store, conversation_id)
        plain = dataclasses.replace(
            lazy, steps=tuple(replay.load_conversation(store, conversation_id).steps)
        )
        # Read before any step is made (lazy), and from the made steps (plain).
        assert outlines(lazy.steps) == outlines(plain.steps)
        assert turn_marks(lazy) == turn_marks(plain)
        assert boundaries(lazy) == boundaries(plain)
        assert replay.agent_graph(lazy) == replay.agent_graph(plain)
        for upto in (0, 1, 2, len(plain.steps)):
            assert replay.agent_graph(lazy, upto_step=upto) == replay.agent_graph(
                plain, upto_step=upto
            )
        assert model_calls(lazy.steps) == model_calls(plain.steps)
        assert lazy.n_turns == plain.n_turns
        assert conversation_title(lazy) == conversation_title(plain)


def made(conversation: Conversation) -> int:
    assert isinstance(conversation.steps, Steps)
    return conversation.steps.made


def test_opening_a_long_conversation_makes_only_the_steps_read(tmp_path: Path) -> None:
    """What the replay screen reads on opening (the timeline's marks, the graph, the
    title, the first turn) makes no step but the first turn's and those the build needs
    (a user turn's first and last step, for its text and output): counted."""
    store, _ = imported(LONG, tmp_path)
    conversation_id = store.query("SELECT conversation_id FROM conversations").rows[0][0]
    conversation = replay.load_conversation(store, conversation_id)
    steps = len(conversation.steps)
    built = made(conversation)
    assert steps >= 40 and built <= 2 * len(conversation.user_turns) < steps
    turn_marks(conversation)
    boundaries(conversation)
    replay.agent_graph(conversation)
    replay.agent_graph(conversation, upto_step=1)
    conversation_title(conversation)
    assert made(conversation) == built
    first = conversation.steps[0]
    assert made(conversation) <= built + 1
    assert conversation.steps[0] is first  # made once
    list(conversation.steps)
    assert made(conversation) == steps
