"""What a span learns only from its relatives: the agent it ran under, whether a tool
ran an agent (an agent used as a tool), the source of a handoff, and the conversation
of its trace.

Spans of one trace arrive in any order and in different batches (a parent usually ends,
and so is exported, after its children), so resolution looks at the incoming batch
together with what the store already holds for the traces it touches: the batch is
completed before it is inserted, and stored spans that the batch completes are listed as
fixes. Done in Python over plain lists because it is a walk up parent links, which SQL
can only express as repeated joins over the whole touched traces.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import duckdb
import pyarrow as pa

from tracer.store.derived import TraceRows, trace_rows
from tracer.store.links import join_linked, linked_traces, store_links, stored_links
from tracer.store.nesting import nested_in, stored_nesting
from tracer.store.resolve_claims import claimed_agents
from tracer.store.rows import registered

_MAX_DEPTH = 64
_TRANSFER_OPS = ("handoff", "agent_tool")

Key = tuple[str, str]  # (trace_id, span_id)
#: A stored trace's conversation, and when the span naming it started (µs; None if unknown).
StoredConversation = tuple[str, int | None]


@dataclass
class Resolution:
    """The batch with its inherited columns filled, and fixes for stored spans."""

    table: pa.Table
    agent_fixes: dict[Key, tuple[str, str | None]] = field(default_factory=dict)  # agent, from
    agent_tool_fixes: dict[Key, str] = field(default_factory=dict)  # tool span -> its agent
    conversation_fixes: dict[str, str] = field(default_factory=dict)  # trace -> conversation
    # trace -> when the explicit id it now belongs to was claimed (µs; None: by links)
    claims: dict[str, int | None] = field(default_factory=dict)
    nested_fixes: dict[Key, str | None] = field(default_factory=dict)  # span -> nested_in
    new_links: set[tuple[str, str]] = field(default_factory=set)  # (trace, linked trace)
    # Whether the batch holds a (trace id, span id) twice; None when not found out here.
    repeats: bool | None = None


def resolve(
    con: duckdb.DuckDBPyConnection, table: pa.Table, known: TraceRows | None = None
) -> Resolution:
    """Complete ``table``'s spans from their relatives: ``agent_name`` from the nearest
    enclosing agent; a tool that ran an agent becomes an ``agent_tool`` calling it
    (``to_agent``); a transfer's ``from_agent`` is the agent it ran under; and
    ``conversation_id`` is its trace's. The stored spans of the traces the batch touches
    are read from ``con``, and those the batch completes are listed as fixes. ``known``
    is the ``_baton_traces`` rows of the batch's traces, if the caller has read them."""
    traces: list[str] = table.column("trace_id").to_pylist()
    spans: list[str] = table.column("span_id").to_pylist()
    parents: list[str | None] = table.column("parent_span_id").to_pylist()
    ops: list[str] = table.column("op").to_pylist()
    agents: list[str | None] = table.column("agent_name").to_pylist()
    sources: list[str | None] = table.column("from_agent").to_pylist()
    conversations: list[str | None] = table.column("conversation_id").to_pylist()
    starts: list[int] = table.column("start_time").cast(pa.int64()).to_pylist()
    targets: list[str | None] = table.column("to_agent").to_pylist()
    if known is None:
        known = trace_rows(con, traces)
    stored, stored_conversations, window = _stored_spans(con, set(traces), known)
    keys = list(zip(traces, spans, strict=True))

    # Parent links and known agents of every span in play, stored and incoming; a stored
    # span, or the first of a span repeated in the batch, wins.
    nodes: dict[Key, tuple[str | None, str, str | None]] = {}
    started: dict[Key, int] = {}
    if not stored:  # built at once; the same dicts unless the batch repeats a span
        nodes = dict(zip(keys, zip(parents, ops, agents, strict=True), strict=True))
        started = dict(zip(keys, starts, strict=True))
    if stored or len(nodes) < len(keys):
        nodes = {(t, s): (p, op, a) for t, s, p, op, a, _, _ in stored}
        started = {(t, s): start for t, s, *_, start in stored}
        for i, key in enumerate(keys):
            nodes.setdefault(key, (parents[i], ops[i], agents[i]))
            started.setdefault(key, starts[i])
    found: dict[Key, str | None] = {}
    # An agent used as a tool whose producer records no span for the agent (CrewAI's
    # coworkers): what runs under the tool call belongs to the called agent.
    calling = _stored_agent_calls(con, set(traces), window) if window else {}
    for key, op, target in zip(keys, ops, targets, strict=True):
        if op == "agent_tool" and target:
            calling[key] = target

    def enclosing_agent(trace: str, parent: str | None) -> str | None:
        path: list[Key] = []
        result: str | None = None
        current = (trace, parent) if parent else None
        while current is not None and len(path) < _MAX_DEPTH:
            if current in found:
                result = found[current]
                break
            node = nodes.get(current)
            if node is None:
                break
            path.append(current)
            parent_id, op, agent = node
            if current in calling:
                result = calling[current]
                break
            if agent is not None or op == "workflow":
                result = agent
                break
            current = (trace, parent_id) if parent_id else None
        for key in path:
            found[key] = result
        return result

    # Model calls whose agent only a later call of the trace names (Swarm's first call),
    # given it before any span inherits from them.
    agentless = {(t, s): start for t, s, _, op, a, _, start in stored if op == "chat" and not a}
    stored_keys = {(t, s) for t, s, *_ in stored}
    for i, key in enumerate(keys):
        if (
            ops[i] == "chat"
            and agents[i] is None
            and key not in stored_keys
            and enclosing_agent(traces[i], parents[i]) is None
        ):
            agentless[key] = starts[i]
    claimed = claimed_agents(con, table, agentless, window)
    for key, agent in claimed.items():
        nodes[key] = (nodes[key][0], nodes[key][1], agent)
    if claimed:
        for i, key in enumerate(keys):
            if key in claimed and agents[i] is None:
                agents[i] = claimed[key]

    called = agent_tool_targets(nodes, started)
    if called:
        for i, key in enumerate(keys):
            if ops[i] == "tool" and key in called:
                ops[i] = "agent_tool"
                targets[i] = targets[i] or called[key]
    for i, op in enumerate(ops):
        if agents[i] is None and op != "workflow":
            parent = parents[i]
            # What enclosing_agent returns at once for a parent already walked.
            walked = (traces[i], parent) if parent else None
            if walked is not None and walked in found:
                agents[i] = found[walked]
            else:
                agents[i] = enclosing_agent(traces[i], parent)
        if sources[i] is None and op in _TRANSFER_OPS:
            sources[i] = agents[i]

    resolution = Resolution(table, repeats=None if stored else len(nodes) < len(keys))
    for key, agent in claimed.items():
        if key in stored_keys:
            resolution.agent_fixes[key] = (agent, None)
    for trace, span, parent, op, agent, source, _ in stored:
        if op == "tool" and (trace, span) in called:
            resolution.agent_tool_fixes[(trace, span)] = called[(trace, span)]
        if agent is None and op != "workflow":
            inherited = enclosing_agent(trace, parent)
            if inherited is not None:
                fixed_source = source or (inherited if op in _TRANSFER_OPS else None)
                resolution.agent_fixes[(trace, span)] = (inherited, fixed_source)
    chosen, resolution.conversation_fixes, resolution.claims = _conversations(
        traces, conversations, starts, stored_conversations
    )
    resolution.new_links = linked_traces(traces, table.column("links").to_pylist())
    # Links are written on one end: a trace finds the stored ones linking to it here.
    pairs = resolution.new_links | stored_links(con, set(traces))
    if pairs:  # traces related only by links (AutoGen) join one conversation
        first: dict[str, int] = {}
        for trace, start in zip(traces, starts, strict=True):
            first[trace] = min(first.get(trace, start), start)
        by_claim = dict(chosen)
        chosen, moved = join_linked(con, chosen, first, pairs)
        for trace, conversation in chosen.items():
            if stored_conversations.get(trace, (None,))[0] not in (None, conversation):
                resolution.conversation_fixes[trace] = conversation
            if conversation != by_claim[trace]:
                resolution.claims[trace] = None
        resolution.conversation_fixes.update(moved)
        resolution.claims.update(dict.fromkeys(moved))
    nesting = nested_in(nodes, called)
    stored_nest = stored_nesting(con, set(traces), window) if window else {}
    for key, now in stored_nest.items():
        if nesting.get(key) != now:
            resolution.nested_fixes[key] = nesting.get(key)
    off_path: list[str | None] = [None] * len(keys)  # where nothing nests
    resolution.table = _replaced(
        table,
        agent_name=agents,
        op=ops,
        to_agent=targets,
        from_agent=sources,
        conversation_id=[chosen[t] for t in traces],
        nested_in=[nesting.get(key) for key in keys] if nesting else off_path,
    )
    return resolution


