"""Assembling a ``Conversation`` from the span columns ``load_conversation`` fetched: one
pass per trace in start order. A tool call or handoff belongs to the latest model call
started before it at the same level (the top-level run, or the run of one agent called
as a tool), which is the call whose answer asked for it. Loops are found per run, as the
store finds them: the trace, or all the traces that links join into one conversation."""

from __future__ import annotations

import datetime as dt
import json
from bisect import bisect_left, bisect_right
from collections.abc import Mapping
from dataclasses import replace
from typing import Any, cast

from replay.content import StepContent
from replay.model import (
    Conversation,
    Guardrail,
    HandoffReason,
    MessagePart,
    RunError,
    Step,
    ToolCall,
    TraceLoop,
    Transition,
    UserTurn,
)
from replay.steps import HandoffOutline, Outline, Steps, Transitions
from tracer.capture.dialects.facts import (
    RunFacts,
    guardrail_facts,
    handoff_facts,
    run_facts,
)
from tracer.loops import Handoff, LoopSettings, find_loops

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_TRANSFER_OR_TOOL = frozenset(("tool", "agent_tool", "handoff"))
#: Spans whose model calls run nested, off the conversation's path: an agent used as a
#: tool, and a guardrail that runs its own agent.
_NESTING = frozenset(("agent_tool", "guardrail"))
_NO_HANDOFF_FACTS = handoff_facts({})


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


class _TraceHandoffs:
    """What loop finding needs of one trace: its handoffs (rows, in start order, with the
    turn and the top-level step that asked for each) and its breaks. Read off the
    columns: the transitions themselves are made when first read (``Transitions``)."""

    __slots__ = ("breaks", "rows", "steps", "trace_id", "turns")

    def __init__(
        self,
        trace_id: str,
        rows: list[int],
        turns: list[int | None],
        steps: list[int | None],
        breaks: list[int],
    ) -> None:
        self.trace_id = trace_id
        self.rows = rows
        self.turns = turns  # Transition.turn
        self.steps = steps
        self.breaks = breaks


class _TraceSteps:
    """What making one trace's steps needs, kept until they are all made."""

    __slots__ = (
        "built",
        "contents",
        "guarded",
        "guardrails_of",
        "nested",
        "trace_id",
        "transition_of",
        "unmatched_turn",
        "user_turn_of",
    )

    def __init__(
        self,
        trace_id: str,
        transition_of: dict[str, int],
        guarded: dict[int, tuple[_Draft | None, str | None]],
        guardrails_of: dict[int, list[int]],
        contents: dict[int, StepContent],
        user_turn_of: dict[int, int],
        unmatched_turn: int,
    ) -> None:
        self.trace_id = trace_id
        self.transition_of = transition_of  # handoff span id -> its transition's index
        self.guarded = guarded
        self.guardrails_of = guardrails_of  # call row -> the guardrail rows that checked it
        self.contents = contents
        self.user_turn_of = user_turn_of  # step index -> its user turn
        self.unmatched_turn = unmatched_turn  # the user turn of a step in no group
        self.built: dict[int, Step] = {}  # the nested steps by row
        self.nested: dict[str, list[Step]] = {}  # nesting span id -> its steps, in turn order


