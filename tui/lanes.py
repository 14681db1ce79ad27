"""Agent lanes: one row per agent, one column per turn, readable without colour.

Each lane starts with its agent's name. A turn is ``●`` in the lane of the agent that
held the conversation (``◉`` for the current one); an agent called as a tool, or a
guardrail's agent, is ``◇`` in its own lane in the same column, so calls made together
stand together; a transfer is drawn from the sender's lane to the receiver's between the
two turns (``╮ │ ╰``, or ``╯ │ ╭`` upwards). Under the lanes a row marks loops (``⟲``),
errors (``✗``) and tripped guardrails (``⊘``); boundaries between runs (``┃``) and user
messages (``╎``) cross every lane. Colour only adds to the glyphs: ``NO_COLOR`` loses
nothing.

Pure functions over the replay model, returning Rich ``Text`` lines, so the drawing can
be tested without a terminal. Long conversations show the window round the current turn.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich.style import Style
from rich.text import Text

from replay.model import Conversation
from tui.palette import AgentColors
from tui.scrub import boundaries

TURN, CURRENT, CALLED, EMPTY = "●", "◉", "◇", "·"
LOOP, ERROR, TRIPPED = "⟲", "✗", "⊘"
RUN_START, USER_START = "┃", "╎"
LEGEND = (
    f"{TURN} turn  {CALLED} as tool/guardrail  ╮╰ transfer  {LOOP} loop  {ERROR} error  "
    f"{TRIPPED} tripped  {RUN_START} run  {USER_START} user message"
)
MAX_LABEL = 14
DIM = Style(dim=True)


@dataclass(frozen=True, slots=True)
class LaneColumn:
    """What one top-level turn puts in the lanes."""

    agent: str | None
    called: tuple[str, ...]  # agents run under this turn: agents as tools, guardrails'
    hands_to: str | None  # the agent a transfer in this turn handed control to
    in_loop: bool
    failed: bool
    tripped: bool  # a guardrail's tripwire triggered on this turn
    boundary: str  # RUN_START, USER_START or "" before this turn


def lane_columns(
    conversation: Conversation, looping: set[int], failing: set[int]
) -> list[LaneColumn]:
    """One column per top-level step; ``looping`` and ``failing`` are step indexes."""
    columns: list[LaneColumn] = []
    glyphs = {"run": RUN_START, "user": USER_START, "": ""}
    for step, starts in zip(conversation.steps, boundaries(conversation), strict=True):
        boundary = glyphs[starts]
        guardrails = getattr(step, "guardrails", ())
        called = [call.agent for call in step.tool_calls if call.is_agent and call.agent]
        for guardrail in guardrails:
            called += [inner.agent for inner in guardrail.nested if inner.agent]
        columns.append(
            LaneColumn(
                agent=step.agent,
                called=tuple(dict.fromkeys(a for a in called if a != step.agent)),
                hands_to=step.handoff.to_agent if step.handoff is not None else None,
                in_loop=step.index in looping,
                failed=step.index in failing,
                tripped=any(g.triggered for g in guardrails),
                boundary=boundary,
            )
        )
    return columns


def lane_agents(conversation: Conversation, columns: Sequence[LaneColumn]) -> tuple[str, ...]:
    """The lanes, top to bottom: agents in order of first appearance."""
    names: dict[str, None] = dict.fromkeys(conversation.agents)
    for column in columns:
        for name in (column.agent, *column.called, column.hands_to):
            if name:
                names.setdefault(name)
    return tuple(names)


def label_width(agents: Sequence[str]) -> int:
    return min(MAX_LABEL, max((len(a) for a in agents), default=1))


def visible_turns(width: int, agents: Sequence[str]) -> int:
    """How many turns fit in ``width`` cells: three cells a turn (a separator, the glyph
    and the transfer connector) after the labels."""
    return max(1, (width - label_width(agents) - 1 + 1) // 3)


def draw_lanes(
    columns: Sequence[LaneColumn],
    agents: Sequence[str],
    *,
    current: int,
    start: int,
    visible: int,
    colors: AgentColors,
) -> list[Text]:
    """The lanes of turns ``start`` (0-based) to ``start + visible``, turn ``current``
    (1-based) marked, then the row of marks."""
    label = label_width(agents)
    row_of = {agent: row for row, agent in enumerate(agents)}
    lines = [Text(no_wrap=True, overflow="crop") for _ in agents]
    for row, agent in enumerate(agents):
        name = agent if len(agent) <= label else agent[: label - 1] + "…"
        lines[row].append(name.ljust(label), colors.text(agent))
    marks = Text(" " * label, no_wrap=True, overflow="crop")
    arriving: int | None = None  # the lane a transfer in the previous turn arrives in
    for offset, column in enumerate(columns[start : start + visible]):
        index = start + offset + 1
        source = row_of.get(column.agent or "")
        target = row_of.get(column.hands_to or "")
        for row, agent in enumerate(agents):
            line = lines[row]
            if column.boundary:
                line.append(column.boundary, DIM)
            elif row == arriving:
                line.append("─", colors.text(agent))
            else:
                line.append(" ")
            if agent == column.agent:
                glyph = CURRENT if index == current else TURN
                style = colors.text(agent) + Style(reverse=index == current)
            elif agent in column.called:
                glyph, style = CALLED, colors.text(agent)
            else:
                glyph, style = EMPTY, DIM
            line.append(glyph, style)
            line.append(_connector(row, source, target), colors.text(column.agent))
        marks.append(column.boundary or " ", DIM)
        mark = (
            ERROR
            if column.failed
            else TRIPPED
            if column.tripped
            else LOOP
            if column.in_loop
            else " "
        )
        marks.append(mark, _mark_style(mark))
        marks.append(" ")
        arriving = target if source is not None and target != source else None
    return [*lines, marks]


def _connector(row: int, source: int | None, target: int | None) -> str:
    """The character right of a turn's glyph in lane ``row``: part of a transfer from
    lane ``source`` to lane ``target``, or a space."""
    if source is None or target is None or source == target:
        return " "
    low, high = min(source, target), max(source, target)
    if not low <= row <= high:
        return " "
    if row == source:
        return "╮" if target > source else "╯"
    if row == target:
        return "╰" if target > source else "╭"
    return "│"


def _mark_style(mark: str) -> Style:
    if mark in (ERROR, TRIPPED):
        return Style(color="#e0505a", bold=True)
    if mark == LOOP:
        return Style(color="#e5a03a", bold=True)
    return Style()