def _stored_spans(
    con: duckdb.DuckDBPyConnection, traces: set[str], rows: TraceRows
) -> tuple[list[tuple[Any, ...]], dict[str, StoredConversation], tuple[object, object] | None]:
    """The stored spans of ``traces`` (trace, span, parent, op, agent, from, start in
    microseconds), each stored trace's conversation and when it was claimed, and the
    window of start times they lie in (None when the store holds none of them: a batch of
    new traces reads nothing). Only that window is scanned, so the store's size does not
    count."""
    known = {trace: rows[trace][1:] for trace in traces if trace in rows}
    if not known:
        return [], {}, None
    window = (min(k[0] for k in known.values()), max(k[1] for k in known.values()))  # type: ignore[type-var]
    with registered(con, "_baton_touched", pa.table({"trace_id": sorted(known)})):
        stored = con.execute(
            "SELECT trace_id, span_id, parent_span_id, op, agent_name, from_agent, "
            "epoch_us(start_time) FROM spans WHERE start_time BETWEEN ? AND ? "
            "AND trace_id IN (SELECT trace_id FROM _baton_touched)",
            list(window),
        ).fetchall()
    conversations = {trace: (k[2], k[3]) for trace, k in known.items() if k[2] is not None}
    return stored, conversations, window


def _stored_agent_calls(
    con: duckdb.DuckDBPyConnection, traces: set[str], window: tuple[object, object]
) -> dict[Key, str]:
    """The stored agents-as-tools of ``traces`` that name the agent they called."""
    with registered(con, "_baton_touched", pa.table({"trace_id": sorted(traces)})):
        calls = con.execute(
            "SELECT trace_id, span_id, to_agent FROM spans WHERE start_time BETWEEN ? AND ? "
            "AND op = 'agent_tool' AND to_agent IS NOT NULL "
            "AND trace_id IN (SELECT trace_id FROM _baton_touched)",
            list(window),
        ).fetchall()
    return {(trace, span): agent for trace, span, agent in calls}