class Builder:
    """Turns one fetch of span columns into a ``Conversation``."""

    def __init__(self, columns: dict[str, list[Any]], settings: LoopSettings) -> None:
        self.c = columns
        self.settings = settings
        #: The conversation's top-level steps, None until made (``Steps``), and how to
        #: make each: its trace's context and its call.
        self._made: list[Step | None] = []
        self._top: list[tuple[_TraceSteps, _Draft]] = []
        #: The conversation's transitions, None until made (``Transitions``), what making
        #: each needs (its trace, seq, row, the call that asked for it and the trace's
        #: contents), and once published, the sequence that makes them.
        self._made_transitions: list[Transition | None] = []
        self._handoffs_to_make: list[
            tuple[str, int, int, _Draft | None, dict[int, StepContent]]
        ] = []
        self._transitions: Transitions | None = None
        self.loops: list[TraceLoop] = []
        self.user_turns: list[UserTurn] = []
        self.errors: list[RunError] = []
        self.guardrails: list[Guardrail] = []
        self._made_guardrails: dict[str, Guardrail] = {}
        self._level_of: dict[str, str | None] = {}  # chat span id -> its nesting span
        span_ids = columns["span_id"]
        self._row_of = dict(zip(span_ids, range(len(span_ids)), strict=True))  # last row wins
        self._handoffs: list[_TraceHandoffs] = []
        #: Rows that failed, and agent-tool rows some call made: what an outline asks of
        #: its call's tools, in one set operation instead of a generator per step.
        self._failed_rows: set[int] = set()
        self._agent_tool_rows: set[int] = set()

    def conversation(self, conversation_id: str, *, one_run: bool = False) -> Conversation:
        """The conversation of the fetched spans. ``one_run``: its traces are one run, their
        loops found together (the store's rule: a conversation named by a trace's id,
        which links join; else each trace is a run of its own)."""
        c = self.c
        trace_ids = c["trace_id"]
        traces: dict[str, list[int]] = {}
        if len(dict.fromkeys(trace_ids)) == 1:  # one trace (most): its rows are every row
            traces[trace_ids[0]] = list(range(len(trace_ids)))
        else:
            for row, trace_id in enumerate(trace_ids):
                traces.setdefault(trace_id, []).append(row)  # rows come in start order
        for trace_id, rows in traces.items():
            self._trace(trace_id, rows)
        runs = [self._handoffs] if one_run else [[trace] for trace in self._handoffs]
        for run in runs:
            self._loops(run)
        starts, ends = c["start_us"], c["end_us"]
        # The latest end, or start of a span not ended; in list passes, not one
        # generator step per span (every span ended: one C pass).
        if None in ends:
            unended = [s for s, e in zip(starts, ends, strict=True) if e is None]
            last = max([e for e in ends if e is not None] + unended, default=None)
        else:
            last = max(ends, default=None)
        # Published before the steps: a step made from now on takes its transition from
        # the sequence (made there once, under its lock), not from the list directly.
        transitions = self._transitions = Transitions(self._made_transitions, self._make_transition)
        return Conversation(
            conversation_id=conversation_id,
            trace_ids=tuple(traces),
            started_at=_time(starts[0]) if starts else None,
            ended_at=_time(last) if last is not None else None,
            agents=_present(c["agent_name"]),
            steps=Steps(self._made, self._make, self._outlines()),
            transitions=transitions,
            loops=tuple(self.loops),
            user_turns=tuple(self.user_turns),
            errors=tuple(self.errors),
            sources=_present(c["source"]),
            guardrails=tuple(self.guardrails),
        )

    def _trace(self, trace_id: str, rows: list[int]) -> None:
        c = self.c
        ops, span_ids, starts = c["op"], c["span_id"], c["start_us"]
        finals, statuses = c["final_answer"], c["status"]
        parent_of, op_of = _parents_and_ops(rows, span_ids, c["parent_span_id"], ops)
        nesting = (  # the only trace: its rows are every row, tested in one C loop
            not _NESTING.isdisjoint(ops)
            if len(rows) == len(ops)
            else any(ops[r] in _NESTING for r in rows)
        )
        levels = _levels(rows, span_ids, parent_of, ops) if nesting else {}

        calls: dict[str | None, _Calls] = {}
        drafts: list[_Draft] = []
        owner_of: dict[int, _Draft] = {}  # tool, agent-tool and handoff rows -> their call
        called_by: dict[str, _Draft] = {}  # agent-tool span id -> the call that made it
        handoff_rows: list[int] = []
        guardrail_rows: list[int] = []
        breaks: list[int] = []  # when tool calls and final answers happened (loop breakers)
        failed: list[int] = []
        for row in rows:
            op = ops[row]
            if op == "guardrail":
                guardrail_rows.append(row)
            if op == "chat":
                level = levels.get(span_ids[row])
                draft = _Draft(row, len(drafts) + 1, level)
                drafts.append(draft)
                at_level = calls.get(level)
                if at_level is None:
                    at_level = calls[level] = _Calls()
                at_level.starts.append(starts[row])
                at_level.drafts.append(draft)
                if finals[row]:
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
                            self._agent_tool_rows.add(row)
            if statuses[row] == "error":
                failed.append(row)
        self._failed_rows.update(failed)

        by_row = {d.row: d for d in drafts}
        guarded = self._guarded(rows, guardrail_rows, levels, calls, by_row)
        for row, (owner, _) in guarded.items():
            if owner is not None:
                called_by[span_ids[row]] = owner
        top = calls.get(None, _Calls())
        for offset, draft in enumerate(top.drafts, start=len(self._made) + 1):
            draft.index = offset
        for draft in drafts:
            if draft.level is not None:
                draft.index = _top_index(draft, called_by)

        sources, attributes, recorded = c["source"], c["attributes"], StepContent.recorded
        contents = {d.row: recorded(sources[d.row], attributes[d.row]) for d in drafts}
        transitions = self._trace_transitions(trace_id, handoff_rows, owner_of, contents)
        # Handoff span id -> its transition's index; a repeated span id: its last's.
        transition_of = dict(zip([span_ids[r] for r in handoff_rows], transitions, strict=True))
        self._errors(trace_id, failed, owner_of, drafts, top)
        runs = _agent_runs([span_ids[d.row] for d in top.drafts], parent_of, op_of)
        groups = self._user_turn_groups(top.drafts, runs, contents)
        first = len(self.user_turns) + 1
        user_turn_of = {d.index: n for n, group in enumerate(groups, start=first) for d in group}
        steps = self._steps(
            trace_id, drafts, top.drafts, levels, transition_of, guarded, contents, user_turn_of
        )
        self.guardrails.extend(
            g for row in guardrail_rows for g in (self._guardrail(trace_id, row, guarded, steps),)
        )
        # After the guardrails: a step reads its own from those made (``_made_guardrails``).
        self._add_user_turns(
            trace_id, [[self._step_at(d.index - 1) for d in (g[0], g[-1])] for g in groups], runs
        )
        owners = [owner_of.get(r) for r in handoff_rows]
        self._handoffs.append(
            _TraceHandoffs(
                trace_id,
                handoff_rows,
                [o.turn if o is not None else None for o in owners],
                [o.index if o is not None else None for o in owners],
                breaks,
            )
        )

    def _guarded(
        self,
        rows: list[int],
        guardrail_rows: list[int],
        levels: dict[str, str | None],
        calls: dict[str | None, _Calls],
        by_row: dict[int, _Draft],
    ) -> dict[int, tuple[_Draft | None, str | None]]:
        """Each guardrail row -> the call it checked and ``input``/``output``. The call is
        the one at the guardrail's level that shares its parent (the SDK runs a turn's
        guardrails and model call in one turn span), else the one running or last started
        when the guardrail started, else the next. An input guardrail starts before its
        call ends; an output guardrail after (it checks the final answer)."""
        c = self.c
        found: dict[int, tuple[_Draft | None, str | None]] = {}
        parents, starts, ends = c["parent_span_id"], c["start_us"], c["end_us"]
        for row in guardrail_rows:
            at_level = calls.get(levels.get(c["span_id"][row]))
            if at_level is None:
                found[row] = (None, None)
                continue
            siblings = [d for d in at_level.drafts if parents[d.row] == parents[row]]
            owner = siblings[0] if siblings else at_level.latest_at(starts[row])
            if owner is None and at_level.drafts:
                owner = at_level.drafts[0]
            if owner is None:
                found[row] = (None, None)
                continue
            call_end = ends[owner.row] if ends[owner.row] is not None else starts[owner.row]
            found[row] = (owner, "input" if starts[row] < call_end else "output")
        del rows, by_row
        return found

    def _guardrail(
        self,
        trace_id: str,
        row: int,
        guarded: dict[int, tuple[_Draft | None, str | None]],
        steps: dict[int, Step],
    ) -> Guardrail:
        c = self.c
        span_id = c["span_id"][row]
        cached = self._made_guardrails.get(span_id)
        if cached is not None:
            return cached
        facts = guardrail_facts(c["source"][row], c["name"][row], _attrs(c["attributes"][row]))
        owner, kind = guarded.get(row, (None, None))
        triggered = facts.triggered
        if triggered is None and c["end_us"][row] is not None and facts.name:
            # The producer records no outcome (OpenInference). The SDK ends a run with a
            # "Guardrail tripwire triggered" error naming a guardrail that trips, so a
            # guardrail that finished without one in its trace passed.
            triggered = any(
                e.trace_id == trace_id
                and "tripwire" in f"{e.kind} {e.message}".lower()
                and facts.name in (e.message or "")
                for e in self.errors
            )
        nested = sorted(
            (step for step in steps.values() if self._level_of.get(step.span_id) == span_id),
            key=lambda step: step.turn,
        )
        made = Guardrail(
            span_id=span_id,
            trace_id=trace_id,
            name=facts.name,
            kind=kind,
            triggered=triggered,
            agent=c["agent_name"][owner.row] if owner is not None else c["agent_name"][row],
            status=c["status"][row],
            nested=tuple(nested),
        )
        self._made_guardrails[span_id] = made
        return made

    def _trace_transitions(
        self,
        trace_id: str,
        handoff_rows: list[int],
        owner_of: dict[int, _Draft],
        contents: dict[int, StepContent],
    ) -> range:
        """The indexes of the trace's transitions, in start order, each noted to be made
        when first read (``_make_transition``): a 10,000-turn conversation has 5,000."""
        first = len(self._made_transitions)
        self._handoffs_to_make.extend(
            (trace_id, seq, row, owner_of.get(row), contents)
            for seq, row in enumerate(handoff_rows, start=1)
        )
        self._made_transitions.extend(None for _ in handoff_rows)
        return range(first, len(self._made_transitions))

    def _transition_at(self, index: int) -> Transition:
        """Transition ``index``, made if not yet (by the published sequence once there)."""
        if self._transitions is not None:
            return self._transitions[index]
        made = self._made_transitions[index]
        if made is None:
            made = self._made_transitions[index] = self._make_transition(index)
        return made

    def _make_transition(self, index: int) -> Transition:
        trace_id, seq, row, owner, contents = self._handoffs_to_make[index]
        c = self.c
        # ``load`` fetches a handoff's attributes only when they hold such facts.
        attributes_json = c["attributes"][row]
        facts = handoff_facts(_attrs(attributes_json)) if attributes_json else _NO_HANDOFF_FACTS
        reason = None
        if facts.reason is not None:
            arguments = facts.reason.get("arguments")
            reason = HandoffReason(
                tool=_str(facts.reason.get("tool")),
                call_id=_str(facts.reason.get("call_id")),
                arguments=None if arguments is None else _json_text(arguments),
                text=_str(facts.reason.get("text")),
            )
        to_agent = c["to_agent"][row]
        reader = None
        if reason is None and owner is not None:
            reader = _ReasonReader(c, owner, to_agent, contents[owner.row])
        return Transition(
            trace_id=trace_id,
            seq=seq,
            turn=owner.turn if owner is not None else None,
            from_agent=c["from_agent"][row],
            to_agent=to_agent,
            at=_time(c["start_us"][row]),
            span_id=c["span_id"][row],
            recorded_reason=reason,
            reason_reader=reader,
            input_filter=facts.input_filter,
            removed=tuple(_describe_removed(r) for r in facts.removed)
            if facts.removed is not None
            else None,
            warning=facts.warning,
        )

    def _user_turn_groups(
        self,
        top: list[_Draft],
        runs: dict[str, str | None],
        contents: dict[int, StepContent],
    ) -> list[list[_Draft]]:
        """The trace's top-level calls split into user turns, one per new user message
        (several runs inside one SDK ``trace()`` are several user turns). A new user
        message comes with a new run: the agent activations of one run share a parent
        (the SDK's task span, a runner's workflow), and a handoff makes a new activation
        in the same run. So only a call that starts another run is read, and it starts a
        user turn if its input brings a user message the previous run did not have (or,
        without content, always)."""
        c = self.c
        span_ids, parents = c["span_id"], c["parent_span_id"]
        groups: list[list[_Draft]] = []
        seen_users: tuple[str, ...] | None = None
        previous: tuple[str | None] = (None,)
        for draft in top:
            agent_span = runs.get(span_ids[draft.row])
            agent_row = self._row_of.get(agent_span) if agent_span is not None else None
            run = (parents[agent_row] if agent_row is not None else agent_span,)
            new_turn = not groups
            if not groups or run != previous:
                users = _user_messages(contents[draft.row])
                if groups and (
                    users is None
                    or seen_users is None
                    or len(users) > len(seen_users)
                    or users[-1:] != seen_users[-1:]
                ):
                    new_turn = True
                seen_users = users
            previous = run
            if new_turn:
                groups.append([])
            groups[-1].append(draft)
        return groups

    def _add_user_turns(
        self, trace_id: str, groups: list[list[Step]], runs: dict[str, str | None]
    ) -> None:
        for group in groups:
            facts = self._run_facts_of(group[0], runs)
            last = group[-1]
            self.user_turns.append(
                UserTurn(
                    index=len(self.user_turns) + 1,
                    trace_id=trace_id,
                    text=_user_text(group[0]),
                    first_step=group[0].index,
                    last_step=last.index,
                    last_agent=last.handoff.to_agent if last.handoff is not None else last.agent,
                    final_output=_final_output(last),
                    streamed=facts.streamed if facts is not None else None,
                    session_id=facts.session_id if facts is not None else None,
                )
            )

    def _run_facts_of(self, step: Step, runs: dict[str, str | None]) -> RunFacts | None:
        agent_span = runs.get(step.span_id)
        if agent_span is None:
            return None
        row = self._row_of.get(agent_span)
        if row is None:
            return None
        return run_facts(_attrs(self.c["attributes"][row]))

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
        top: list[_Draft],
        levels: dict[str, str | None],
        transition_of: dict[str, int],
        guarded: dict[int, tuple[_Draft | None, str | None]],
        contents: dict[int, StepContent],
        user_turn_of: dict[int, int],
    ) -> dict[int, Step]:
        """The trace's nested steps by their span's row, made now, inside their callers;
        its top-level steps are made when first read (``_make``)."""
        guardrails_of: dict[int, list[int]] = {}
        for guard_row, (owner, _) in guarded.items():
            if owner is not None:
                guardrails_of.setdefault(owner.row, []).append(guard_row)
        context = _TraceSteps(
            trace_id,
            transition_of,
            guarded,
            guardrails_of,
            contents,
            user_turn_of,
            len(self.user_turns) + 1,
        )
        # Innermost first, so an agent tool's steps exist when its caller's step is made.
        inner = [d for d in drafts if d.level is not None]
        if inner:
            inner.sort(key=lambda d: _depth(d.level, levels), reverse=True)
        span_ids = self.c["span_id"]
        for draft in inner:
            self._level_of[span_ids[draft.row]] = draft.level
            step = self._make_step(context, draft)
            context.built[draft.row] = step
            context.nested.setdefault(draft.level, []).append(step)  # type: ignore[arg-type]
        for steps in context.nested.values():
            steps.sort(key=lambda s: s.turn)
        for draft in top:
            self._level_of[span_ids[draft.row]] = None
        self._top.extend((context, draft) for draft in top)
        self._made.extend(None for _ in top)
        return context.built

    def _step_at(self, index: int) -> Step:
        """Top-level step ``index`` (0-based), made if not yet."""
        step = self._made[index]
        if step is None:
            step = self._made[index] = self._make(index)
        return step

    def _make(self, index: int) -> Step:
        context, draft = self._top[index]
        return self._make_step(context, draft)

    def _outlines(self) -> list[Outline]:
        """Every top-level step's outline, read off its call and the columns: one loop
        with the columns and each trace's context at hand (a call per step was a fifth
        of the build of a 10,000-turn conversation)."""
        c = self.c
        statuses, agents, span_ids = c["status"], c["agent_name"], c["span_id"]
        from_agents, to_agents, to_make = c["from_agent"], c["to_agent"], self._handoffs_to_make
        failed_rows, agent_tool_rows = self._failed_rows, self._agent_tool_rows
        new = tuple.__new__  # what ``Outline(...)`` does, without its Python-level ``__new__``
        found: list[Outline] = []
        append = found.append
        context: _TraceSteps | None = None
        trace_id = ""
        turn_of: dict[int, int] = {}
        unmatched, transition_of, guardrails_of = 0, {}, {}
        for at, draft in self._top:
            if at is not context:
                context, trace_id, turn_of = at, at.trace_id, at.user_turn_of
                unmatched, transition_of, guardrails_of = (
                    at.unmatched_turn,
                    at.transition_of,
                    at.guardrails_of,
                )
            row, tools, index = draft.row, draft.tools, draft.index
            failed = bool(draft.errors) or statuses[row] == "error"
            nests = row in guardrails_of
            if tools:
                if not failed and failed_rows:
                    failed = not failed_rows.isdisjoint(tools)
                if not nests and agent_tool_rows:
                    nests = not agent_tool_rows.isdisjoint(tools)
            handoff = None
            if draft.handoff is not None:  # its transition's row: a repeated id's last
                at_row = to_make[transition_of[span_ids[draft.handoff]]][2]
                handoff = new(HandoffOutline, (from_agents[at_row], to_agents[at_row]))
            append(
                new(
                    Outline,
                    (
                        index,
                        trace_id,
                        agents[row],
                        turn_of.get(index, unmatched),
                        handoff,
                        failed,
                        nests,
                    ),
                )
            )
        return found

    def _make_step(self, context: _TraceSteps, draft: _Draft) -> Step:
        c, row = self.c, draft.row
        content = context.contents[row]
        tool_calls: tuple[ToolCall, ...] = ()
        if draft.tools:
            tool_calls = tuple([self._tool_call(r, context.nested) for r in draft.tools])
            if any(call.call_id is None for call in tool_calls):
                tool_calls = _paired(tool_calls, content)
        guardrails: tuple[Guardrail, ...] = ()
        guarding = context.guardrails_of.get(row)
        if guarding:
            guardrails = tuple(
                [
                    self._guardrail(context.trace_id, g, context.guarded, context.built)
                    for g in guarding
                ]
            )
        handoff = None
        if draft.handoff is not None:
            handoff = self._transition_at(context.transition_of[c["span_id"][draft.handoff]])
        return Step(
            index=draft.index,
            turn=draft.turn,
            trace_id=context.trace_id,
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
            errors=tuple(draft.errors) if draft.errors else (),
            user_turn=context.user_turn_of.get(draft.index, context.unmatched_turn),
            content=content,
            final_answer=c["final_answer"][row],
            guardrails=guardrails,
        )

    def _tool_call(self, row: int, nested: dict[str, list[Step]]) -> ToolCall:
        c = self.c
        is_agent = c["op"][row] == "agent_tool"
        found = nested.get(c["span_id"][row]) if nested else None
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
            nested=tuple(found) if found else (),
        )

    def _loops(self, run: list[_TraceHandoffs]) -> None:
        """Ping-pong loops of one run by ``tracer.loops.find_loops``, as the ``loops`` view
        finds them: the run's handoffs in start order (rows come in start, span id order),
        broken by a tool call or final answer started strictly between two of them. A loop
        has its first handoff's trace, seq and turn, and its last handoff's seq and turn
        (the first and last recorded turns among its handoffs)."""
        c = self.c
        starts, from_agents, to_agents = c["start_us"], c["from_agent"], c["to_agent"]
        # Each handoff's row, trace, seq and turn (its transition's) and asking step.
        members = sorted(
            (
                (row, trace.trace_id, seq, turn, step)
                for trace in run
                for seq, (row, turn, step) in enumerate(
                    zip(trace.rows, trace.turns, trace.steps, strict=True), start=1
                )
            ),
            key=lambda member: member[0],
        )
        if len(members) < 2:
            return
        breaks = sorted(at for trace in run for at in trace.breaks)
        handoffs = []
        previous: int | None = None
        for position, (row, _, _, turn, _) in enumerate(members, start=1):
            at = starts[row]
            latest = bisect_left(breaks, at) - 1
            broken = previous is not None and latest >= 0 and breaks[latest] > previous
            handoffs.append(
                Handoff(
                    from_agent=from_agents[row] or "",
                    to_agent=to_agents[row] or "",
                    seq=position,  # within the run; mapped back to the trace's own below
                    turn=turn,
                    broken_before=broken,
                )
            )
            previous = at
        for loop in find_loops(handoffs, self.settings):
            looped = members[loop.first_seq - 1 : loop.last_seq]
            turns = [turn for _, _, _, turn, _ in looped if turn is not None]
            (_, trace_id, first_seq, _, first_step) = looped[0]
            (_, _, last_seq, _, last_step) = looped[-1]
            self.loops.append(
                TraceLoop(
                    trace_id=trace_id,
                    loop=replace(
                        loop,
                        first_seq=first_seq,
                        last_seq=last_seq,
                        first_turn=turns[0] if turns else None,
                        last_turn=turns[-1] if turns else None,
                    ),
                    first_step=first_step,
                    last_step=last_step,
                )
            )


