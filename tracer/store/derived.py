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

from collections.abc import Iterable

import duckdb
import pyarrow as pa

from tracer.store.lookup import delete_among, delete_rowids, key, rows_among
from tracer.store.prices import store_rates
from tracer.store.rows import registered
from tracer.store.schema import has_column

Connection = duckdb.DuckDBPyConnection

_TOUCHED = "_baton_touched"

# The stored spans of the touched traces, read once per batch. ``lo``/``hi`` bound their
# start times (from ``_baton_traces`` and the batch), so DuckDB's zone maps skip the
# row groups of other times: the cost follows the batch, not the size of the store.
# ``run`` is the run loops are found in: the trace, or the traces joined by their links
# into a conversation named by its earliest trace's id (tracer.store.links); set by
# ``_scope`` for the conversations that are a stored or touched trace's id.
_SCOPE = f"""
CREATE OR REPLACE TEMP TABLE _baton_scope AS
SELECT trace_id, span_id, parent_span_id, op, start_time, final_answer, conversation_id,
       from_agent, to_agent, model, trace_id AS run
FROM spans
WHERE start_time BETWEEN $lo AND $hi
  AND trace_id IN (SELECT trace_id FROM {_TOUCHED})
"""

# Numbered as the views always numbered them: a model call's turn and a handoff's seq by
# start order within the trace; a tool call or transfer belongs to the latest turn of its
# own agent (same parent) that started before it, else the latest turn of the trace.
_NUMBER = """
CREATE OR REPLACE TEMP TABLE _baton_facts AS
-- Each numbering sorts only the spans it numbers (a window over every span of the scope,
-- partitioned by op, sorted them all twice); the numbers are joined back on the span's
-- stored identity, which includes its start time.
WITH chat_numbers AS (
    SELECT trace_id, span_id, start_time,
           row_number() OVER (PARTITION BY trace_id ORDER BY start_time, span_id) AS chat_turn
    FROM _baton_scope WHERE op = 'chat'
),
seq_numbers AS (
    SELECT trace_id, span_id, start_time,
           row_number() OVER (PARTITION BY trace_id ORDER BY start_time, span_id) AS seq
    FROM _baton_scope WHERE op = 'handoff'
),
numbered AS (
    SELECT s.*, c.chat_turn, h.seq
    FROM _baton_scope AS s
    LEFT JOIN chat_numbers AS c
        ON c.trace_id = s.trace_id AND c.span_id = s.span_id AND c.start_time = s.start_time
    LEFT JOIN seq_numbers AS h
        ON h.trace_id = s.trace_id AND h.span_id = s.span_id AND h.start_time = s.start_time
),
-- A call's turn is the latest model call started at or before it, by its own agent (the
-- same parent) if there is one, else in its trace; of model calls started at the same
-- instant, the last in span-id order. Each side keeps one model call per instant, because
-- an ASOF join picks any of several rows with equal keys (a different one from run to run).
chats AS (
    SELECT trace_id, parent_span_id, start_time, max(chat_turn) AS chat_turn
    FROM numbered WHERE op = 'chat' GROUP BY trace_id, parent_span_id, start_time
),
trace_chats AS (
    SELECT trace_id, start_time, max(chat_turn) AS chat_turn
    FROM numbered WHERE op = 'chat' GROUP BY trace_id, start_time
),
calls AS (
    SELECT c.trace_id, c.span_id, coalesce(same_agent.chat_turn, any_agent.chat_turn) AS turn
    FROM (SELECT * FROM numbered WHERE op IN ('tool', 'agent_tool', 'handoff')) AS c
    ASOF LEFT JOIN chats AS same_agent
        ON c.trace_id = same_agent.trace_id AND c.parent_span_id = same_agent.parent_span_id
       AND c.start_time >= same_agent.start_time
    ASOF LEFT JOIN trace_chats AS any_agent
        ON c.trace_id = any_agent.trace_id AND c.start_time >= any_agent.start_time
)
SELECT n.* EXCLUDE (chat_turn), coalesce(n.chat_turn, c.turn) AS turn
FROM numbered AS n LEFT JOIN calls AS c USING (trace_id, span_id)
"""

_STORE_NUMBERS = """
UPDATE spans SET turn = f.turn, seq = f.seq
FROM _baton_facts AS f
WHERE spans.start_time BETWEEN $lo AND $hi
  AND spans.trace_id = f.trace_id AND spans.span_id = f.span_id
  AND (spans.turn IS DISTINCT FROM f.turn OR spans.seq IS DISTINCT FROM f.seq)
"""

