"""Traces related by span links, joined into one conversation.

AutoGen's runtime, started outside any span, splits one run into many traces whose spans
point at each other only through OTLP links. A trace with no conversation id of its own
joins the conversation of the traces it links to (and that link to it), so the run reads
as one conversation, named by its earliest trace. A link is written on one end only, so
the links seen are kept (``_baton_links``): a trace arriving after the one that links to
it joins too, and a stored run joined by an earlier trace moves to that trace's id."""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

import duckdb
import pyarrow as pa

from tracer.store.derived import stored_traces
from tracer.store.lookup import rows_among
from tracer.store.rows import registered

#: Every link between two traces seen, kept so that a trace arriving after the one that
#: links to it still finds it (links are written on one end only).
CREATE_TABLE = "CREATE TABLE IF NOT EXISTS _baton_links (trace_id VARCHAR, linked_trace VARCHAR)"


def stored_links(con: duckdb.DuckDBPyConnection, traces: Iterable[str]) -> set[tuple[str, str]]:
    """The stored links from or to ``traces``."""
    wanted = pa.table({"trace_id": pa.array(sorted(set(traces)), pa.string())})
    with registered(con, "_baton_link_lookup", wanted):
        rows = con.execute(
            "SELECT trace_id, linked_trace FROM _baton_links "
            "WHERE trace_id IN (SELECT trace_id FROM _baton_link_lookup) "
            "OR linked_trace IN (SELECT trace_id FROM _baton_link_lookup)"
        ).fetchall()
    return {(a, b) for a, b in rows}


def store_links(con: duckdb.DuckDBPyConnection, pairs: set[tuple[str, str]]) -> None:
    """Keep ``pairs`` (trace, linked trace), each once."""
    if not pairs:
        return
    new = pa.table(
        {
            "trace_id": pa.array([a for a, _ in sorted(pairs)], pa.string()),
            "linked_trace": pa.array([b for _, b in sorted(pairs)], pa.string()),
        }
    )
    with registered(con, "_baton_new_links", new):
        con.execute(
            "INSERT INTO _baton_links SELECT * FROM _baton_new_links AS n WHERE NOT EXISTS "
            "(SELECT 1 FROM _baton_links AS l "
            " WHERE l.trace_id = n.trace_id AND l.linked_trace = n.linked_trace)"
        )


def linked_traces(traces: Iterable[str], links: Iterable[str | None]) -> set[tuple[str, str]]:
    """``(trace, linked trace)`` for every link to another trace, from the links column."""
    pairs: set[tuple[str, str]] = set()
    for trace, text in zip(traces, links, strict=True):
        if not text:
            continue
        try:
            decoded = json.loads(text)
        except ValueError:
            continue
        for link in decoded if isinstance(decoded, list) else ():
            other = link.get("trace_id") if isinstance(link, dict) else None
            if isinstance(other, str) and other and other != trace:
                pairs.add((trace, other))
    return pairs


def join_linked(
    con: duckdb.DuckDBPyConnection,
    chosen: dict[str, str],
    starts: dict[str, int],
    pairs: set[tuple[str, str]],
) -> tuple[dict[str, str], dict[str, str]]:
    """``chosen`` (the batch's trace -> conversation) with the traces related by links
    joined, and the stored traces outside the batch that move with them.

    A group of linked traces, with every trace of the link-joined conversations its
    stored members belong to, is one conversation: an explicit id if a member has one
    (the earliest member's), else the id of its earliest trace. Links are one-way and
    arrive with either end, so a stored run may be joined by a trace that started before
    it: the whole run then moves to that trace's id."""
    parent: dict[str, str] = {}

    def root(trace: str) -> str:
        while parent.get(trace, trace) != trace:
            trace = parent[trace]
        return trace

    def join(a: str, b: str) -> None:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb

    for a, b in pairs:
        join(a, b)
    linked = {t for pair in pairs for t in pair}
    stored = stored_traces(con, linked)
    conversation_of = {t: chosen.get(t) or (stored[t][2] if t in stored else None) for t in linked}
    # A conversation named by a trace's id was joined by links (or is that trace alone).
    named = {c for c in conversation_of.values() if c} - linked
    stored.update(stored_traces(con, named))
    runs = {c for c in conversation_of.values() if c and (c in linked or c in stored)}
    # Traces the batch's links do not join may already share a run (through links stored
    # before): they are one group, whichever of their links arrive now.
    for trace in linked:
        run = conversation_of[trace]
        if run is not None and run in runs:
            join(trace, run)
    first = {t: _micros(v[0]) for t, v in stored.items()}
    for trace, start in starts.items():
        if trace in linked:
            first[trace] = min(first.get(trace, start), start)
    members: dict[str, list[str]] = {}
    for trace in linked:
        members.setdefault(root(trace), []).append(trace)
    result, moved = dict(chosen), {}
    for group in members.values():
        explicit = sorted(
            (first.get(t, 2**63), c) for t in group if (c := conversation_of[t]) and c not in runs
        )
        if explicit:
            conversation = explicit[0][1]
        else:
            candidates = set(group) | {conversation_of[t] or t for t in group}
            conversation = min(candidates, key=lambda t: (first.get(t, 2**63), t))
        joined = {conversation_of[t] or t for t in group} & runs
        for trace in group:
            if trace in result and (result[trace] == trace or result[trace] in runs):
                result[trace] = conversation
        outside = _traces_of(con, joined - {conversation}) | (set(group) & set(stored))
        for trace in outside - set(result):
            if conversation_of.get(trace) in (None, *joined, trace):
                moved[trace] = conversation
    return result, moved


def _traces_of(con: duckdb.DuckDBPyConnection, conversations: set[str]) -> set[str]:
    """The stored traces of ``conversations``."""
    if not conversations:
        return set()
    rows = rows_among(con, "_baton_traces", "conversation_id", conversations, "trace_id")
    return {row[2] for row in rows}


def _micros(value: object) -> int:
    """A stored start time (as DuckDB returns a TIMESTAMPTZ) in microseconds."""
    if isinstance(value, datetime):
        return int(value.timestamp() * 1_000_000)
    return 2**63