def _parents_and_ops(
    rows: list[int], span_ids: list[str], parents: list[str | None], ops: list[str]
) -> tuple[dict[str, str | None], dict[str, str]]:
    """Of one trace's spans: each span id -> its parent's, and -> its op (a span id that
    repeats: its last row's). Made once, in C loops: a trace can hold 25,000 spans."""
    if len(rows) == len(span_ids):  # the only trace: its rows are every row, in order
        return dict(zip(span_ids, parents, strict=True)), dict(zip(span_ids, ops, strict=True))
    spans = [span_ids[r] for r in rows]
    return (
        dict(zip(spans, [parents[r] for r in rows], strict=True)),
        dict(zip(spans, [ops[r] for r in rows], strict=True)),
    )


def _levels(
    rows: list[int],
    span_ids: list[str],
    parent_of: dict[str, str | None],
    ops: list[str],
) -> dict[str, str | None]:
    """Each span's nearest enclosing agent-tool call (the span itself excluded); None for
    spans of the top-level run. A parent missing from the trace counts as the top.
    ``parent_of``: the trace's (``_parents_and_ops``)."""
    agent_tools = {span_ids[r] for r in rows if ops[r] in _NESTING}
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


def _present(values: list[str | None]) -> tuple[str, ...]:
    """The distinct values, None left out, in order of first appearance."""
    distinct = dict.fromkeys(values)
    distinct.pop(None, None)
    return cast("tuple[str, ...]", tuple(distinct))


