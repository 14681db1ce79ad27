"""Assembling a ``Conversation`` from the span columns ``load_conversation`` fetched: one
pass per trace in start order. A tool call or handoff belongs to the latest model call
started before it at the same level (the top-level run, or the run of one agent called
as a tool), which is the call whose answer asked for it."""

from __future__ import annotations

import datetime as dt
from bisect import bisect_left, bisect_right
from typing import Any

from replay.content import StepContent
from replay.model import (
    Conversation,
    RunError,
    Step,
    ToolCall,
    TraceLoop,
    Transition,
    UserTurn,
)
from tracer.loops import Handoff, LoopSettings, find_loops

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TRANSFER_OR_TOOL = frozenset(("tool", "agent_tool", "handoff"))


class _Draft:
    """A model call being assembled: the spans its answer made happen."""

    __slots__ = ("errors", "handoff", "index", "level", "row", "tools", "turn")

    def __init__(self, row: int, turn: int, level: str | None) -> None:
        self.row = row
        self.turn = turn  # 1-based within the trace, nested calls included (``turns`` view)
        self.level = level  # span id of the agent-tool call it runs under; None at the top
        self.index = 0  # the top-level step it is, or runs under
        self.tools: list[int] = []
        self.handoff: int | None = None
        self.errors: list[RunError] = []


class _Calls:
    """The model calls of one level of one trace, in start order."""

    __slots__ = ("drafts", "starts")

    def __init__(self) -> None:
        self.starts: list[int] = []
        self.drafts: list[_Draft] = []

    def latest_at(self, time_us: int) -> _Draft | None:
        """The last call started at or before ``time_us``: the one whose answer asked for
        what starts then."""
        at = bisect_right(self.starts, time_us) - 1
        return self.drafts[at] if at >= 0 else None


