"""The store's views: the SQL contract users query (README, "The store").

Each view is plain SQL over ``spans`` so it works in any DuckDB client. They are
recreated whenever this file's definitions change (``ensure_views``), so a store
always carries the views of the baton that last wrote to it.
"""

from __future__ import annotations

import hashlib

import duckdb

from tracer.store.schema import scalar, transaction

# Thin selects over stored facts: turn and handoff numbers, loops and conversation
# summaries are computed once, when spans arrive (``tracer.store.derived``), so each view
# costs what its answer costs. The README documents each view with this SQL.
TURNS = """
CREATE OR REPLACE VIEW turns AS
SELECT
    t.conversation_id,
    t.trace_id,
    t.turn,
    t.agent_name,
    t.start_time AS started_at,
    t.duration_ms,
    t.input_tokens,
    t.output_tokens,
    t.model,
    t.status,
    t.span_id,
    t.parent_span_id,
    t.nested_in IS NOT NULL AS nested,
    t.nested_in,
    CASE WHEN t.input_tokens IS NOT NULL OR t.output_tokens IS NOT NULL
         THEN coalesce(t.input_tokens, 0) * p.per_input
              + coalesce(t.output_tokens, 0) * p.per_output END AS cost_usd
FROM spans AS t
LEFT JOIN _baton_prices AS p
    ON p.model = t.model AND p.day = CAST(timezone('UTC', t.start_time) AS DATE)
WHERE t.op = 'chat'
"""

HANDOFFS = """
CREATE OR REPLACE VIEW handoffs AS
SELECT
    conversation_id,
    trace_id,
    seq,
    turn,
    from_agent,
    to_agent,
    start_time AS "at",
    span_id,
    attributes->>'baton.handoff.reason' AS reason
FROM spans
WHERE op = 'handoff'
"""

TOOL_CALLS = """
CREATE OR REPLACE VIEW tool_calls AS
SELECT
    conversation_id,
    trace_id,
    turn,
    agent_name,
    tool_name,
    tool_call_id AS call_id,
    tool_arguments AS arguments,
    tool_result AS result,
    op = 'agent_tool' AS is_agent,
    status,
    duration_ms,
    error_type,
    start_time AS started_at,
    span_id
FROM spans
WHERE op IN ('tool', 'agent_tool')
"""

# The repeating stretches of handoffs found when they arrived (``tracer.store.derived``
# holds DESIGN.md's ping-pong loop in SQL) that pass the thresholds in force.
LOOPS = """
CREATE OR REPLACE VIEW loops AS
WITH settings AS (
    SELECT
        coalesce(max(value) FILTER (WHERE key = 'loop.two_cycle_handoffs'), '3')::INTEGER
            AS two_cycle_handoffs,
        coalesce(max(value) FILTER (WHERE key = 'loop.cycle_repeats'), '2')::INTEGER
            AS cycle_repeats
    FROM baton_settings
)
SELECT l.conversation_id, l.trace_id, l.agents, l.first_seq, l.last_seq, l.handoffs,
       l.first_turn, l.last_turn
FROM _baton_loops AS l, settings AS s
WHERE l.handoffs >= CASE WHEN l.cycle = 2 THEN s.two_cycle_handoffs
                         ELSE s.cycle_repeats * l.cycle END
"""

CONVERSATIONS = """
CREATE OR REPLACE VIEW conversations AS
SELECT
    conversation_id,
    started_at,
    ended_at,
    n_traces,
    n_turns,
    n_handoffs,
    n_tool_calls,
    agents,
    conversation_id IN (SELECT conversation_id FROM loops) AS has_loop,
    has_error,
    duration_ms,
    n_nested_turns,
    cost_usd,
    n_unpriced_turns
FROM _baton_conversations
"""

#: In dependency order: each view may use the ones before it.
VIEWS: tuple[tuple[str, str], ...] = (
    ("turns", TURNS),
    ("handoffs", HANDOFFS),
    ("tool_calls", TOOL_CALLS),
    ("loops", LOOPS),
    ("conversations", CONVERSATIONS),
)
VIEW_NAMES = tuple(name for name, _ in VIEWS)
_VIEWS_HASH = hashlib.sha256("".join(sql for _, sql in VIEWS).encode()).hexdigest()[:16]


def schema_and_views_current(con: duckdb.DuckDBPyConnection, schema_version: int) -> bool:
    """Whether the store has ``schema_version`` and this baton's views, in one query (a
    read's fixed cost): False for a file without baton's tables too."""
    try:
        row = con.execute(
            "SELECT (SELECT max(id) FROM _baton_migrations), "
            "(SELECT value FROM _baton_meta WHERE key = 'views_hash')"
        ).fetchone()
    except duckdb.CatalogException:
        return False
    return row is not None and row[0] == schema_version and row[1] == _VIEWS_HASH


def views_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store's views are this baton's definitions."""
    return bool(
        scalar(con, "SELECT value FROM _baton_meta WHERE key = 'views_hash'") == _VIEWS_HASH
    )


def ensure_views(con: duckdb.DuckDBPyConnection) -> bool:
    """(Re)create the views if the store has other definitions; True when it did."""
    if views_current(con):
        return False
    with transaction(con):
        for _, sql in VIEWS:
            con.execute(sql)
        con.execute("INSERT OR REPLACE INTO _baton_meta VALUES ('views_hash', ?)", [_VIEWS_HASH])
    return True