def _time(us: int) -> dt.datetime:
    return _EPOCH + dt.timedelta(microseconds=us)


def _attrs(text: str | None) -> Mapping[str, Any]:
    if not text:
        return {}
    try:
        found = json.loads(text)
    except ValueError:
        return {}
    return found if isinstance(found, Mapping) else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _json_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)


def _describe_removed(item: Mapping[str, Any]) -> str:
    """E.g. ``function_call transfer_to_billing (c1)``."""
    words = [str(item.get("type") or item.get("role") or "item")]
    if item.get("name"):
        words.append(str(item["name"]))
    if item.get("role") and item.get("type") == "message":
        words.append(str(item["role"]))
    if item.get("call_id"):
        words.append(f"({item['call_id']})")
    return " ".join(words)


def _agent_runs(
    wanted: list[str], parent_of: dict[str, str | None], op_of: dict[str, str]
) -> dict[str, str | None]:
    """Each ``wanted`` span -> its nearest enclosing agent span (one activation), by the
    trace's ``_parents_and_ops``."""
    found: dict[str, str | None] = {}
    for span in wanted:
        current = parent_of.get(span)
        for _ in range(64):
            if current is None or current not in parent_of:
                current = None
                break
            if op_of[current] == "agent":
                break
            current = parent_of[current]
        found[span] = current
    return found


