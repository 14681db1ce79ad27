"""Bad input costs the bad value, never the span or its neighbours."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest

from tracer.capture.spanrows import SpanRows
from tracer.store import Store
from tracer.store.sanitize import Limits

TRACE = "0af7651916cd43dd8448eb211c80319c"


def add_span(rows: SpanRows, span_id: str, attributes: dict[str, Any], **extra: Any) -> None:
    fields: dict[str, Any] = {
        "trace_id": TRACE,
        "span_id": span_id,
        "parent_span_id": None,
        "name": "execute_tool lookup",
        "kind": "internal",
        "start_ns": 1_700_000_000_000_000_000 + int(span_id, 16),
        "end_ns": 1_700_000_000_500_000_000,
        "attributes": attributes,
    }
    fields.update(extra)
    rows.add(**fields)


def stored_attributes(store: Store, span_id: str) -> dict[str, Any]:
    value = store.query("SELECT attributes FROM spans WHERE span_id = ?", [span_id]).rows[0][0]
    return json.loads(str(value))


class Unserialisable:
    def __repr__(self) -> str:
        return "<Unserialisable thing>"


def test_values_json_cannot_express_are_kept_as_text(store: Store) -> None:
    rows = SpanRows()
    add_span(
        rows,
        "0000000000000001",
        {
            "object": Unserialisable(),
            "bytes": b"raw \xff bytes",
            "nan": math.nan,
            "set": {"b", "a"},
            "fine": 3,
        },
    )
    add_span(
        rows,
        "0000000000000002",
        {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "next"},
    )
    store.ingest(rows.to_arrow())
    first = stored_attributes(store, "0000000000000001")
    assert first["object"] == "<Unserialisable thing>"
    assert first["bytes"] == "raw \ufffd bytes"
    assert first["nan"] == "nan"
    assert first["set"] == ["a", "b"]
    assert first["fine"] == 3
    assert store.query("SELECT tool_name FROM spans WHERE span_id = '0000000000000002'").rows == [
        ("next",)
    ]


def test_oversized_values_are_truncated_with_a_marker(store: Store) -> None:
    rows = SpanRows(Limits(max_value_chars=100))
    add_span(rows, "0000000000000001", {"gen_ai.tool.call.result": "x" * 1000, "list": ["y" * 500]})
    store.ingest(rows.to_arrow())
    attributes = stored_attributes(store, "0000000000000001")
    assert attributes["gen_ai.tool.call.result"] == "x" * 100 + "…[baton: truncated 900 chars]"
    assert attributes["list"] == ["y" * 100 + "…[baton: truncated 400 chars]"]


def test_truncation_size_comes_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_MAX_VALUE_CHARS", "128")
    assert Limits.from_env().max_value_chars == 128
    with pytest.raises(ValueError, match="at least 64"):
        Limits.from_env(10)


def test_invalid_utf8_is_repaired_not_fatal(store: Store) -> None:
    rows = SpanRows()
    # A lone surrogate is what Python holds for bytes that were not valid UTF-8.
    add_span(rows, "0000000000000001", {"text": "caf\udce9"}, name="bad \ud800 name")
    add_span(rows, "0000000000000002", {"text": "fine"})
    store.ingest(rows.to_arrow())
    assert stored_attributes(store, "0000000000000001")["text"] == "caf?"
    assert store.query("SELECT name FROM spans WHERE span_id = '0000000000000001'").rows == [
        ("bad ? name",)
    ]
    assert store.query("SELECT count(*) FROM spans").rows == [(2,)]


def test_secrets_never_reach_the_store(store: Store) -> None:
    rows = SpanRows()
    add_span(
        rows,
        "0000000000000001",
        {
            "http.request.header.authorization": "Bearer abc.def.ghi",
            "openai.api_key": "sk-live-0123456789abcdefghij",
            "gen_ai.input.messages": "my key is sk-proj-ABCDEFGHIJKLMNOPQRSTUV please",
            "gen_ai.usage.input_tokens": 12,
        },
        status_message="401 from Bearer eyJhbGciOiJIUzI1NiJ9",
    )
    store.ingest(rows.to_arrow())
    dump = store.query("SELECT attributes::VARCHAR || status_message FROM spans").rows[0][0]
    assert "abc.def.ghi" not in str(dump)
    assert "0123456789abcdefghij" not in str(dump)
    assert "ABCDEFGHIJKLMNOPQRSTUV" not in str(dump)
    assert "eyJhbGciOiJIUzI1NiJ9" not in str(dump)
    attributes = stored_attributes(store, "0000000000000001")
    assert attributes["http.request.header.authorization"] == "[REDACTED]"
    assert attributes["gen_ai.input.messages"] == "my key is sk-[REDACTED] please"
    assert attributes["gen_ai.usage.input_tokens"] == 12


def test_the_same_span_delivered_twice_is_kept_once(store: Store) -> None:
    rows = SpanRows()
    add_span(rows, "0000000000000001", {"n": 1})
    add_span(rows, "0000000000000001", {"n": 1})  # twice in one batch
    add_span(rows, "0000000000000002", {"n": 2})
    table = rows.to_arrow()
    store.write_segment(table)
    store.write_segment(table)  # and again in another segment
    store.ingest(table)  # and again straight in
    assert store.query("SELECT span_id, count(*) FROM spans GROUP BY 1 ORDER BY 1").rows == [
        ("0000000000000001", 1),
        ("0000000000000002", 1),
    ]


def test_a_corrupt_segment_is_reported_by_name_and_set_aside(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    good = SpanRows()
    add_span(good, "0000000000000001", {})
    store.write_segment(good.to_arrow())
    store.incoming.mkdir(parents=True, exist_ok=True)
    corrupt = store.incoming / "00000000000000000001-1-deadbeef.arrow"
    corrupt.write_bytes(b"this is not an arrow file")
    later = SpanRows()
    add_span(later, "0000000000000002", {})
    store.write_segment(later.to_arrow())

    report = store.absorb()
    assert report.spans_added == 2
    assert [p.name for p in report.corrupt] == [corrupt.name]
    assert (store.incoming / "corrupt" / corrupt.name).exists()
    assert corrupt.name in caplog.text
    assert store.pending_segments() == []


def test_half_written_segments_of_a_killed_recorder_are_ignored(store: Store) -> None:
    rows = SpanRows()
    add_span(rows, "0000000000000001", {})
    store.write_segment(rows.to_arrow())
    partial: Path = store.incoming / "00000000000000000002-99-cafe.arrow.tmp"
    partial.write_bytes(b"ARROW1\x00\x00 cut off")
    assert store.absorb().spans_added == 1
    assert store.query("SELECT count(*) FROM spans").rows == [(1,)]


def test_absorbing_the_same_segments_again_after_a_crash_adds_nothing(store: Store) -> None:
    """An absorber killed after committing but before deleting its segments leaves them
    behind; the next absorb must not duplicate a span."""
    rows = SpanRows()
    for i in range(1, 6):
        add_span(rows, f"{i:016x}", {"i": i})
    segment = store.write_segment(rows.to_arrow())
    saved = segment.read_bytes()
    assert store.absorb().spans_added == 5
    segment.write_bytes(saved)  # as if the delete never happened
    report = store.absorb()
    assert (report.segments, report.spans_added) == (1, 0)
    assert store.query("SELECT count(*), count(DISTINCT span_id) FROM spans").rows == [(5, 5)]
