"""Traces related by span links, joined into one conversation.

AutoGen's runtime, started outside any span, splits one run into many traces whose spans
point at each other only through OTLP links. A trace with no conversation id of its own
joins the conversation of the traces it links to (and that link to it), so the run reads
as one conversation. Traces linked to a stored trace take that trace's conversation."""

from __future__ import annotations

import json
from collections.abc import Iterable

import duckdb

from tracer.store.derived import stored_traces


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
) -> dict[str, str]:
    """``chosen`` (trace -> conversation) with each trace that has no conversation of its
    own (its conversation is its id) moved to its linked traces' conversation: an explicit
    one if a linked trace has one, else the earliest linked trace's id."""
    if not pairs:
        return chosen
    parent: dict[str, str] = {}

    def root(trace: str) -> str:
        while parent.get(trace, trace) != trace:
            trace = parent[trace]
        return trace

    for a, b in pairs:
        ra, rb = root(a), root(b)
        if ra != rb:
            parent[ra] = rb
    outside = sorted({t for pair in pairs for t in pair} - set(chosen))
    stored = _stored_conversations(con, outside)
    members: dict[str, list[str]] = {}
    for trace in {t for pair in pairs for t in pair}:
        members.setdefault(root(trace), []).append(trace)
    result = dict(chosen)
    for group in members.values():
        known = [chosen.get(t) or stored.get(t) for t in group]
        explicit = sorted(
            (starts.get(t, 0), c) for t, c in zip(group, known, strict=True) if c and c != t
        )
        if explicit:
            conversation = explicit[0][1]
        else:
            conversation = min(group, key=lambda t: (starts.get(t, 2**63), t))
        for trace in group:
            if trace in result and result[trace] == trace:
                result[trace] = conversation
    return result


def _stored_conversations(con: duckdb.DuckDBPyConnection, traces: list[str]) -> dict[str, str]:
    if not traces:
        return {}
    known = stored_traces(con, traces)  # each stored trace's conversation, kept at ingest
    return {trace: conversation for trace, (_, _, conversation) in known.items() if conversation}