def _user_messages(content: StepContent) -> tuple[str, ...] | None:
    """The texts of the user messages a call was sent; None when not recorded."""
    messages = content.input
    if messages is None:
        return None
    return tuple(m.text for m in messages if m.role == "user")


def _final_output(step: Step) -> str | None:
    """What a run ended with: its last step's answer text; when that step's answer was
    tool calls and nothing followed (a run that stops on a tool:
    ``tool_use_behavior="stop_on_first_tool"``), the first tool's result."""
    if step.handoff is not None or step.errors:
        return None
    if step.tool_calls:
        return step.tool_calls[0].result
    texts = [m.text for m in step.output_messages or () if m.text]
    return "\n".join(texts) if texts else None


def _paired(calls: tuple[ToolCall, ...], content: StepContent) -> tuple[ToolCall, ...]:
    """Tool calls whose producer recorded no call id, given the id of the call the model
    asked for: matched by name and arguments, then by name, in order."""
    requested: list[MessagePart] = [
        part
        for message in content.output or ()
        for part in message.parts
        if part.type == "tool_call" and part.call_id
    ]
    taken = {call.call_id for call in calls if call.call_id}
    free = [part for part in requested if part.call_id not in taken]
    paired: list[ToolCall] = []
    for call in calls:
        if call.call_id is not None:
            paired.append(call)
            continue
        pick = next(
            (p for p in free if p.name == call.name and _same_json(p.arguments, call.arguments)),
            None,
        ) or next((p for p in free if p.name == call.name), None)
        if pick is None:
            paired.append(call)
            continue
        free.remove(pick)
        paired.append(replace(call, call_id=pick.call_id))
    return tuple(paired)