class Builder:
    """Turns one fetch of span columns into a ``Conversation``."""

    def __init__(self, columns: dict[str, list[Any]], settings: LoopSettings) -> None:
        self.c = columns
        self.settings = settings
        self.steps: list[Step] = []
        self.transitions: list[Transition] = []
        self.loops: list[TraceLoop] = []
        self.user_turns: list[UserTurn] = []
        self.errors: list[RunError] = []

    def conversation(self, conversation_id: str) -> Conversation:
        c = self.c
        traces: dict[str, list[int]] = {}
        for row, trace_id in enumerate(c["trace_id"]):
            traces.setdefault(trace_id, []).append(row)  # rows come in start order
        for trace_id, rows in traces.items():
            self._trace(trace_id, rows)
        starts, ends = c["start_us"], c["end_us"]
        last = max(
            (e if e is not None else s for s, e in zip(starts, ends, strict=True)), default=None
        )
        return Conversation(
            conversation_id=conversation_id,
            trace_ids=tuple(traces),
            started_at=_time(starts[0]) if starts else None,
            ended_at=_time(last) if last is not None else None,
            agents=tuple(dict.fromkeys(a for a in c["agent_name"] if a is not None)),
            steps=tuple(self.steps),
            transitions=tuple(self.transitions),
            loops=tuple(self.loops),
            user_turns=tuple(self.user_turns),
            errors=tuple(self.errors),
            sources=tuple(dict.fromkeys(s for s in c["source"] if s is not None)),
        )

    def _trace(self, trace_id: str, rows: list[int]) -> None:
        c = self.c
        ops, span_ids, starts = c["op"], c["span_id"], c["start_us"]
        levels = (
            _levels(rows, span_ids, c["parent_span_id"], ops)
            if "agent_tool" in (ops[r] for r in rows)
            else {}
        )

        calls: dict[str | None, _Calls] = {}
        drafts: list[_Draft] = []
        owner_of: dict[int, _Draft] = {}  # tool, agent-tool and handoff rows -> their call
        called_by: dict[str, _Draft] = {}  # agent-tool span id -> the call that made it
        handoff_rows: list[int] = []
        breaks: list[int] = []  # when tool calls and final answers happened (loop breakers)
        failed: list[int] = []
        for row in rows:
            op = ops[row]
            if op == "chat":
                level = levels.get(span_ids[row])
                draft = _Draft(row, len(drafts) + 1, level)
                drafts.append(draft)
                at_level = calls.get(level)
                if at_level is None:
                    at_level = calls[level] = _Calls()
                at_level.starts.append(starts[row])
                at_level.drafts.append(draft)
                if c["final_answer"][row]:
                    breaks.append(starts[row])
            elif op in _TRANSFER_OR_TOOL:
                at_level = calls.get(levels.get(span_ids[row]))
                owner = at_level.latest_at(starts[row]) if at_level is not None else None
                if op == "handoff":
                    handoff_rows.append(row)
                else:
                    breaks.append(starts[row])
                if owner is not None:
                    owner_of[row] = owner
                    if op == "handoff":
                        if owner.handoff is None:  # a response's first handoff is followed
                            owner.handoff = row
                    else:
                        owner.tools.append(row)
                        if op == "agent_tool":
                            called_by[span_ids[row]] = owner
            if c["status"][row] == "error":
                failed.append(row)

        top = calls.get(None, _Calls())
        for offset, draft in enumerate(top.drafts, start=len(self.steps) + 1):
            draft.index = offset
        for draft in drafts:
            if draft.level is not None:
                draft.index = _top_index(draft, called_by)

        transitions = [
            Transition(
                trace_id=trace_id,
                seq=seq,
                turn=owner_of[row].turn if row in owner_of else None,
                from_agent=c["from_agent"][row],
                to_agent=c["to_agent"][row],
                at=_time(starts[row]),
                span_id=span_ids[row],
            )
            for seq, row in enumerate(handoff_rows, start=1)
        ]
        self._errors(trace_id, failed, owner_of, drafts, top)
        user_turn = len(self.user_turns) + 1
        steps = self._steps(trace_id, drafts, levels, transitions, user_turn)
        top_steps = [steps[d.row] for d in top.drafts]
        self.steps.extend(top_steps)
        self.transitions.extend(transitions)
        if top_steps:
            self.user_turns.append(
                UserTurn(
                    index=user_turn,
                    trace_id=trace_id,
                    text=_user_text(top_steps[0]),
                    first_step=top_steps[0].index,
                    last_step=top_steps[-1].index,
                )
            )
        self._loops(trace_id, transitions, sorted(breaks), owner_of, handoff_rows)

    def _errors(
        self,
        trace_id: str,
        failed: list[int],
        owner_of: dict[int, _Draft],
        drafts: list[_Draft],
        top: _Calls,
    ) -> None:
        """Every failure, with the step it belongs to. An agent or workflow span failing
        with the error of a span inside it is the same failure, reported once."""
        c = self.c
        by_row = {d.row: d for d in drafts}
        seen: set[tuple[str | None, str | None]] = set()
        for row in sorted(failed, key=lambda r: c["end_us"][r] or c["start_us"][r]):
            kind, message, op = c["error_type"][row], c["status_message"][row], c["op"][row]
            if op in ("agent", "workflow") and (kind, message) in seen:
                continue
            seen.add((kind, message))
            owner = by_row.get(row) or owner_of.get(row)
            if owner is None:
                ended = c["end_us"][row] or c["start_us"][row]
                owner = top.latest_at(ended)
            error = RunError(
                span_id=c["span_id"][row],
                trace_id=trace_id,
                turn=owner.index if owner is not None else None,
                kind=kind or "error",
                message=message,
                where=c["name"][row],
            )
            if owner is not None:
                owner.errors.append(error)
            self.errors.append(error)

    def _steps(
        self,
        trace_id: str,
        drafts: list[_Draft],
        levels: dict[str, str | None],
        transitions: list[Transition],
        user_turn: int,
    ) -> dict[int, Step]:
        """Every step of the trace by its span's row, nested ones inside their callers."""
        c = self.c
        transition_of = {t.span_id: t for t in transitions}
        nested: dict[str, list[Step]] = {}
        built: dict[int, Step] = {}
        # Innermost first, so an agent tool's steps exist when its caller's step is made.
        if levels:
            drafts = sorted(drafts, key=lambda d: _depth(d.level, levels), reverse=True)
        for draft in drafts:
            row = draft.row
            tool_calls = tuple(self._tool_call(r, nested) for r in draft.tools)
            handoff = None
            if draft.handoff is not None:
                handoff = transition_of[c["span_id"][draft.handoff]]
            step = Step(
                index=draft.index,
                turn=draft.turn,
                trace_id=trace_id,
                span_id=c["span_id"][row],
                agent=c["agent_name"][row],
                model=c["model"][row],
                started_at=_time(c["start_us"][row]),
                duration_ms=c["duration_ms"][row],
                input_tokens=c["input_tokens"][row],
                output_tokens=c["output_tokens"][row],
                status=c["status"][row],
                tool_calls=tool_calls,
                handoff=handoff,
                errors=tuple(draft.errors),
                user_turn=user_turn,
                content=StepContent.recorded(c["source"][row], c["attributes"][row]),
                final_answer=c["final_answer"][row],
            )
            built[row] = step
            if draft.level is not None:
                nested.setdefault(draft.level, []).append(step)
        for steps in nested.values():
            steps.sort(key=lambda s: s.turn)
        return built

    def _tool_call(self, row: int, nested: dict[str, list[Step]]) -> ToolCall:
        c = self.c
        is_agent = c["op"][row] == "agent_tool"
        return ToolCall(
            span_id=c["span_id"][row],
            name=c["tool_name"][row] or c["name"][row],
            call_id=c["tool_call_id"][row],
            arguments=c["tool_arguments"][row],
            result=c["tool_result"][row],
            status=c["status"][row],
            error_type=c["error_type"][row],
            duration_ms=c["duration_ms"][row],
            is_agent=is_agent,
            agent=c["to_agent"][row] if is_agent else None,
            nested=tuple(nested.get(c["span_id"][row], ())),
        )

    def _loops(
        self,
        trace_id: str,
        transitions: list[Transition],
        breaks: list[int],
        owner_of: dict[int, _Draft],
        handoff_rows: list[int],
    ) -> None:
        """Ping-pong loops by ``tracer.loops.find_loops``, breaks as the ``loops`` view
        takes them: a tool call or final answer started strictly between two handoffs."""
        starts = self.c["start_us"]
        handoffs = []
        previous: int | None = None
        for transition, row in zip(transitions, handoff_rows, strict=True):
            at = starts[row]
            latest = bisect_left(breaks, at) - 1
            broken = previous is not None and latest >= 0 and breaks[latest] > previous
            handoffs.append(
                Handoff(
                    from_agent=transition.from_agent or "",
                    to_agent=transition.to_agent or "",
                    seq=transition.seq,
                    turn=transition.turn,
                    broken_before=broken,
                )
            )
            previous = at
        index_of = {row: owner_of[row].index for row in handoff_rows if row in owner_of}
        row_of_seq = dict(enumerate(handoff_rows, start=1))
        for loop in find_loops(handoffs, self.settings):
            self.loops.append(
                TraceLoop(
                    trace_id=trace_id,
                    loop=loop,
                    first_step=index_of.get(row_of_seq[loop.first_seq]),
                    last_step=index_of.get(row_of_seq[loop.last_seq]),
                )
            )