def _conversations(
    traces: list[str],
    conversations: list[str | None],
    starts: list[int],
    stored: dict[str, StoredConversation],
) -> tuple[dict[str, str], dict[str, str], dict[str, int | None]]:
    """Each trace's conversation: of the explicit ids its spans name, stored or in the
    batch, the one the earliest span names (then the least id), else the trace id itself;
    the stored traces whose conversation that changes; and when the ids chosen from the
    batch were claimed. A trace whose spans name several conversations (an agent run as a
    tool in a session of its own: ADK, PydanticAI) so belongs to the same one whatever
    order its spans arrive in. A stored explicit id of unknown claim (joined by links)
    stays."""
    earliest: dict[str, tuple[int, str]] = {}
    for trace, conversation, start in zip(traces, conversations, starts, strict=True):
        if conversation and conversation != trace:
            best = earliest.get(trace)
            if best is None or (start, conversation) < best:
                earliest[trace] = (start, conversation)
    chosen: dict[str, str] = {}
    fixes: dict[str, str] = {}
    claims: dict[str, int | None] = {}
    for trace in set(traces):
        previous, claimed_at = stored.get(trace, (None, None))
        candidate = earliest.get(trace)
        if (
            previous
            and previous != trace
            and (candidate is None or claimed_at is None or (claimed_at, previous) <= candidate)
        ):
            chosen[trace] = previous
        elif candidate is not None:
            chosen[trace], claims[trace] = candidate[1], candidate[0]
        else:
            chosen[trace] = trace
        if previous is not None and previous != chosen[trace]:
            fixes[trace] = chosen[trace]
    return chosen, fixes, claims