# A ping-pong loop (DESIGN.md): within one trace (or the traces its links join into one
# run: AutoGen started outside any span; ``run``), consecutive handoffs that repeat one
# cycle of distinct agents, with no non-transfer tool call or final answer between them,
# at least `loop.two_cycle_handoffs` handoffs for a 2-cycle and `loop.cycle_repeats` full
# repeats of a longer one. Handoff j goes a[j-1] -> a[j]; it continues a k-cycle when
# a[j] = a[j-k] and the k agents before it are distinct. Every such stretch is stored
# with its cycle length and handoff count; the ``loops`` view keeps those that pass the
# thresholds in force, so changing a threshold needs no recomputation.
# `tracer.loops.find_loops` is the same definition in Python; a property test holds the
# two equal. A loop's trace, first seq and first turn are its first handoff's; its last
# seq and turn, its last handoff's (in another trace of the run, for a run of several).
_FIND_LOOPS = """
-- Only touched runs with two handoffs or more can hold a loop, and only those where some
-- agent is handed to no earlier than it first handed off (a loop's handoff j goes back to
-- the agent that made handoff j-k+1, before it).
WITH run_handoffs AS (
    SELECT run, from_agent, to_agent, start_time FROM _baton_facts WHERE op = 'handoff'
),
handed_back AS (
    SELECT DISTINCT gave.run
    FROM (SELECT run, from_agent AS agent, min(start_time) AS first_at FROM run_handoffs
          WHERE from_agent IS NOT NULL GROUP BY run, from_agent) AS gave
    JOIN (SELECT run, to_agent AS agent, max(start_time) AS last_at FROM run_handoffs
          WHERE to_agent IS NOT NULL GROUP BY run, to_agent) AS got
        ON gave.run = got.run AND gave.agent = got.agent AND gave.first_at <= got.last_at
),
candidates AS (
    SELECT run FROM run_handoffs SEMI JOIN handed_back USING (run)
    GROUP BY run HAVING count(*) >= 2
),
candidate_handoffs AS (
    SELECT h.conversation_id, h.trace_id, h.run, h.seq, h.turn, h.from_agent, h.to_agent,
           h.start_time AS "at",
           row_number() OVER (PARTITION BY h.run ORDER BY h.start_time, h.span_id) AS run_seq
    FROM _baton_facts AS h SEMI JOIN candidates AS c ON h.run = c.run
    WHERE h.op = 'handoff'
),
breaks AS (
    SELECT s.run, s.start_time AS break_at
    FROM _baton_facts AS s SEMI JOIN candidates AS c ON s.run = c.run
    WHERE s.op IN ('tool', 'agent_tool') OR (s.op = 'chat' AND s.final_answer)
),
ordered AS (
    SELECT
        h.*,
        lag(h.to_agent) OVER (PARTITION BY h.run ORDER BY h.run_seq) AS prev_to,
        lag(h."at") OVER (PARTITION BY h.run ORDER BY h.run_seq) AS prev_at
    FROM candidate_handoffs AS h
),
broken AS (
    SELECT o.*, b.break_at AS last_break_at
    FROM ordered AS o
    ASOF LEFT JOIN breaks AS b ON o.run = b.run AND o."at" > b.break_at
),
segmented AS (
    SELECT
        *,
        sum(CASE WHEN prev_to IS NULL OR prev_to IS DISTINCT FROM from_agent
                      OR last_break_at > prev_at THEN 1 ELSE 0 END)
            OVER (PARTITION BY run ORDER BY run_seq ROWS UNBOUNDED PRECEDING) AS segment
    FROM broken
),
positioned AS (
    SELECT *, row_number() OVER (PARTITION BY run, segment ORDER BY run_seq) AS pos
    FROM segmented
),
distinct_run AS (
    SELECT
        *,
        pos - coalesce(max(prev_same) OVER (PARTITION BY run, segment ORDER BY pos
                                            ROWS UNBOUNDED PRECEDING), 0) AS distinct_len
    FROM (
        SELECT *, lag(pos) OVER (PARTITION BY run, segment, from_agent ORDER BY pos)
                  AS prev_same
        FROM positioned
    )
),
periods AS (
    SELECT j.*, j.pos - m.pos + 1 AS k
    FROM distinct_run AS j
    ASOF LEFT JOIN positioned AS m
        ON j.run = m.run AND j.segment = m.segment
       AND j.to_agent = m.from_agent AND j.pos >= m.pos
),
cycling AS (
    SELECT *, pos - row_number() OVER (PARTITION BY run, segment, k ORDER BY pos) AS island
    FROM periods
    WHERE k >= 2 AND k <= distinct_len
),
found AS (
    SELECT run, segment, k, min(pos) AS j1, max(pos) AS j2, max(pos) - min(pos) + k AS n
    FROM cycling
    GROUP BY run, segment, k, island
)
SELECT
    any_value(p.conversation_id) AS conversation_id,
    arg_min(p.trace_id, p.pos) AS trace_id,
    f.k AS cycle,
    list(p.from_agent ORDER BY p.pos) FILTER (WHERE p.pos <= f.j1) AS agents,
    arg_min(p.seq, p.pos) AS first_seq,
    arg_max(p.seq, p.pos) AS last_seq,
    f.n AS handoffs,
    arg_min(p.turn, p.pos) AS first_turn,
    arg_max(p.turn, p.pos) AS last_turn
FROM found AS f
JOIN positioned AS p
    ON p.run = f.run AND p.segment = f.segment AND p.pos BETWEEN f.j1 - f.k + 1 AND f.j2
GROUP BY f.run, f.segment, f.k, f.j1, f.j2, f.n
"""

