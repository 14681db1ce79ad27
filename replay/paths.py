"""A run's path: per model call, the agent holding control, the tools it called with
which arguments, and where it handed control. Diffs and re-runs compare paths."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from replay.model import Conversation, Step


@dataclass(frozen=True, slots=True)
class PathTurn:
    """One model call on a run's path. ``depth`` is 0 for the run's own agents, 1 inside
    an agent called as a tool, and so on; ``output`` is the answer's text when recorded."""

    turn: int  # 1-based along the path (the trace's turn for a single run)
    depth: int
    agent: str | None
    tool_calls: tuple[tuple[str, str | None], ...]  # (tool, arguments) in the order called
    handoff: str | None  # the agent control passed to
    output: str | None
    failed_tools: tuple[str, ...] = ()
    failed: str | None = None  # the model call itself failed: the error's type

    def describe(self) -> str:
        """One line: ``Billing: lookup_invoice {"id": "A-1"}, hands off to Refunds``."""
        said = [f"{name} {args}" if args else name for name, args in self.tool_calls]
        if self.handoff:
            said.append(f"hands off to {self.handoff}")
        if not said and self.failed == "Diverged":
            said.append("calls the model; not served, as the recorded run did not")
        elif not said and self.failed:
            said.append(f"calls the model, which fails ({self.failed})")
        elif not said:
            said.append("answers" if self.output is None else f"answers {_quote(self.output)}")
        return f"{self.agent or '?'}: {', '.join(said)}"


@dataclass(frozen=True, slots=True)
class Divergence:
    """Where two paths first part: the turn, what differs, and each side's account."""

    turn: int
    aspect: str  # agent, tool calls, handoff, tool failures, length
    expected: str
    got: str

    def describe(self) -> str:
        return (
            f"turn {self.turn}: {self.aspect} differ\n"
            f"  expected: {self.expected}\n"
            f"  got:      {self.got}"
        )


def run_path(conversation: Conversation) -> list[PathTurn]:
    """The conversation's model calls in order, agent-tool runs inline after their caller."""
    path: list[PathTurn] = []

    def walk(steps: Iterable[Step], depth: int) -> None:
        for step in steps:
            path.append(path_turn(step, len(path) + 1, depth))
            for call in step.tool_calls:
                walk(call.nested, depth + 1)

    walk(conversation.steps, 0)
    return path


def path_turn(step: Step, turn: int, depth: int) -> PathTurn:
    output = None
    if step.output_messages:
        output = "\n".join(m.text for m in step.output_messages if m.text) or None
    return PathTurn(
        turn=turn,
        depth=depth,
        agent=step.agent,
        tool_calls=tuple((c.name, c.arguments) for c in step.tool_calls),
        handoff=step.handoff.to_agent if step.handoff is not None else None,
        output=output,
        failed_tools=tuple(c.name for c in step.tool_calls if c.status == "error"),
        failed=_failure(step),
    )


def _failure(step: Step) -> str | None:
    if step.status != "error":
        return None
    own = [e.kind for e in step.errors if e.span_id == step.span_id]
    return own[0] if own else "error"


def differences(expected: PathTurn, got: PathTurn) -> list[str]:
    """The aspects of the path in which two turns differ (outputs are not path)."""
    found = []
    if (expected.agent, expected.depth) != (got.agent, got.depth):
        found.append("agent")
    if expected.handoff != got.handoff:
        found.append("handoff")
    if _calls(expected.tool_calls) != _calls(got.tool_calls):
        found.append("tool calls")
    if expected.failed_tools != got.failed_tools:
        found.append("tool failures")
    return found


def first_divergence(expected: Sequence[PathTurn], got: Sequence[PathTurn]) -> Divergence | None:
    """The first turn at which ``got`` leaves ``expected``'s path, if it does."""
    for left, right in zip(expected, got, strict=False):
        found = differences(left, right)
        if found:
            return Divergence(
                left.turn, found[0], _account(left, found[0]), _account(right, found[0])
            )
    if len(expected) > len(got):
        nxt = expected[len(got)]
        return Divergence(nxt.turn, "length", nxt.describe(), "the run ended")
    if len(got) > len(expected):
        nxt = got[len(expected)]
        return Divergence(nxt.turn, "length", "the run ended", nxt.describe())
    return None


def _account(turn: PathTurn, aspect: str) -> str:
    if aspect == "agent":
        return f"{turn.agent or '?'}" + (
            f" (inside an agent tool, depth {turn.depth})" if turn.depth else ""
        )
    if aspect == "handoff":
        return (
            f"{turn.agent or '?'} hands off to {turn.handoff}"
            if turn.handoff
            else f"{turn.agent or '?'} keeps control"
        )
    if aspect == "tool failures":
        return f"failed: {', '.join(turn.failed_tools)}" if turn.failed_tools else "no tool failed"
    return turn.describe()


def _calls(calls: tuple[tuple[str, str | None], ...]) -> list[tuple[str, str]]:
    """Tool calls compared as JSON values (key order and spacing do not matter)."""
    return sorted((name, canonical_json(args)) for name, args in calls)


def canonical_json(text: str | None) -> str:
    if text is None:
        return ""
    try:
        return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":"))
    except ValueError:
        return text


def _quote(text: str, limit: int = 60) -> str:
    line = " ".join(text.split())
    return json.dumps(line if len(line) <= limit else line[: limit - 1] + "…", ensure_ascii=False)
