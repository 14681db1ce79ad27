"""Reading back at scale: a 10,000-turn conversation, and the ``loops`` view over 1M spans.

    python bench/bench_replay.py [--spans 1000000] [--turns 10000] [--repeat 5] [--store PATH]

Builds a synthetic store (``bench/synth.py``; reused if ``--store`` names one already
built) and times, best of ``--repeat``:

* ``replay.load_conversation`` of the long conversation, beside a baseline that computes
  the same path (per turn: agent, tool calls with arguments, handoff) from the raw
  ``spans`` table without the normalised columns: the trace's rows with their attribute
  JSON, parsed in Python. The baseline is given the trace id (finding it by attribute
  would add a JSON scan of the whole store).
* the ``loops`` view (every row), beside the same loops computed from the raw table:
  handoffs and loop-breaking calls picked out of the attribute JSON in SQL, the source
  agent from the parent span, then ``tracer.loops.find_loops`` per trace.

Both pairs are checked to give the same answer. Goals: load < 0.3 s, loops < 2 s.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

from synth import long_conversation, many_conversations

from replay import Conversation, load_conversation
from replay.paths import run_path
from replay.settings import read_loop_settings
from tracer.loops import Handoff, find_loops
from tracer.store import Store

LONG_ID = "long-conversation"
PathRow = tuple[str | None, tuple[tuple[str, str | None], ...], str | None]


def best(repeat: int, work: Callable[[], Any]) -> tuple[float, Any]:
    times, result = [], None
    for _ in range(repeat):
        started = time.perf_counter()
        result = work()
        times.append(time.perf_counter() - started)
    return min(times), result


# -- the long conversation ---------------------------------------------------------------


def replay_path(conversation: Conversation) -> list[PathRow]:
    return [(t.agent, t.tool_calls, t.handoff) for t in run_path(conversation)]


def raw_path(store: Store, trace_id: str) -> list[PathRow]:
    """The same path from raw rows: parse every span's attributes, walk parents."""
    with store.read_connection() as con:
        rows = con.execute(
            "SELECT span_id, parent_span_id, attributes FROM spans WHERE trace_id = ? "
            "ORDER BY start_time, span_id",
            [trace_id],
        ).fetchall()
    parent_of: dict[str, str | None] = {}
    agent_of: dict[str, str] = {}
    path: list[list[Any]] = []
    for span_id, parent, text in rows:
        attributes = json.loads(text)
        parent_of[span_id] = parent
        operation = attributes.get("gen_ai.operation.name")
        if operation == "invoke_agent":
            agent_of[span_id] = attributes.get("gen_ai.agent.name")
        elif operation == "chat":
            agent, current = None, parent
            while current is not None and agent is None:
                agent, current = agent_of.get(current), parent_of.get(current)
            path.append([agent, [], None])
        elif operation == "execute_tool" and path:
            if attributes.get("gen_ai.transfer.mode") == "pass_control":
                path[-1][2] = path[-1][2] or attributes.get("gen_ai.transfer.target.name")
            else:
                path[-1][1].append(
                    (
                        attributes.get("gen_ai.tool.name"),
                        attributes.get("gen_ai.tool.call.arguments"),
                    )
                )
    return [(agent, tuple(calls), handoff) for agent, calls, handoff in path]


# -- loops over the whole store ----------------------------------------------------------

LoopRow = tuple[str, tuple[str, ...], int, int, int]


def view_loops(store: Store) -> list[LoopRow]:
    with store.read_connection() as con:
        rows = con.execute(
            "SELECT trace_id, agents, first_seq, last_seq, handoffs FROM loops"
        ).fetchall()
    return sorted((t, tuple(a), f, last, n) for t, a, f, last, n in rows)