# Each trace's conversation and the span of its start times: where to look for it.
_TRACE_ROWS = """
CREATE OR REPLACE TEMP TABLE _baton_trace_rows AS
SELECT trace_id, any_value(conversation_id) AS conversation_id, min(start_time) AS first_start,
       max(start_time) AS last_start
FROM _baton_scope GROUP BY trace_id
"""

# With when the explicit id of each trace's conversation was claimed (``_baton_claims``:
# resolution's choice, else the stored one; ``tracer.store.resolve._conversations``).
_STORE_TRACES = f"""
INSERT INTO _baton_traces
    (trace_id, conversation_id, first_start, last_start, trace_key, conversation_key,
     claimed_at)
SELECT r.*, {key("r.trace_id")}, {key("r.conversation_id")}, c.claimed_at
FROM _baton_trace_rows AS r LEFT JOIN _baton_claims AS c USING (trace_id)
"""

_LOOP_COLUMNS = (
    "conversation_id, trace_id, cycle, agents, first_seq, last_seq, handoffs, first_turn, last_turn"
)
_CONVERSATION_COLUMNS = (
    "conversation_id, started_at, ended_at, n_traces, n_turns, n_handoffs, n_tool_calls, "
    "agents, has_error, duration_ms, n_nested_turns, cost_usd, n_unpriced_turns"
)

