"""Agents a model call learns from a later call of its trace.

Some producers name a call's agent only on the calls after it: Swarm's first model call of
a run carries no sender and no transfer result, but the next call's history holds its
output with the ``sender`` Swarm wrote, and a later call of the same agent has the same
instructions and tools. The dialect states this as attributes: an agentless call's keys
(``baton.agent_keys``, a JSON list, most trusted first) and, on any call, the agents it
knows by key (``baton.agent_claims``, a JSON object). An agentless call takes the agent
claimed for its first key that any call of its trace claims; of several claims for one
key, the nearest call after it wins (a call's history speaks of the calls before it).

Runs at ingest over the batch and the stored spans of its traces, so a claim arriving in a
later batch than the call it names still reaches it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from tracer.store.rows import registered

AGENT_KEYS = "baton.agent_keys"
AGENT_CLAIMS = "baton.agent_claims"

Key = tuple[str, str]  # (trace_id, span_id)

_SELECT = (
    f"SELECT trace_id, span_id, epoch_us(start_time), "
    f"attributes->>'$.\"{AGENT_KEYS}\"', attributes->>'$.\"{AGENT_CLAIMS}\"'"
)


def claimed_agents(
    con: duckdb.DuckDBPyConnection,
    batch: pa.Table,
    agentless: Mapping[Key, int],
    window: tuple[object, object] | None,
) -> dict[Key, str]:
    """The agent claimed for each of ``agentless`` (model calls without an agent, by key,
    with their start in microseconds) that one is claimed for, from the model calls of
    their traces in ``batch`` and, within ``window``, in the store."""
    if not agentless:
        return {}
    traces = pa.array(sorted({trace for trace, _ in agentless}), pa.string())
    chats = batch.filter(
        pc.and_(pc.equal(batch.column("op"), "chat"), pc.is_in(batch.column("trace_id"), traces))
    ).select(["trace_id", "span_id", "start_time", "attributes"])
    with registered(con, "_baton_claim_batch", chats):
        rows = con.execute(f"{_SELECT} FROM _baton_claim_batch").fetchall()
    if window is not None:
        with registered(con, "_baton_claim_traces", pa.table({"trace_id": traces})):
            rows += con.execute(
                f"{_SELECT} FROM spans WHERE start_time BETWEEN ? AND ? AND op = 'chat' "
                "AND trace_id IN (SELECT trace_id FROM _baton_claim_traces)",
                list(window),
            ).fetchall()
    keys: dict[Key, list[str]] = {}
    claims: dict[tuple[str, str], list[tuple[int, str]]] = {}  # (trace, key) -> claims
    for trace, span, start, keys_text, claims_text in rows:
        if (trace, span) in agentless:
            stated = _decoded(keys_text)
            if isinstance(stated, list):
                keys[(trace, span)] = [k for k in stated if isinstance(k, str)]
        claimed = _decoded(claims_text)
        for key, agent in claimed.items() if isinstance(claimed, dict) else ():
            if isinstance(agent, str) and agent:
                claims.setdefault((trace, key), []).append((start, agent))
    found: dict[Key, str] = {}
    for (trace, span), wanted in keys.items():
        start = agentless[(trace, span)]
        for key in wanted:
            known = claims.get((trace, key))
            if known:
                # Nearest after the call first, then nearest before it.
                found[(trace, span)] = min(
                    known, key=lambda c: (c[0] <= start, abs(c[0] - start), c[1])
                )[1]
                break
    return found


def _decoded(text: str | None) -> object:
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None