def _same_json(a: str | None, b: str | None) -> bool:
    if a == b:
        return True
    try:
        return bool(json.loads(a or "null") == json.loads(b or "null"))
    except ValueError:
        return False


class _ReasonReader:
    """A handoff's reason read from the model output of the call that asked for it, for
    producers that record no reason of their own: the transfer call among the calls no
    tool span ran (the one named ``transfer_to_<agent>`` first), and the text beside it.
    Read once, when first asked for."""

    __slots__ = ("_call_ids", "_content", "_done", "_found", "_to_agent", "_tools")

    def __init__(
        self, c: dict[str, list[Any]], owner: _Draft, to_agent: str | None, content: StepContent
    ) -> None:
        self._call_ids: list[str | None] = c["tool_call_id"]  # read with the reason
        self._tools = owner.tools
        self._to_agent = to_agent
        self._content = content
        self._done = False
        self._found: HandoffReason | None = None

    def __call__(self) -> HandoffReason | None:
        if not self._done:
            self._found = self._read()
            self._done = True
        return self._found

    def _read(self) -> HandoffReason | None:
        output = self._content.output
        if not output:
            return None
        ran = {self._call_ids[r] for r in self._tools if self._call_ids[r]}
        calls = [
            part
            for message in output
            for part in message.parts
            if part.type == "tool_call" and part.call_id not in ran
        ]
        wanted = "transfer_to_" + "_".join((self._to_agent or "").lower().split())
        pick = next((p for p in calls if p.name == wanted), calls[0] if calls else None)
        text = "\n".join(m.text for m in output if m.text) or None
        if pick is None and text is None:
            return None
        return HandoffReason(
            tool=pick.name if pick is not None else None,
            call_id=pick.call_id if pick is not None else None,
            arguments=pick.arguments if pick is not None else None,
            text=text,
        )