_SUMMARISE = """
WITH in_changed AS (
    SELECT s.* FROM spans AS s SEMI JOIN _baton_changed AS c
        ON s.conversation_id IS NOT DISTINCT FROM c.conversation_id
    WHERE s.start_time BETWEEN $lo AND $hi
),
scoped AS (
    SELECT s.*, CASE WHEN s.op = 'chat'
                      AND (s.input_tokens IS NOT NULL OR s.output_tokens IS NOT NULL)
                THEN coalesce(s.input_tokens, 0) * p.per_input
                     + coalesce(s.output_tokens, 0) * p.per_output END AS cost
    FROM in_changed AS s
    LEFT JOIN _baton_prices AS p
        ON p.model = s.model AND p.day = CAST(timezone('UTC', s.start_time) AS DATE)
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
        bool_or(status = 'error') AS has_error,
        sum(cost) AS cost_usd,
        count(*) FILTER (WHERE op = 'chat' AND cost IS NULL) AS n_unpriced_turns
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
    p.n_nested_turns,
    p.cost_usd,
    p.n_unpriced_turns
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
    CREATE TABLE _baton_traces (
        trace_id VARCHAR, conversation_id VARCHAR, first_start TIMESTAMPTZ,
        last_start TIMESTAMPTZ
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


Window = tuple[object, object]  # (earliest, latest) start time, as DuckDB returns them

#: The ``_baton_traces`` rows of some traces, by trace: (rowid, first start, last start,
#: conversation, when its explicit id was claimed in µs). A trace absent is not stored.
TraceRows = dict[str, tuple[int, object, object, str | None, int | None]]


def refresh(
    con: Connection,
    traces: list[str],
    previous_conversations: list[str | None],
    batch_window: Window,
    stored: TraceRows | None = None,
    claims: dict[str, int | None] | None = None,
) -> None:
    """Bring the derived facts of ``traces`` up to date, and the summaries of their
    conversations now and of ``previous_conversations`` (those the traces belonged to
    before the batch: a conversation a trace left must be summarised without it).
    ``batch_window`` is the earliest and latest start time in the batch; ``stored``,
    the ``_baton_traces`` rows of ``traces`` if the caller has read them; ``claims``,
    when resolution chose the conversations of some traces anew, when those were claimed
    (the others keep theirs)."""
    if not traces:
        return
    known = trace_rows(con, traces) if stored is None else stored
    lo, hi = _widest(batch_window, _window_of(known, traces))
    runs = _scope(con, traces, lo, hi)
    others = _linked_others(con, traces, runs)
    if others:  # a run over linked traces: refreshed whole
        known = {**known, **trace_rows(con, others)}
        traces = [*traces, *others]
        lo, hi = _widest((lo, hi), _window_of(known, traces))
        _scope(con, traces, lo, hi)
    window = {"lo": lo, "hi": hi}
    con.execute(_NUMBER)
    con.execute(_STORE_NUMBERS, window)
    delete_among(con, "_baton_loops", "trace_id", traces)
    con.execute(
        f"INSERT INTO _baton_loops ({_LOOP_COLUMNS}, trace_key) "
        f"SELECT *, {key('trace_id')} FROM ({_FIND_LOOPS})"
    )
    # The rows read above: nothing in between writes to _baton_traces.
    delete_rowids(con, "_baton_traces", [known[t][0] for t in set(traces) if t in known])
    con.execute(_TRACE_ROWS)
    kept = {t: known[t][4] for t in set(traces) if t in known}
    claimed = {**kept, **(claims or {})}
    claim_rows = pa.table(
        {
            "trace_id": pa.array(list(claimed), pa.string()),
            "claimed_at": pa.array(list(claimed.values()), pa.int64()),
        }
    )
    with registered(con, "_baton_claims", claim_rows):
        con.execute(_STORE_TRACES)
    store_rates(con, "_baton_scope")  # before the summaries, which price with them
    # The touched traces' conversations now: the rows just stored for them.
    now = [
        row[0] for row in con.execute("SELECT conversation_id FROM _baton_trace_rows").fetchall()
    ]
    _summarise(con, [*previous_conversations, *now], (lo, hi))
    con.execute(
        "DROP TABLE IF EXISTS _baton_scope; DROP TABLE IF EXISTS _baton_facts; "
        "DROP TABLE IF EXISTS _baton_trace_rows"
    )


def _scope(con: Connection, traces: list[str], lo: object, hi: object) -> set[str]:
    """``_baton_scope``: the stored spans of ``traces`` between ``lo`` and ``hi``, each
    with its ``run``; returns the runs that are not a span's own trace."""
    touched = set(traces)
    with registered(con, _TOUCHED, pa.table({"trace_id": pa.array(sorted(touched), pa.string())})):
        con.execute(_SCOPE, {"lo": lo, "hi": hi})
    # Only a conversation other than the span's own trace can make its run another trace.
    conversations = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT conversation_id FROM _baton_scope "
            "WHERE conversation_id IS NOT NULL AND conversation_id <> trace_id"
        ).fetchall()
    }
    # A conversation named by a trace's id, stored or touched, is that run.
    named = conversations & touched
    named |= {
        row[1] for row in rows_among(con, "_baton_traces", "trace_id", conversations - named, "")
    }
    if named:
        runs = pa.table({"trace_id": pa.array(sorted(named), pa.string())})
        with registered(con, "_baton_named_runs", runs):
            con.execute(
                "UPDATE _baton_scope SET run = conversation_id "
                "WHERE conversation_id IN (SELECT trace_id FROM _baton_named_runs) "
                "AND conversation_id <> trace_id"
            )
    return named


def _linked_others(con: Connection, traces: list[str], runs: set[str]) -> list[str]:
    """The other traces of the link-joined conversations of ``traces`` (whose ``runs``
    other than their own traces are given): their loops are found together, so they are
    refreshed together."""
    touched = set(traces)
    rows = rows_among(con, "_baton_traces", "conversation_id", runs | touched, "trace_id")
    return sorted({row[2] for row in rows} - touched)