_RAW_EVENTS = """
WITH raw AS (
    SELECT trace_id, span_id, parent_span_id, start_time,
           attributes->>'$."gen_ai.operation.name"' AS operation,
           attributes->>'$."gen_ai.transfer.mode"' AS mode,
           attributes->>'$."gen_ai.transfer.target.name"' AS target,
           attributes->>'$."gen_ai.agent.name"' AS agent,
           attributes->'$."gen_ai.response.finish_reasons"' AS reasons
    FROM spans
)
SELECT e.trace_id, e.start_time, e.mode = 'pass_control' AS is_handoff, p.agent, e.target
FROM raw AS e
LEFT JOIN raw AS p ON p.trace_id = e.trace_id AND p.span_id = e.parent_span_id
WHERE e.operation = 'execute_tool'
   OR (e.operation = 'chat' AND NOT contains(e.reasons::VARCHAR, 'tool_calls'))
ORDER BY e.trace_id, e.start_time, e.span_id
"""


def raw_loops(store: Store) -> list[LoopRow]:
    """Handoffs and breaks from the attribute JSON, then ``find_loops`` per trace."""
    with store.read_connection() as con:
        events = con.execute(_RAW_EVENTS).fetchall()
        settings = read_loop_settings(con)
    found: list[LoopRow] = []
    trace: str | None = None
    handoffs: list[Handoff] = []
    broken = False

    def flush() -> None:
        if trace is not None and handoffs:
            for loop in find_loops(handoffs, settings):
                found.append((trace, loop.agents, loop.first_seq, loop.last_seq, loop.handoffs))

    for trace_id, _, is_handoff, source, target in events:
        if trace_id != trace:
            flush()
            trace, handoffs, broken = trace_id, [], False
        if is_handoff:
            handoffs.append(Handoff(source or "", target or "", len(handoffs) + 1, None, broken))
            broken = False
        else:
            broken = True
    flush()
    return sorted(found)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--spans", type=int, default=1_000_000)
    parser.add_argument("--turns", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--store", type=Path, help="build here, or reuse if already built")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="baton-bench-") as scratch:
        path = args.store or Path(scratch) / "replay.duckdb"
        store = Store(path)
        if not path.exists():
            started = time.perf_counter()
            many_conversations(store, args.spans)
            long_conversation(store, args.turns, LONG_ID)
            print(f"built {path} in {time.perf_counter() - started:.0f}s")
        run(store, args.repeat)


def run(store: Store, repeat: int) -> None:
    total, long_spans, trace_id = store.query(
        "SELECT count(*), count(*) FILTER (WHERE conversation_id = ?), "
        "any_value(trace_id) FILTER (WHERE conversation_id = ?) FROM spans",
        [LONG_ID, LONG_ID],
    ).rows[0]
    print(f"store: {total:,} spans; {LONG_ID}: {long_spans:,} spans; best of {repeat}\n")

    load_s, conversation = best(repeat, lambda: load_conversation(store, LONG_ID))
    raw_s, theirs = best(repeat, lambda: raw_path(store, trace_id))
    ours = replay_path(conversation)
    assert ours == theirs, "load_conversation and the raw baseline disagree"
    view_s, view = best(repeat, lambda: view_loops(store))
    raw_loops_s, raw = best(max(1, repeat // 2), lambda: raw_loops(store))
    assert view == raw, f"the loops view ({len(view)}) and the raw baseline ({len(raw)}) disagree"

    print(f"{'':46}{'baton':>8}{'baseline':>10}{'ratio':>8}   goal")
    print(
        f"{f'load_conversation ({len(ours):,} turns)':46}{load_s:>7.3f}s{raw_s:>9.3f}s"
        f"{load_s / raw_s:>7.2f}x   < 0.3 s"
    )
    print(
        f"{f'loops view ({total:,} spans, {len(view):,} loops)':46}{view_s:>7.3f}s"
        f"{raw_loops_s:>9.3f}s{view_s / raw_loops_s:>7.2f}x   < 2 s"
    )


if __name__ == "__main__":
    main()
