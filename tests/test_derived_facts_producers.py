"""What every recorded producer sent, delivered in any order, in any batches and partly
twice, is stored with the same facts as when it arrives whole: the same spans, the same
views and the same replay; and those views answer what their full-table definitions
answer (``reference_views``)."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pytest
from reference_views import REFERENCE_VIEWS

from replay import load_conversation
from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import Decoded
from tracer.otlp.json_body import decode_json_document
from tracer.store import Store

ROOT = Path(__file__).resolve().parent.parent
RECORDINGS = sorted(
    [
        *(ROOT / "tests" / "producers" / "fixtures").glob("*.otlp.jsonl"),
        *(ROOT / "sample_traces").glob("*.otlp.json"),
    ]
)
VIEWS = [name for name, _ in REFERENCE_VIEWS]


def recorded_spans(path: Path) -> pa.Table:
    rows = SpanRows()
    for line in path.read_text().splitlines():
        if line.strip():
            decoded = Decoded(rows)
            decode_json_document(json.loads(line), decoded)
            assert decoded.rejected == 0, decoded.error_message
    return rows.to_arrow()


def answers(store: Store) -> dict[str, object]:
    """Every view, its reference definition, the stored spans (each sorted) and the replay
    of every conversation."""
    found: dict[str, object] = {}
    with store.read_connection() as con:
        for _, sql in REFERENCE_VIEWS:
            con.execute(sql)
        for name in VIEWS:
            described = con.execute(f"SELECT * FROM reference_{name} LIMIT 0").description
            columns = ", ".join(f'"{d[0]}"' for d in described)
            found[name] = con.execute(f"SELECT {columns} FROM {name} ORDER BY ALL").fetchall()
            found[f"reference_{name}"] = con.execute(
                f"SELECT * FROM reference_{name} ORDER BY ALL"
            ).fetchall()
        found["spans"] = con.execute("SELECT * FROM spans ORDER BY ALL").fetchall()
        ids = [
            row[0] for row in con.execute("SELECT conversation_id FROM conversations").fetchall()
        ]
    found["replays"] = {id_: load_conversation(store, id_) for id_ in sorted(ids)}
    return found


@pytest.mark.parametrize("path", RECORDINGS, ids=lambda p: p.name.split(".")[0])
def test_any_order_and_batches_store_what_the_whole_recording_stores(
    tmp_path: Path, path: Path
) -> None:
    table = recorded_spans(path)
    whole = Store(tmp_path / "whole.duckdb")
    whole.ingest(table)
    expected = answers(whole)
    # The reference finds loops within one trace; traces joined by their links into one
    # run (AutoGen) are looked at together since (tests/producers/test_linked_runs.py).
    linked = whole.query("SELECT count(*) FROM spans WHERE links IS NOT NULL").rows[0][0]
    for name in VIEWS:
        if not (linked and name in ("loops", "conversations")):
            assert expected[name] == expected[f"reference_{name}"], name
    assert expected["spans"], "the recording holds spans"
    for seed in (1, 2, 3):
        store = delivered(table, random.Random(f"{path.name}/{seed}"), tmp_path, pieces=8)
        assert answers(store) == expected, f"seed {seed}"


def delivered(
    table: pa.Table, rng: random.Random, folder: Path, *, pieces: int, repeat: bool = True
) -> Store:
    """A new store given ``table``'s spans shuffled (children before parents, later turns
    before earlier ones), in up to ``pieces`` batches, each through a segment or straight
    in, then (``repeat``) a random stretch of them again (which must change nothing)."""
    order = list(range(table.num_rows))
    rng.shuffle(order)
    shuffled = table.take(pa.array(order))
    store = Store(folder / f"shuffled-{len(list(folder.glob('shuffled-*.duckdb')))}.duckdb")
    count = min(table.num_rows - 1, rng.randint(2, pieces))
    cuts = sorted(rng.sample(range(1, table.num_rows), count))
    for start, end in zip([0, *cuts], [*cuts, table.num_rows], strict=True):
        piece = shuffled.slice(start, end - start)
        if rng.random() < 0.5:
            store.write_segment(piece)  # absorbed with the next read
        else:
            store.ingest(piece)
    if not repeat:
        return store
    again = rng.randrange(table.num_rows)
    store.ingest(shuffled.slice(again, rng.randint(1, table.num_rows - again)))
    return store


def test_a_store_from_before_claims_were_kept_takes_the_earlier_claim_after_upgrading(
    tmp_path: Path,
) -> None:
    import duckdb
    import pyarrow.compute as pc

    table = recorded_spans(ROOT / "tests" / "producers" / "fixtures" / "adk-agent_tool.otlp.jsonl")
    whole = Store(tmp_path / "whole.duckdb")
    whole.ingest(table)
    expected = answers(whole)
    (outer,) = {row[0] for row in expected["conversations"]}
    inner = pc.not_equal(pc.fill_null(table.column("conversation_id"), outer), outer)
    assert 0 < pc.sum(inner).as_py() < table.num_rows  # the agent tool's own session
    path = tmp_path / "old.duckdb"
    Store(path).ingest(table.filter(inner))  # the inner session's spans come first
    # Back to the schema before claims were kept, as a store of that baton holds them.
    con = duckdb.connect(str(path))
    con.execute("ALTER TABLE _baton_traces DROP COLUMN claimed_at")
    con.execute("DELETE FROM _baton_migrations WHERE id >= 10")
    con.close()
    store = Store(path)
    store.ingest(table.filter(pc.invert(inner)))
    assert answers(store) == expected


def test_linked_traces_sharing_a_run_move_together_when_a_batch_links_only_some(
    tmp_path: Path,
) -> None:
    # This delivery of AutoGen's 26 linked traces ends with a batch whose links join one
    # trace to another of the earlier run, but not to the rest of that run.
    path = ROOT / "tests" / "producers" / "fixtures" / "autogen-pingpong_unwrapped.otlp.jsonl"
    table = recorded_spans(path)
    whole = Store(tmp_path / "whole.duckdb")
    whole.ingest(table)
    rng = random.Random(f"{path.name}/22")
    store = delivered(table, rng, tmp_path, pieces=12, repeat=False)
    assert answers(store) == answers(whole)
