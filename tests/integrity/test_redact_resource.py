"""A credential in a span's resource is redacted in a big batch exactly as in a span alone.

A big batch's pre-filter scans its distinct resources once, apart from the rows' other
text (``Redactor._candidate_rows``); a span alone is pre-filtered in Python, value by value.
Both must store the same rows."""

from __future__ import annotations

import pyarrow as pa

from tracer.capture.spanrows import SpanRows

SHOP = '{"service.name": "shop"}'
KEYED = '{"service.name": "shop", "api_key": "k3y-of-the-shop"}'
SHAPED = '{"service.name": "shop", "deploy.note": "sent with Bearer abcdefghijklmnop"}'


def _add(rows: SpanRows, index: int, resource: str) -> None:
    rows.add(
        trace_id=f"{index // 10:032x}",
        span_id=f"{index + 1:016x}",
        parent_span_id=None,
        name=f"chat {index}",
        kind="client",
        start_ns=1_700_000_000_000_000_000 + index,
        end_ns=1_700_000_000_000_000_000 + index + 1000,
        attributes={"gen_ai.operation.name": "chat", "note": f"message number {index}"},
        resource_json=resource,
    )


def _resource(index: int) -> str:
    return KEYED if index % 97 == 5 else SHAPED if index % 89 == 7 else SHOP


def test_a_resource_secret_is_redacted_in_a_big_batch_as_in_a_span_alone() -> None:
    count = 400
    batch = SpanRows()
    for index in range(count):
        _add(batch, index, _resource(index))
    together = batch.to_arrow()
    alone = []
    for index in range(count):
        rows = SpanRows()
        _add(rows, index, _resource(index))
        alone.append(rows.to_arrow())
    singles = pa.concat_tables(alone)
    assert together.column("resource").to_pylist() == singles.column("resource").to_pylist()
    assert together.column("redacted").to_pylist() == singles.column("redacted").to_pylist()
    assert together.column("attributes").to_pylist() == singles.column("attributes").to_pylist()
    stored = together.column("resource").to_pylist()
    assert not any("k3y-of-the-shop" in r or "abcdefghijklmnop" in r for r in stored)
    counts = together.column("redacted").to_pylist()
    secret_rows = [i for i in range(count) if _resource(i) != SHOP]
    assert len(secret_rows) == 10
    assert [i for i, n in enumerate(counts) if n] == secret_rows
    assert stored.count(SHOP) == count - len(secret_rows)
