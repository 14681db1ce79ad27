"""Facts derived from the spans, computed once when spans arrive instead of on every read.

Each span's ``turn`` (a model call's number within its trace; for a tool call or a
transfer, the turn it belongs to), each handoff's ``seq``, the loops of each trace
(``_baton_loops``) and one summary row per conversation (``_baton_conversations``) are
kept up to date by ``refresh`` for the traces a batch touches, in the absorb's
transaction; which loops pass the thresholds in ``baton_settings`` is decided when read.
The views (``tracer.store.views``) are then thin selects over them, so a question costs
what its answer costs, not a pass over every trace in the store.

A trace whose spans arrive in several batches is renumbered each time one arrives: the
numbering is the same ``row_number()`` over the whole trace as before, only computed for
touched traces alone.
"""

from __future__ import annotations

import duckdb
import pyarrow as pa

from tracer.store.rows import registered

Connection = duckdb.DuckDBPyConnection

_TOUCHED = "_baton_touched"

# Spans of the touched traces, by op, numbered as the views always numbered them.
_NUMBER_TURNS = f"""
UPDATE spans SET turn = n.turn
FROM (
    SELECT s.trace_id, s.span_id,
           row_number() OVER (PARTITION BY s.trace_id ORDER BY s.start_time, s.span_id) AS turn
    FROM spans AS s SEMI JOIN {_TOUCHED} AS t ON s.trace_id = t.trace_id
    WHERE s.op = 'chat'
) AS n
WHERE spans.trace_id = n.trace_id AND spans.span_id = n.span_id
  AND spans.turn IS DISTINCT FROM n.turn
"""

_NUMBER_HANDOFFS = f"""
UPDATE spans SET seq = n.seq
FROM (
    SELECT s.trace_id, s.span_id,
           row_number() OVER (PARTITION BY s.trace_id ORDER BY s.start_time, s.span_id) AS seq
    FROM spans AS s SEMI JOIN {_TOUCHED} AS t ON s.trace_id = t.trace_id
    WHERE s.op = 'handoff'
) AS n
WHERE spans.trace_id = n.trace_id AND spans.span_id = n.span_id
  AND spans.seq IS DISTINCT FROM n.seq
"""

# A tool call or transfer belongs to the latest turn of its own agent (same parent) that
# started before it, else the latest turn of the trace before it.
_TURN_OF_CALLS = f"""
UPDATE spans SET turn = x.turn
FROM (
    WITH chats AS (
        SELECT s.trace_id, s.parent_span_id, s.start_time, s.turn
        FROM spans AS s SEMI JOIN {_TOUCHED} AS t ON s.trace_id = t.trace_id
        WHERE s.op = 'chat'
    ),
    calls AS (
        SELECT s.trace_id, s.span_id, s.parent_span_id, s.start_time
        FROM spans AS s SEMI JOIN {_TOUCHED} AS t ON s.trace_id = t.trace_id
        WHERE s.op IN ('tool', 'agent_tool', 'handoff')
    )
    SELECT c.trace_id, c.span_id, coalesce(same_agent.turn, any_agent.turn) AS turn
    FROM calls AS c
    ASOF LEFT JOIN chats AS same_agent
        ON c.trace_id = same_agent.trace_id AND c.parent_span_id = same_agent.parent_span_id
       AND c.start_time >= same_agent.start_time
    ASOF LEFT JOIN chats AS any_agent
        ON c.trace_id = any_agent.trace_id AND c.start_time >= any_agent.start_time
) AS x
WHERE spans.trace_id = x.trace_id AND spans.span_id = x.span_id
  AND spans.turn IS DISTINCT FROM x.turn
"""

