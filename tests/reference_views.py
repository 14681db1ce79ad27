"""The views as they were defined before their facts were stored (window functions over
the whole table at query time): the oracle the stored facts must equal, whatever order
and batches the spans arrive in."""

# A call's turn: the latest model call at or before it (its agent's, else its trace's); of
# model calls started at the same instant, the last in span-id order. One row per instant,
# because an ASOF join picks any of several rows with equal keys.
TURNS = """
CREATE OR REPLACE TEMP VIEW reference_turns AS
SELECT
    conversation_id,
    trace_id,
    row_number() OVER (PARTITION BY trace_id ORDER BY start_time, span_id) AS turn,
    agent_name,
    start_time AS started_at,
    duration_ms,
    input_tokens,
    output_tokens,
    model,
    status,
    span_id,
    parent_span_id,
    nested_in IS NOT NULL AS nested,
    nested_in
FROM spans
WHERE op = 'chat';
CREATE OR REPLACE TEMP VIEW reference_agent_turns AS
SELECT trace_id, parent_span_id, started_at, max(turn) AS turn
FROM reference_turns GROUP BY trace_id, parent_span_id, started_at;
CREATE OR REPLACE TEMP VIEW reference_trace_turns AS
SELECT trace_id, started_at, max(turn) AS turn
FROM reference_turns GROUP BY trace_id, started_at
"""

HANDOFFS = """
CREATE OR REPLACE TEMP VIEW reference_handoffs AS
SELECT
    h.conversation_id,
    h.trace_id,
    row_number() OVER (PARTITION BY h.trace_id ORDER BY h.start_time, h.span_id) AS seq,
    coalesce(same_agent.turn, any_agent.turn) AS turn,
    h.from_agent,
    h.to_agent,
    h.start_time AS "at",
    h.span_id,
    h.attributes->>'baton.handoff.reason' AS reason
FROM spans AS h
ASOF LEFT JOIN reference_agent_turns AS same_agent
    ON h.trace_id = same_agent.trace_id AND h.parent_span_id = same_agent.parent_span_id
   AND h.start_time >= same_agent.started_at
ASOF LEFT JOIN reference_trace_turns AS any_agent
    ON h.trace_id = any_agent.trace_id AND h.start_time >= any_agent.started_at
WHERE h.op = 'handoff'
"""

TOOL_CALLS = """
CREATE OR REPLACE TEMP VIEW reference_tool_calls AS
SELECT
    c.conversation_id,
    c.trace_id,
    coalesce(same_agent.turn, any_agent.turn) AS turn,
    c.agent_name,
    c.tool_name,
    c.tool_call_id AS call_id,
    c.tool_arguments AS arguments,
    c.tool_result AS result,
    c.op = 'agent_tool' AS is_agent,
    c.status,
    c.duration_ms,
    c.error_type,
    c.start_time AS started_at,
    c.span_id
FROM spans AS c
ASOF LEFT JOIN reference_agent_turns AS same_agent
    ON c.trace_id = same_agent.trace_id AND c.parent_span_id = same_agent.parent_span_id
   AND c.start_time >= same_agent.started_at
ASOF LEFT JOIN reference_trace_turns AS any_agent
    ON c.trace_id = any_agent.trace_id AND c.start_time >= any_agent.started_at
WHERE c.op IN ('tool', 'agent_tool')
"""

