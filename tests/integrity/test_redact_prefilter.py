"""The vectorised pre-filter picks the rows the exact pass needs, value by value.

A big batch is pre-filtered by one RE2 scan (``Redactor._candidate_rows``); the exact pass
then reads only the values Python's compiled pre-filter matches. The scan must select a
superset of those rows, and need select no more: a match that only appears when two
values of a row are joined (a name ending in ``token`` before a status message starting
``": "``) is no credential in either value.
"""

from __future__ import annotations

import json

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from tracer.capture.spanrows import SpanRows
from tracer.store.redact import redactor
from tracer.store.rows import SPAN_SCHEMA

COUNT = 300


def _span(index: int) -> tuple[str, str | None, dict[str, object]]:
    """A span's name, status message and attributes."""
    name, message = f"chat {index}", None
    attributes: dict[str, object] = {"gen_ai.operation.name": "chat", "note": f"msg {index}"}
    if index % 50 == 3:  # the two halves of a key-value match, in two columns
        name, message = f"refresh the token {index}", '": "not a secret"'
    elif index % 50 == 9:
        attributes["note"] = "sent with Bearer abcdefghijklmnop"
    elif index % 50 == 17:
        message = "failed with sk-" + "z" * 24
    return name, message, attributes


def _add(rows: SpanRows, index: int) -> None:
    name, message, attributes = _span(index)
    rows.add(
        trace_id=f"{index // 10:032x}",
        span_id=f"{index + 1:016x}",
        parent_span_id=None,
        name=name,
        kind="client",
        start_ns=1_700_000_000_000_000_000 + index,
        end_ns=1_700_000_000_000_000_000 + index + 1000,
        status="error" if message else "unset",
        status_message=message,
        attributes=attributes,
        resource_json='{"service.name": "shop"}',
    )


def _unredacted() -> pa.Table:
    """The batch's rows as ``SpanRows`` makes them, with the credentials put back: a
    batch as an older segment or another writer may hand it to redaction."""
    rows = SpanRows()
    for index in range(COUNT):
        _add(rows, index)
    table = rows.to_arrow()
    spans = [_span(index) for index in range(COUNT)]
    raw = {
        "name": [name for name, _, _ in spans],
        "status_message": [message for _, message, _ in spans],
        "attributes": [json.dumps(attributes, ensure_ascii=False) for _, _, attributes in spans],
        "redacted": [0] * COUNT,
    }
    for name, values in raw.items():
        index = table.column_names.index(name)
        field = table.schema.field(index)
        table = table.set_column(index, field, pa.array(values, type=field.type))
    return table.replace_schema_metadata({})


def _text_columns(table: pa.Table) -> list[int]:
    skip = {"trace_id", "span_id", "parent_span_id", "kind", "status", "op", "source"}
    return [
        i
        for i, field in enumerate(table.schema)
        if pa.types.is_string(field.type) and field.name not in skip
    ]


def test_the_vectorised_pre_filter_selects_the_rows_a_value_matches() -> None:
    table = _unredacted()
    rules = redactor()
    columns = _text_columns(table)
    assert sum(table.column(i).nbytes for i in columns) > 2048  # the RE2 path
    search = rules.python_prefilter.search
    texts = [table.column(i).to_pylist() for i in columns]
    by_value = [r for r in range(COUNT) if any(c[r] and search(c[r]) for c in texts)]
    assert by_value == [r for r in range(COUNT) if r % 50 in (9, 17)]
    assert rules._candidate_rows(table, columns, pc) == by_value


def test_a_batch_is_redacted_as_each_of_its_spans_alone() -> None:
    together = redactor().table(_unredacted())
    alone = []
    for index in range(COUNT):
        rows = SpanRows()
        _add(rows, index)
        alone.append(rows.to_arrow())
    singles = pa.concat_tables(alone)
    for name in ("name", "status_message", "attributes", "redacted"):
        assert together.column(name).to_pylist() == singles.column(name).to_pylist(), name
    counts = together.column("redacted").to_pylist()
    assert [i for i, n in enumerate(counts) if n] == [r for r in range(COUNT) if r % 50 in (9, 17)]


def _without_counts(table: pa.Table) -> pa.Table:
    index = table.column_names.index("redacted")
    nulls = pa.nulls(table.num_rows, type=SPAN_SCHEMA.field("redacted").type)
    return table.set_column(index, table.schema.field(index), nulls)


def test_missing_counts_are_read_as_they_always_were() -> None:
    # A segment from before the ``redacted`` column: its counts are read as 0 when the
    # joined scan finds nothing at all, and kept missing when it finds only a match that
    # spans two values, as before the scan went value by value.
    table = _unredacted()
    keep = [r for r in range(COUNT) if r % 50 not in (9, 17)]
    only_joined = _without_counts(table.take(keep))
    clean = _without_counts(table.take([r for r in keep if r % 50 != 3]))
    assert redactor().table(clean).column("redacted").to_pylist() == [0] * clean.num_rows
    counts = redactor().table(only_joined).column("redacted").to_pylist()
    assert counts == [None] * only_joined.num_rows


def test_a_batch_with_no_candidate_is_decided_by_one_scan_of_one_value(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """RE2's setup for each value costs more than the scan of a batch's short values; the
    pre-filter first scans all the text laid end to end, as one value, and scans value by
    value only when that finds a match (the pattern has no anchors: a value's match is
    one in the whole)."""
    scanned: list[int] = []
    real = pc.match_substring_regex

    def counted(values: pa.Array, pattern: str) -> pa.Array:
        scanned.append(len(values))
        return real(values, pattern)

    batch = _unredacted()
    clean = pa.concat_tables([batch.slice(0, 3)] * 40)  # rows 0-2: no credential at all
    monkeypatch.setattr(pc, "match_substring_regex", counted)
    rules = redactor()
    columns = _text_columns(clean)
    assert sum(clean.column(i).nbytes for i in columns) > 2048  # the RE2 path
    assert rules._candidate_rows(clean, columns, pc) == []
    assert scanned == [1]
    scanned.clear()
    assert rules._candidate_rows(batch, columns, pc) == [
        r for r in range(COUNT) if r % 50 in (9, 17)
    ]
    assert scanned[0] == 1 and scanned[1] > COUNT  # then value by value


def test_the_end_to_end_scan_leaves_text_of_64_bit_offsets_to_the_scan_per_value() -> None:
    """It reads a string array's 32-bit offsets: text of another layout is never decided
    clean by it (it answers "may match", and each value is scanned)."""
    from tracer.store.redact import _matches_end_to_end

    pattern = redactor().prefilter
    assert pattern is not None
    words = ["plain", "words"] * 600
    assert not _matches_end_to_end(pa.array(words), pattern, pa, pc)
    assert _matches_end_to_end(pa.array(words, pa.large_string()), pattern, pa, pc)