# A ping-pong loop (DESIGN.md): within one trace, consecutive handoffs that repeat one
# cycle of distinct agents, with no non-transfer tool call or final answer between them,
# at least `loop.two_cycle_handoffs` handoffs for a 2-cycle and `loop.cycle_repeats` full
# repeats of a longer one. Handoff j goes a[j-1] -> a[j]; it continues a k-cycle when
# a[j] = a[j-k] and the k agents before it are distinct. Every such stretch is stored
# with its cycle length and handoff count; the ``loops`` view keeps those that pass the
# thresholds in force, so changing a threshold needs no recomputation.
# `tracer.loops.find_loops` is the same definition in Python; a property test holds the
# two equal.
_FIND_LOOPS = f"""
-- Only touched traces with two handoffs or more can hold a loop.
WITH candidates AS (
    SELECT s.trace_id
    FROM spans AS s SEMI JOIN {_TOUCHED} AS t ON s.trace_id = t.trace_id
    WHERE s.op = 'handoff'
    GROUP BY s.trace_id
    HAVING count(*) >= 2
),
candidate_handoffs AS (
    SELECT h.conversation_id, h.trace_id, h.seq, h.turn, h.from_agent, h.to_agent,
           h.start_time AS "at"
    FROM spans AS h SEMI JOIN candidates AS c ON h.trace_id = c.trace_id
    WHERE h.op = 'handoff'
),
breaks AS (
    SELECT s.trace_id, s.start_time AS break_at
    FROM spans AS s SEMI JOIN candidates AS c ON s.trace_id = c.trace_id
    WHERE s.op IN ('tool', 'agent_tool') OR (s.op = 'chat' AND s.final_answer)
),
ordered AS (
    SELECT
        h.*,
        lag(h.to_agent) OVER (PARTITION BY h.trace_id ORDER BY h.seq) AS prev_to,
        lag(h."at") OVER (PARTITION BY h.trace_id ORDER BY h.seq) AS prev_at
    FROM candidate_handoffs AS h
),
broken AS (
    SELECT o.*, b.break_at AS last_break_at
    FROM ordered AS o
    ASOF LEFT JOIN breaks AS b ON o.trace_id = b.trace_id AND o."at" > b.break_at
),
segmented AS (
    SELECT
        *,
        sum(CASE WHEN prev_to IS NULL OR prev_to IS DISTINCT FROM from_agent
                      OR last_break_at > prev_at THEN 1 ELSE 0 END)
            OVER (PARTITION BY trace_id ORDER BY seq ROWS UNBOUNDED PRECEDING) AS segment
    FROM broken
),
positioned AS (
    SELECT *, row_number() OVER (PARTITION BY trace_id, segment ORDER BY seq) AS pos
    FROM segmented
),
distinct_run AS (
    SELECT
        *,
        pos - coalesce(max(prev_same) OVER (PARTITION BY trace_id, segment ORDER BY pos
                                            ROWS UNBOUNDED PRECEDING), 0) AS distinct_len
    FROM (
        SELECT *, lag(pos) OVER (PARTITION BY trace_id, segment, from_agent ORDER BY pos)
                  AS prev_same
        FROM positioned
    )
),
periods AS (
    SELECT j.*, j.pos - m.pos + 1 AS k
    FROM distinct_run AS j
    ASOF LEFT JOIN positioned AS m
        ON j.trace_id = m.trace_id AND j.segment = m.segment
       AND j.to_agent = m.from_agent AND j.pos >= m.pos
),
cycling AS (
    SELECT *, pos - row_number() OVER (PARTITION BY trace_id, segment, k ORDER BY pos) AS island
    FROM periods
    WHERE k >= 2 AND k <= distinct_len
),
found AS (
    SELECT trace_id, segment, k, min(pos) AS j1, max(pos) AS j2, max(pos) - min(pos) + k AS n
    FROM cycling
    GROUP BY trace_id, segment, k, island
)
SELECT
    any_value(p.conversation_id) AS conversation_id,
    f.trace_id,
    f.k AS cycle,
    list(p.from_agent ORDER BY p.pos) FILTER (WHERE p.pos <= f.j1) AS agents,
    min(p.seq) AS first_seq,
    max(p.seq) AS last_seq,
    f.n AS handoffs,
    min(p.turn) AS first_turn,
    max(p.turn) AS last_turn
FROM found AS f
JOIN positioned AS p
    ON p.trace_id = f.trace_id AND p.segment = f.segment AND p.pos BETWEEN f.j1 - f.k + 1 AND f.j2
GROUP BY f.trace_id, f.segment, f.k, f.j1, f.j2, f.n
"""

_CONVERSATIONS_OF_TOUCHED = f"""
SELECT DISTINCT s.conversation_id
FROM spans AS s SEMI JOIN {_TOUCHED} AS t ON s.trace_id = t.trace_id
"""