def _window_of(known: TraceRows, traces: Iterable[str]) -> tuple[object, object]:
    """The earliest first and latest last start of the stored ``traces`` (None where
    none is stored)."""
    rows = [known[t] for t in set(traces) if t in known]
    starts = [row[1] for row in rows if row[1] is not None]
    ends = [row[2] for row in rows if row[2] is not None]
    return min(starts, default=None), max(ends, default=None)  # type: ignore[type-var]


def trace_rows(con: Connection, traces: Iterable[str]) -> TraceRows:
    """The ``_baton_traces`` rows of those of ``traces`` the store holds."""
    rows = rows_among(
        con,
        "_baton_traces",
        "trace_id",
        traces,
        "first_start, last_start, conversation_id, claimed_at",
    )
    return {
        trace: (rowid, first, last, conversation, claimed)
        for rowid, trace, first, last, conversation, claimed in rows
    }


def stored_traces(
    con: Connection, traces: Iterable[str]
) -> dict[str, tuple[object, object, str | None, int | None]]:
    """For those of ``traces`` the store holds spans of: their first and last start time,
    their conversation and when its id was claimed (read from ``_baton_traces``, not from
    ``spans``)."""
    return {trace: row[1:] for trace, row in trace_rows(con, traces).items()}


def conversations_of(known: TraceRows, traces: list[str]) -> list[str | None]:
    """The conversations ``traces`` belong to now (before a batch changes them), from
    their ``_baton_traces`` rows."""
    return list({known[t][3] for t in set(traces) if t in known})


def refresh_all(con: Connection) -> None:
    """Recompute every derived fact (a migration)."""
    from tracer.store.lookup import add_key_columns

    add_key_columns(con)  # refresh keeps them, so a store older than them gets them first
    add_claims_column(con)
    traces = [row[0] for row in con.execute("SELECT DISTINCT trace_id FROM spans").fetchall()]
    window = con.execute("SELECT min(start_time), max(start_time) FROM spans").fetchone()
    con.execute("DELETE FROM _baton_conversations")
    if window is not None:
        refresh(con, traces, [], (window[0], window[1]))


def add_claims_column(con: Connection) -> None:
    """``_baton_traces.claimed_at`` (a migration; a no-op where it is present): when the
    span naming each trace's explicit conversation id started, so that a span of the trace
    arriving later that started earlier and names another conversation takes the trace.
    A store older than it knows only each trace's first start, the earliest the claim can
    have been."""
    if not has_column(con, "_baton_traces", "claimed_at"):
        con.execute("ALTER TABLE _baton_traces ADD COLUMN claimed_at BIGINT")
    con.execute(
        "UPDATE _baton_traces SET claimed_at = epoch_us(first_start) "
        "WHERE claimed_at IS NULL AND conversation_id IS NOT NULL AND conversation_id <> trace_id"
    )


def _summarise(con: Connection, conversations: list[str | None], window: Window) -> None:
    unique = sorted(set(conversations), key=str)
    stored = rows_among(
        con, "_baton_conversations", "conversation_id", unique, "started_at, ended_at"
    )
    # Where the summarised conversations lie (a NULL conversation's row is replaced but,
    # as ``IN`` never matches NULL, does not widen the window).
    starts = [row[2] for row in stored if row[1] is not None and row[2] is not None]
    ends = [row[3] for row in stored if row[1] is not None and row[3] is not None]
    window = _widest(window, (min(starts, default=None), max(ends, default=None)))
    delete_rowids(con, "_baton_conversations", [row[0] for row in stored])
    changed = pa.table({"conversation_id": pa.array(unique, pa.string())})
    with registered(con, "_baton_changed", changed):
        con.execute(
            f"INSERT INTO _baton_conversations ({_CONVERSATION_COLUMNS}, conversation_key) "
            f"SELECT *, {key('conversation_id')} FROM ({_SUMMARISE})",
            {"lo": window[0], "hi": window[1]},
        )


def _widest(window: Window, other: tuple[object, ...] | None) -> Window:
    """The window covering both (a missing bound in ``other`` widens nothing)."""
    lo, hi = window
    if other is not None:
        if other[0] is not None and other[0] < lo:  # type: ignore[operator]
            lo = other[0]
        if other[1] is not None and other[1] > hi:  # type: ignore[operator]
            hi = other[1]
    return lo, hi
