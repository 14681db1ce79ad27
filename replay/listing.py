"""What a store holds, page by page: the conversation list, its loops, a change marker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import duckdb

from replay.errors import StoreLike, existing_store
from replay.list_filter import ConversationFilter
from replay.model import ConversationSummary, TraceLoop
from tracer.loops import Loop
from tracer.store.schema import scalar

#: What ``list_conversations`` can sort by (columns of the ``conversations`` view).
SORT_KEYS = (
    "started_at",
    "ended_at",
    "duration_ms",
    "conversation_id",
    "n_traces",
    "n_turns",
    "n_handoffs",
    "n_tool_calls",
    "has_loop",
    "has_error",
)
_SUMMARY_COLUMNS = (
    "conversation_id, started_at, ended_at, duration_ms, agents, n_traces, n_turns, "
    "n_handoffs, n_tool_calls, has_loop, has_error"
)


@dataclass(frozen=True, slots=True)
class ConversationPage:
    """One page of the conversation list and how many conversations match in all."""

    rows: tuple[ConversationSummary, ...]
    total: int
    #: The store's version (``store_version``) in the snapshot the rows were read from,
    #: when asked for (``with_version``).
    version: tuple[int, int] | None = None


def list_conversations(
    store: StoreLike,
    *,
    text: str | None = None,
    agent: str | None = None,
    only_loops: bool = False,
    only_errors: bool = False,
    sort: str = "started_at",
    descending: bool = True,
    offset: int = 0,
    limit: int = 100,
    filters: ConversationFilter | None = None,
    with_version: bool = False,
) -> ConversationPage:
    """A page of the ``conversations`` view, filtered and sorted in SQL.

    ``text`` matches the conversation id, agent names and tool names (case-insensitive,
    anywhere in them); ``agent`` the start of an agent's name (case-insensitive:
    ``billing`` finds Billing and BillingEscalation); ``filters`` the rest (times, model,
    outcome, duration, tokens, message text).
    """
    if sort not in SORT_KEYS:
        raise ValueError(f"cannot sort by {sort!r}; choose one of {', '.join(SORT_KEYS)}")
    if offset < 0 or limit < 0:
        raise ValueError("offset and limit must not be negative")
    conditions: list[str] = []
    params: list[Any] = []
    if text:
        needle = text.lower()
        conditions.append(
            "(contains(lower(conversation_id), ?) "
            "OR contains(lower(array_to_string(agents, chr(31))), ?) "
            "OR conversation_id IN (SELECT conversation_id FROM spans "
            "WHERE op IN ('tool', 'agent_tool') AND contains(lower(tool_name), ?)))"
        )
        params += [needle, needle, needle]
    if agent:
        conditions.append(
            "EXISTS (SELECT 1 FROM unnest(agents) AS named(a) WHERE starts_with(lower(a), ?))"
        )
        params.append(agent.lower())
    if filters is not None:
        more, more_params = filters.conditions()
        conditions += more
        params += more_params
    if only_loops:
        conditions.append("has_loop")
    if only_errors:
        conditions.append("has_error")
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""
    direction = "DESC" if descending else "ASC"
    store = existing_store(store)
    with store.read_connection() as con:
        version = None
        if with_version:  # one connection, not two: opening one costs more than either read
            con.execute("BEGIN TRANSACTION")  # one snapshot: the version counts these rows
            version = read_version(con)
        # The total comes with the page (one pass over the view instead of two); only a
        # page past the end needs a count of its own.
        rows = con.execute(
            f"SELECT {_SUMMARY_COLUMNS}, count(*) OVER () FROM conversations {where} "
            f"ORDER BY {sort} {direction} NULLS LAST, conversation_id LIMIT ? OFFSET ?",
            [*params, limit, offset],
        ).fetchall()
        if rows:
            total = int(rows[0][-1])
        else:
            total = int(scalar(con, f"SELECT count(*) FROM conversations {where}", params))
    summaries = tuple(
        ConversationSummary(
            conversation_id=cid,
            started_at=started,
            ended_at=ended,
            duration_ms=float(ms) if ms is not None else None,
            agents=tuple(agents or ()),
            n_traces=n_traces,
            n_turns=n_turns,
            n_handoffs=n_handoffs,
            n_tool_calls=n_tool_calls,
            has_loop=bool(has_loop),
            has_error=bool(has_error),
        )
        for (
            cid,
            started,
            ended,
            ms,
            agents,
            n_traces,
            n_turns,
            n_handoffs,
            n_tool_calls,
            has_loop,
            has_error,
            _,
        ) in rows
    )
    return ConversationPage(rows=summaries, total=total, version=version)


@dataclass(frozen=True, slots=True)
class StoredLoop:
    """A row of the ``loops`` view."""

    conversation_id: str
    loop: TraceLoop


def list_loops(store: StoreLike, *, conversation_id: str | None = None) -> list[StoredLoop]:
    """The store's ping-pong loops (the ``loops`` view, with the store's threshold),
    newest conversation first."""
    store = existing_store(store)
    where, params = (
        ("WHERE l.conversation_id = ?", [conversation_id]) if conversation_id else ("", [])
    )
    with store.read_connection() as con:
        rows = con.execute(
            "SELECT l.conversation_id, l.trace_id, l.agents, l.first_seq, l.last_seq, "
            "l.handoffs, l.first_turn, l.last_turn FROM loops AS l "
            "JOIN (SELECT trace_id, min(start_time) AS started FROM spans GROUP BY trace_id) "
            f"AS t USING (trace_id) {where} "
            "ORDER BY t.started DESC, l.trace_id, l.first_seq",
            params,
        ).fetchall()
    return [
        StoredLoop(
            conversation_id=cid,
            loop=TraceLoop(
                trace_id=trace_id,
                loop=Loop(tuple(agents), first_seq, last_seq, handoffs, first_turn, last_turn),
                first_step=None,
                last_step=None,
            ),
        )
        for cid, trace_id, agents, first_seq, last_seq, handoffs, first_turn, last_turn in rows
    ]


def store_version(store: StoreLike) -> tuple[int, int]:
    """A cheap change marker: (spans stored, latest start time in microseconds). Reading
    it absorbs spans recorded since, so it moves as soon as there is more to show."""
    store = existing_store(store)
    with store.read_connection() as con:
        return read_version(con)


def read_version(con: duckdb.DuckDBPyConnection) -> tuple[int, int]:
    """``store_version`` on a connection already open."""
    count, latest = con.execute(
        "SELECT count(*), coalesce(max(epoch_us(start_time)), 0) FROM spans"
    ).fetchall()[0]
    return int(count), int(latest)