def _levels(
    rows: list[int], span_ids: list[str], parents: list[str | None], ops: list[str]
) -> dict[str, str | None]:
    """Each span's nearest enclosing agent-tool call (the span itself excluded); None for
    spans of the top-level run. A parent missing from the trace counts as the top."""
    parent_of = {span_ids[r]: parents[r] for r in rows}
    agent_tools = {span_ids[r] for r in rows if ops[r] == "agent_tool"}
    levels: dict[str, str | None] = {}
    for row in rows:
        path: list[str] = []
        found: str | None = None
        current = span_ids[row]
        while current not in levels:
            path.append(current)
            parent = parent_of.get(current)
            if parent is None or parent not in parent_of or len(path) > len(parent_of):
                break  # the top, or a cycle of parent links from a broken producer
            if parent in agent_tools:
                found = parent
                break
            current = parent
        else:
            found = current if current in agent_tools else levels[current]
        # Down the path from the top: below an agent-tool span, its calls are its level.
        for span in reversed(path):
            levels[span] = found
            if span in agent_tools:
                found = span
    return levels


def _depth(level: str | None, levels: dict[str, str | None]) -> int:
    depth = 0
    while level is not None and depth < 64:
        depth += 1
        level = levels.get(level)
    return depth


def _top_index(draft: _Draft, called_by: dict[str, _Draft]) -> int:
    """The index of the top-level step under which a nested call ran."""
    current: _Draft | None = draft
    for _ in range(64):
        if current is None:
            return 0
        if current.level is None:
            return current.index
        current = called_by.get(current.level)
    return 0


def _user_text(step: Step) -> str | None:
    """The user's message that started a run: the last user message its first call saw."""
    messages = step.input_messages
    if not messages:
        return None
    for message in reversed(messages):
        if message.role == "user":
            return message.text or None
    return None


def _time(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)
