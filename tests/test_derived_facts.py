"""The facts the views read are computed at ingest; whatever order and batches spans arrive
in, the views answer exactly what the old full-table definitions answer."""

from __future__ import annotations

import random
import sys
from pathlib import Path

import pyarrow as pa
import pytest
from reference_views import REFERENCE_VIEWS

from tracer.capture.spanrows import SpanRows
from tracer.store import Store

sys.path.insert(0, str(Path(__file__).parent.parent / "bench"))
from synth import EPOCH_NS, support_run


def conversations(count: int, seed: int) -> pa.Table:
    rng = random.Random(seed)
    rows = SpanRows()
    clock = EPOCH_NS
    for number in range(1, count + 1):
        clock = support_run(rows, number, clock, rng) + 1_000_000_000
    return rows.to_arrow()


def views_and_references(store: Store) -> list[tuple[str, list[object], list[object]]]:
    compared = []
    with store.read_connection() as con:
        for _, sql in REFERENCE_VIEWS:
            con.execute(sql)
        for name, _ in REFERENCE_VIEWS:
            described = con.execute(f"SELECT * FROM reference_{name} LIMIT 0").description
            columns = ", ".join(f'"{d[0]}"' for d in described)  # the old columns, in order
            ours = con.execute(f"SELECT {columns} FROM {name} ORDER BY ALL").fetchall()
            reference = con.execute(f"SELECT * FROM reference_{name} ORDER BY ALL").fetchall()
            compared.append((name, ours, reference))
    return compared


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_views_equal_the_full_table_definitions_whatever_the_batches(
    tmp_path: Path, seed: int
) -> None:
    table = conversations(60, seed)
    rng = random.Random(seed)
    order = list(range(table.num_rows))
    rng.shuffle(order)  # children before parents, later turns before earlier ones
    shuffled = table.take(pa.array(order))
    store = Store(tmp_path / "store.duckdb")
    cuts = sorted(rng.sample(range(1, table.num_rows), 12))
    for start, end in zip([0, *cuts], [*cuts, table.num_rows], strict=True):
        if rng.random() < 0.5:
            store.write_segment(shuffled.slice(start, end - start))  # absorbed on the next read
        else:
            store.ingest(shuffled.slice(start, end - start))
    store.ingest(shuffled.slice(0, 50))  # spans delivered twice change nothing
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name
    counts = {name: len(ours) for name, ours, _ in views_and_references(store)}
    assert counts["loops"] > 0 and counts["handoffs"] > 0 and counts["conversations"] == 60


def test_a_changed_loop_threshold_applies_at_once(tmp_path: Path) -> None:
    store = Store(tmp_path / "store.duckdb")
    store.ingest(conversations(30, 9))
    before = store.query("SELECT count(*) FROM loops").rows[0][0]
    with store.write_connection() as con:
        con.execute("UPDATE baton_settings SET value = '5' WHERE key = 'loop.two_cycle_handoffs'")
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name
    assert store.query("SELECT count(*) FROM loops").rows[0][0] < before


def test_a_store_of_the_previous_schema_is_upgraded_with_the_same_answers(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    import duckdb

    path = tmp_path / "old.duckdb"
    Store(path).ingest(conversations(20, 5))
    # Back to the schema before derived facts: what a store written by that baton holds.
    con = duckdb.connect(str(path))
    for view in ("conversations", "loops", "tool_calls", "handoffs", "turns"):
        con.execute(f"DROP VIEW IF EXISTS {view}")
    con.execute("ALTER TABLE spans DROP COLUMN turn")
    con.execute("ALTER TABLE spans DROP COLUMN seq")
    for table in ("_baton_loops", "_baton_traces", "_baton_conversations", "_baton_prices"):
        con.execute(f"DROP TABLE {table}")
    con.execute("DELETE FROM _baton_migrations WHERE id >= 6")  # 006_derived and after
    con.execute("DELETE FROM _baton_meta WHERE key = 'views_hash'")
    con.close()
    store = Store(path)
    for name, ours, reference in views_and_references(store):
        assert ours == reference, name
    assert "upgrading this store once" in caplog.text


def test_turns_and_conversations_are_priced_in_sql_as_the_replay_prices_them(
    tmp_path: Path,
) -> None:
    from decimal import Decimal

    from replay.cost import call_cost

    store = Store(tmp_path / "store.duckdb")
    table = conversations(8, 11)
    models = pa.array(
        ["gpt-4o-mini" if n % 3 else "no-such-model-xyz" for n in range(table.num_rows)]
    )
    store.ingest(table.set_column(table.column_names.index("model"), "model", models))
    turns = store.query(
        "SELECT model, input_tokens, output_tokens, started_at, cost_usd FROM turns"
    ).rows
    assert turns
    for model, given, produced, started, cost in turns:
        expected = call_cost(model, given, produced, started)
        assert cost == (expected.usd if expected.priced else None), model
    by_conversation = store.query(
        "SELECT c.cost_usd, c.n_unpriced_turns, sum(t.cost_usd), "
        "count(*) FILTER (WHERE t.cost_usd IS NULL) "
        "FROM conversations AS c JOIN turns AS t USING (conversation_id) "
        "GROUP BY c.conversation_id, c.cost_usd, c.n_unpriced_turns"
    ).rows
    for cost, unpriced, summed, nulls in by_conversation:
        assert (cost, unpriced) == (summed, nulls)
    assert any(cost and cost > Decimal(0) for cost, *_ in by_conversation)
    assert any(unpriced for _, unpriced, *_ in by_conversation)