# A ping-pong loop (DESIGN.md): within one trace, consecutive handoffs that repeat one
# cycle of distinct agents, with no non-transfer tool call or final answer between them,
# at least `loop.two_cycle_handoffs` handoffs for a 2-cycle and `loop.cycle_repeats` full
# repeats of a longer one. Handoff j goes a[j-1] -> a[j]; it continues a k-cycle when
# a[j] = a[j-k] and the k agents before it are distinct. `tracer.loops.find_loops` is
# the same definition in Python; a property test holds the two equal.
LOOPS = """
CREATE OR REPLACE TEMP VIEW reference_loops AS
WITH settings AS (
    SELECT
        coalesce(max(value) FILTER (WHERE key = 'loop.two_cycle_handoffs'), '3')::INTEGER
            AS two_cycle_handoffs,
        coalesce(max(value) FILTER (WHERE key = 'loop.cycle_repeats'), '2')::INTEGER
            AS cycle_repeats
    FROM baton_settings
),
-- Only traces with enough handoffs to hold a loop are examined; on a large store that is
-- a small fraction, which keeps this view (and conversations.has_loop) fast. Their
-- handoffs are numbered and given turns exactly as in the handoffs and turns views.
candidates AS (
    SELECT s.trace_id
    FROM spans AS s, settings
    WHERE s.op = 'handoff'
    GROUP BY s.trace_id, settings.two_cycle_handoffs, settings.cycle_repeats
    HAVING count(*) >= least(settings.two_cycle_handoffs, 3 * settings.cycle_repeats)
),
candidate_turns AS (
    SELECT
        s.trace_id,
        s.parent_span_id,
        s.start_time,
        row_number() OVER (PARTITION BY s.trace_id ORDER BY s.start_time, s.span_id) AS turn
    FROM spans AS s SEMI JOIN candidates AS c ON s.trace_id = c.trace_id
    WHERE s.op = 'chat'
),
candidate_agent_turns AS (
    SELECT trace_id, parent_span_id, start_time, max(turn) AS turn
    FROM candidate_turns GROUP BY trace_id, parent_span_id, start_time
),
candidate_trace_turns AS (
    SELECT trace_id, start_time, max(turn) AS turn FROM candidate_turns GROUP BY trace_id, start_time
),
candidate_handoffs AS (
    SELECT
        h.conversation_id,
        h.trace_id,
        row_number() OVER (PARTITION BY h.trace_id ORDER BY h.start_time, h.span_id) AS seq,
        coalesce(same_agent.turn, any_agent.turn) AS turn,
        h.from_agent,
        h.to_agent,
        h.start_time AS "at"
    FROM spans AS h SEMI JOIN candidates AS c ON h.trace_id = c.trace_id
    ASOF LEFT JOIN candidate_agent_turns AS same_agent
        ON h.trace_id = same_agent.trace_id AND h.parent_span_id = same_agent.parent_span_id
       AND h.start_time >= same_agent.start_time
    ASOF LEFT JOIN candidate_trace_turns AS any_agent
        ON h.trace_id = any_agent.trace_id AND h.start_time >= any_agent.start_time
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
stretches AS (
    SELECT trace_id, segment, k, min(pos) AS j1, max(pos) AS j2, max(pos) - min(pos) + k AS n
    FROM cycling
    GROUP BY trace_id, segment, k, island
),
found AS (
    SELECT s.*
    FROM stretches AS s, settings
    WHERE s.n >= CASE WHEN s.k = 2 THEN settings.two_cycle_handoffs
                      ELSE settings.cycle_repeats * s.k END
)
SELECT
    any_value(p.conversation_id) AS conversation_id,
    f.trace_id,
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

CONVERSATIONS = """
CREATE OR REPLACE TEMP VIEW reference_conversations AS
WITH per_conversation AS (
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
    FROM spans
    GROUP BY conversation_id
),
first_seen AS (
    SELECT conversation_id, agent_name, min(start_time) AS first_at
    FROM spans
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
    p.conversation_id IN (SELECT conversation_id FROM reference_loops) AS has_loop,
    p.has_error,
    date_diff('millisecond', p.started_at, p.ended_at) AS duration_ms,
    p.n_nested_turns
FROM per_conversation AS p
LEFT JOIN agent_lists AS a USING (conversation_id)
"""


REFERENCE_VIEWS = (
    ("turns", TURNS),
    ("handoffs", HANDOFFS),
    ("tool_calls", TOOL_CALLS),
    ("loops", LOOPS),
    ("conversations", CONVERSATIONS),
)