_SUMMARISE = """
WITH scoped AS (
    SELECT s.* FROM spans AS s SEMI JOIN _baton_changed AS c
        ON s.conversation_id IS NOT DISTINCT FROM c.conversation_id
),
per_conversation AS (
    SELECT
        conversation_id,
        min(start_time) AS started_at,
        max(coalesce(end_time, start_time)) AS ended_at,
        count(DISTINCT trace_id) AS n_traces,
        count(*) FILTER (WHERE op = 'chat') AS n_turns,
        count(*) FILTER (WHERE op = 'chat' AND nested_in IS NOT NULL) AS n_nested_turns,
        count(*) FILTER (WHERE op = 'handoff') AS n_handoffs,
        count(*) FILTER (WHERE op IN ('tool', 'agent_tool')) AS n_tool_calls,
        bool_or(status = 'error') AS has_error
    FROM scoped
    GROUP BY conversation_id
),
first_seen AS (
    SELECT conversation_id, agent_name, min(start_time) AS first_at
    FROM scoped
    WHERE agent_name IS NOT NULL
    GROUP BY conversation_id, agent_name
),
agent_lists AS (
    SELECT conversation_id, list(agent_name ORDER BY first_at, agent_name) AS agents
    FROM first_seen
    GROUP BY conversation_id
)
SELECT
    p.conversation_id,
    p.started_at,
    p.ended_at,
    p.n_traces,
    p.n_turns,
    p.n_handoffs,
    p.n_tool_calls,
    coalesce(a.agents, []::VARCHAR[]) AS agents,
    p.has_error,
    date_diff('millisecond', p.started_at, p.ended_at) AS duration_ms,
    p.n_nested_turns
FROM per_conversation AS p
LEFT JOIN agent_lists AS a ON a.conversation_id IS NOT DISTINCT FROM p.conversation_id
"""

#: The derived tables, created by the migration that introduced them.
CREATE_TABLES = (
    """
    CREATE TABLE _baton_loops (
        conversation_id VARCHAR, trace_id VARCHAR, cycle BIGINT, agents VARCHAR[],
        first_seq BIGINT, last_seq BIGINT, handoffs BIGINT, first_turn BIGINT, last_turn BIGINT
    )
    """,
    """
    CREATE TABLE _baton_conversations (
        conversation_id VARCHAR, started_at TIMESTAMPTZ, ended_at TIMESTAMPTZ,
        n_traces BIGINT, n_turns BIGINT, n_handoffs BIGINT, n_tool_calls BIGINT,
        agents VARCHAR[], has_error BOOLEAN, duration_ms BIGINT,
        n_nested_turns BIGINT
    )
    """,
)


def refresh(con: Connection, traces: list[str], previous_conversations: list[str | None]) -> None:
    """Bring the derived facts of ``traces`` up to date, and the summaries of their
    conversations now and of ``previous_conversations`` (those the traces belonged to
    before the batch: a conversation a trace left must be summarised without it)."""
    if not traces:
        return
    touched = pa.table({"trace_id": pa.array(sorted(set(traces)), pa.string())})
    with registered(con, _TOUCHED, touched):
        con.execute(_NUMBER_TURNS)
        con.execute(_NUMBER_HANDOFFS)
        con.execute(_TURN_OF_CALLS)
        con.execute(f"DELETE FROM _baton_loops WHERE trace_id IN (SELECT trace_id FROM {_TOUCHED})")
        con.execute(f"INSERT INTO _baton_loops {_FIND_LOOPS}")
        now = [row[0] for row in con.execute(_CONVERSATIONS_OF_TOUCHED).fetchall()]
    _summarise(con, [*previous_conversations, *now])


def conversations_of(con: Connection, traces: list[str]) -> list[str | None]:
    """The conversations ``traces`` belong to now (before a batch changes them)."""
    if not traces:
        return []
    touched = pa.table({"trace_id": pa.array(sorted(set(traces)), pa.string())})
    with registered(con, _TOUCHED, touched):
        return [row[0] for row in con.execute(_CONVERSATIONS_OF_TOUCHED).fetchall()]


def refresh_all(con: Connection) -> None:
    """Recompute every derived fact (a migration, or loop settings that changed)."""
    traces = [row[0] for row in con.execute("SELECT DISTINCT trace_id FROM spans").fetchall()]
    con.execute("DELETE FROM _baton_conversations")
    refresh(con, traces, [])


def _summarise(con: Connection, conversations: list[str | None]) -> None:
    changed = pa.table(
        {"conversation_id": pa.array(sorted(set(conversations), key=str), pa.string())}
    )
    with registered(con, "_baton_changed", changed):
        con.execute(
            "DELETE FROM _baton_conversations WHERE conversation_id IN "
            "(SELECT conversation_id FROM _baton_changed) "
            "OR (conversation_id IS NULL AND EXISTS "
            "    (SELECT 1 FROM _baton_changed WHERE conversation_id IS NULL))"
        )
        con.execute(f"INSERT INTO _baton_conversations {_SUMMARISE}")
