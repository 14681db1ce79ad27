"""Work an absorb leaves out because its batch cannot need it: the loop search orders
only the handoffs of runs where some agent is handed to after it handed off (no other
run can hold a loop), the numbering sorts only the spans it numbers, and the spans an
absorb added are the INSERT's own count, not two counts of the whole table. The answers
stay those of the full-table definitions."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pyarrow as pa
from test_absorb_lookup import Profiled
from test_derived_facts import views_and_references

from tracer.store import Store
from tracer.store.ingest import insert_spans
from tracer.store.schema import transaction

_EPOCH = dt.datetime(2026, 3, 1, tzinfo=dt.UTC)


def _handoffs(trace: str, hops: list[tuple[str, str]]) -> list[dict[str, Any]]:
    """A trace whose agents each make a model call, then hand off as ``hops`` say."""
    rows: list[dict[str, Any]] = [
        {"trace_id": trace, "span_id": "root", "start_time": _EPOCH, "op": "workflow"}
    ]
    for n, (source, target) in enumerate(hops, start=1):
        at = _EPOCH + dt.timedelta(seconds=2 * n)
        rows.append(
            {"trace_id": trace, "span_id": f"chat{n}", "parent_span_id": "root",
             "start_time": at, "op": "chat", "agent_name": source}
        )  # fmt: skip
        rows.append(
            {"trace_id": trace, "span_id": f"hop{n}", "parent_span_id": "root",
             "start_time": at + dt.timedelta(seconds=1), "op": "handoff",
             "from_agent": source, "to_agent": target}
        )  # fmt: skip
    return rows


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    """``rows`` as a batch (conformed to the spans' shape on ingest)."""
    names = ("trace_id", "span_id", "parent_span_id", "start_time", "op", "agent_name")
    return pa.Table.from_pylist(
        [{name: row.get(name) for name in (*names, "from_agent", "to_agent")} for row in rows]
    )


def _rows(profile: dict[str, Any], name: str) -> list[int]:
    """The rows each ``name`` operator of a statement's profile put out."""
    found: list[int] = []

    def walk(node: dict[str, Any]) -> None:
        if node.get("name") == name:
            found.append(int(node.get("intermediate_rows", node.get("operator_cardinality", 0))))
        for child in node.get("children", []):
            walk(child)

    for node in profile.get("operator", profile.get("children", [])):
        walk(node)
    return found


def test_the_loop_search_orders_only_runs_that_hand_back_to_an_agent(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = []
    for number in range(30):  # a relay: each agent hands on, none is handed to again
        rows += _handoffs(f"relay{number:02d}", [("triage", "billing"), ("billing", "refunds")])
    rows += _handoffs("pingpong", [("a", "b"), ("b", "a"), ("a", "b"), ("b", "a")])
    rows += _handoffs("returned", [("a", "b"), ("b", "a")])
    store = Store(tmp_path / "store.duckdb")
    with store.write_connection() as con:
        profiled = Profiled(con, tmp_path / "profile.json")
        with transaction(con):
            added = insert_spans(profiled, _table(rows))  # type: ignore[arg-type]
        profiled.keep()
        con.execute("PRAGMA disable_profiling")
    assert added == len(rows)

    search = [
        p
        for p in profiled.profiles
        if "INSERT INTO _baton_loops" in p.get("query", {}).get("sql", "")
    ]
    assert len(search) == 1
    # The windows that order handoffs see the 6 of the two runs that hand back, not the
    # 60 of the relays as well.
    assert max(_rows(search[0], "WINDOW")) == 6
    loops = store.query("SELECT trace_id, agents, handoffs FROM loops ORDER BY ALL").rows
    assert loops == [("pingpong", ["a", "b"], 4)]
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name


def test_the_numbering_sorts_only_model_calls_and_handoffs(tmp_path: Path) -> None:
    rows: list[dict[str, Any]] = []
    for number in range(10):  # 1 workflow, 3 model calls and 3 handoffs each
        rows += _handoffs(f"t{number}", [("a", "b"), ("b", "c"), ("c", "a")])
        rows += [
            {"trace_id": f"t{number}", "span_id": f"tool{n}", "parent_span_id": "root",
             "start_time": _EPOCH + dt.timedelta(seconds=n, milliseconds=500), "op": "tool"}
            for n in range(1, 5)
        ]  # fmt: skip
    store = Store(tmp_path / "store.duckdb")
    with store.write_connection() as con:
        profiled = Profiled(con, tmp_path / "profile.json")
        with transaction(con):
            insert_spans(profiled, _table(rows))  # type: ignore[arg-type]
        profiled.keep()
        con.execute("PRAGMA disable_profiling")
    numbering = [
        p
        for p in profiled.profiles
        if "CREATE OR REPLACE TEMP TABLE _baton_facts" in p.get("query", {}).get("sql", "")
    ]
    assert len(numbering) == 1
    # One window numbers the 30 model calls, one the 30 handoffs; neither sorts all 110
    # spans (each did, partitioned by whether a span is the kind it numbers).
    assert sorted(_rows(numbering[0], "WINDOW")) == [30, 30]
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name


def test_an_absorb_counts_what_it_added_from_its_insert(tmp_path: Path) -> None:
    rows = _handoffs("t1", [("a", "b")]) + _handoffs("t2", [("a", "b"), ("b", "c")])
    store = Store(tmp_path / "store.duckdb")
    store.ingest(_table(rows[:4]))
    with store.write_connection() as con:
        profiled = Profiled(con, tmp_path / "profile.json")
        with transaction(con):
            # Two spans stored already, one repeated in the batch: 3 + 1 new ones.
            batch = _table([*rows[2:], rows[-1]])
            added = insert_spans(profiled, batch)  # type: ignore[arg-type]
        profiled.keep()
        con.execute("PRAGMA disable_profiling")
    assert added == len(rows) - 4
    assert store.query("SELECT count(*) FROM spans").rows == [(len(rows),)]
    statements = [" ".join(p.get("query", {}).get("sql", "").split()) for p in profiled.profiles]
    assert not [s for s in statements if "count(*) FROM spans" in s], statements
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name