def _replaced(table: pa.Table, **columns: list[str | None] | list[str]) -> pa.Table:
    """``table`` with the named string columns replaced."""
    for name, values in columns.items():
        table = table.set_column(
            table.column_names.index(name), name, pa.array(values, pa.string())
        )
    return table


def agent_tool_targets(
    nodes: dict[Key, tuple[str | None, str, str | None]], started: dict[Key, int]
) -> dict[Key, str]:
    """Tool spans that ran an agent, and that agent: the earliest agent span below the
    tool, reached through spans of unknown shape or workflows only (the Agents SDK records
    ``agent.as_tool()`` as a function span with the nested run's spans under it)."""
    earliest: dict[Key, tuple[int, str]] = {}
    for (trace, span), (parent, op, agent) in nodes.items():
        if op != "agent" or agent is None:
            continue
        current, depth = parent, 0
        while current is not None and depth < _MAX_DEPTH:
            node = nodes.get((trace, current))
            if node is None:
                break
            if node[1] == "tool":
                start = started.get((trace, span), 0)
                best = earliest.get((trace, current))
                if best is None or start < best[0]:
                    earliest[(trace, current)] = (start, agent)
                break
            # ADK runs an AgentTool's agent in a workflow span of its own.
            if node[1] not in ("other", "workflow"):
                break
            current, depth = node[0], depth + 1
    return {key: agent for key, (_, agent) in earliest.items()}


def apply_fixes(con: duckdb.DuckDBPyConnection, resolution: Resolution) -> None:
    """Complete stored spans that the batch's arrival resolved."""
    store_links(con, resolution.new_links)
    if resolution.agent_fixes:
        agents, sources = zip(*resolution.agent_fixes.values(), strict=True)
        fixes = _by_span(resolution.agent_fixes, agent_name=agents, from_agent=sources)
        with registered(con, "_baton_agent_fixes", fixes):
            con.execute(
                "UPDATE spans SET agent_name = f.agent_name, from_agent = f.from_agent "
                "FROM _baton_agent_fixes AS f "
                "WHERE spans.trace_id = f.trace_id AND spans.span_id = f.span_id"
            )
    # After the agent fixes: a promoted tool's source is the agent it ran under.
    if resolution.agent_tool_fixes:
        fixes = _by_span(
            resolution.agent_tool_fixes, to_agent=tuple(resolution.agent_tool_fixes.values())
        )
        with registered(con, "_baton_agent_tool_fixes", fixes):
            con.execute(
                "UPDATE spans SET op = 'agent_tool', "
                "to_agent = coalesce(spans.to_agent, f.to_agent), "
                "from_agent = coalesce(spans.from_agent, spans.agent_name) "
                "FROM _baton_agent_tool_fixes AS f "
                "WHERE spans.trace_id = f.trace_id AND spans.span_id = f.span_id"
            )
    if resolution.nested_fixes:
        fixes = _by_span(resolution.nested_fixes, nested_in=tuple(resolution.nested_fixes.values()))
        with registered(con, "_baton_nested_fixes", fixes):
            con.execute(
                "UPDATE spans SET nested_in = f.nested_in FROM _baton_nested_fixes AS f "
                "WHERE spans.trace_id = f.trace_id AND spans.span_id = f.span_id"
            )
    if resolution.conversation_fixes:
        fixes = pa.table(
            {
                "trace_id": list(resolution.conversation_fixes),
                "conversation_id": list(resolution.conversation_fixes.values()),
            }
        )
        with registered(con, "_baton_conversation_fixes", fixes):
            con.execute(
                "UPDATE spans SET conversation_id = f.conversation_id "
                "FROM _baton_conversation_fixes AS f WHERE spans.trace_id = f.trace_id"
            )


def _by_span(keys: Iterable[Key], **columns: Sequence[str | None]) -> pa.Table:
    """A table of ``columns`` keyed by ``(trace_id, span_id)``, for an update's join."""
    traces, spans = zip(*keys, strict=True)
    return pa.table(
        {
            "trace_id": pa.array(traces, pa.string()),
            "span_id": pa.array(spans, pa.string()),
            **{name: pa.array(values, pa.string()) for name, values in columns.items()},
        }
    )
