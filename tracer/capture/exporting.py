"""Exporting spans out of a store (``baton export``): OTLP/JSON lines, which Jaeger,
Phoenix, the OpenTelemetry Collector's file receiver and ``baton import`` read, or
Parquet with the ``spans`` table's columns, for data lakes and DuckDB elsewhere."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tracer.store import Store

FORMATS = ("otlp-json", "parquet")
_KIND_NUMBERS = {"internal": 1, "server": 2, "client": 3, "producer": 4, "consumer": 5}
_STATUS_NUMBERS = {"unset": 0, "ok": 1, "error": 2}
_SPANS_PER_LINE = 1000


@dataclass(frozen=True)
class SpanFilter:
    """Which spans to export: all, or those of some conversations or traces."""

    conversations: Sequence[str] = ()
    traces: Sequence[str] = ()

    def where(self) -> tuple[str, list[Any]]:
        """The ``WHERE`` clause (empty for all spans) and its parameters."""
        clauses: list[str] = []
        params: list[Any] = []
        if self.conversations:
            clauses.append(f"conversation_id IN ({', '.join('?' * len(self.conversations))})")
            params.extend(self.conversations)
        if self.traces:
            clauses.append(f"trace_id IN ({', '.join('?' * len(self.traces))})")
            params.extend(t.lower() for t in self.traces)
        return (" WHERE " + " AND ".join(clauses) if clauses else ""), params


def export_spans(
    store: Store,
    out: Path,
    fmt: str,
    spans: SpanFilter | None = None,
    *,
    spans_per_line: int = _SPANS_PER_LINE,
) -> int:
    """Write the selected spans of ``store`` to ``out`` in ``fmt``; returns how many.
    OTLP/JSON holds one request per line, of up to ``spans_per_line`` spans (1 makes a
    file that diffs span by span)."""
    if fmt not in FORMATS:
        raise ValueError(f"unknown export format {fmt!r}; use one of {', '.join(FORMATS)}")
    where, params = (spans or SpanFilter()).where()
    tmp = out.with_name(out.name + ".partial")
    from tracer.store.private import FILE_MODE, private_file  # here: `baton --help` loads this

    tmp.unlink(missing_ok=True)
    tmp.touch(mode=FILE_MODE)  # spans are private: the export is its owner's only
    try:
        if fmt == "parquet":
            count = _parquet(store, tmp, where, params)
        else:
            count = _otlp_json(store, tmp, where, params, spans_per_line)
        private_file(tmp)
        tmp.replace(out)
    finally:
        tmp.unlink(missing_ok=True)
    return count


def _parquet(store: Store, out: Path, where: str, params: list[Any]) -> int:
    import pyarrow.parquet as pq  # only this format needs it; the command line loads this module

    count = 0
    with store.read_connection() as con:
        relation: Any = con.cursor().sql(
            f"SELECT * FROM spans{where} ORDER BY trace_id, start_time, span_id", params=params
        )
        reader = relation.to_arrow_reader(50_000)
        with pq.ParquetWriter(out, reader.schema) as writer:
            for batch in reader:
                writer.write_batch(batch)
                count += batch.num_rows
    return count


_OTLP_COLUMNS = (
    "trace_id, span_id, parent_span_id, name, kind, epoch_us(start_time), "
    "epoch_us(end_time), status, status_message, scope, attributes, events, resource, "
    "duration_ms"
)


def _otlp_json(store: Store, out: Path, where: str, params: list[Any], spans_per_line: int) -> int:
    count = 0
    with store.read_connection() as con, out.open("w", encoding="utf-8") as sink:
        cursor = con.execute(
            f"SELECT {_OTLP_COLUMNS} FROM spans{where} ORDER BY trace_id, start_time, span_id",
            params,
        )
        while True:
            chunk = cursor.fetchmany(spans_per_line)
            if not chunk:
                break
            _write_request(sink, chunk)
            count += len(chunk)
    return count


def _write_request(sink: IO[str], rows: list[tuple[Any, ...]]) -> None:
    """One ``ExportTraceServiceRequest`` line: spans grouped by resource, then scope."""
    grouped: dict[str, dict[str, list[dict[str, Any]]]] = {}
    for row in rows:
        resource, scope = row[12] or "{}", row[9] or ""
        grouped.setdefault(resource, {}).setdefault(scope, []).append(_span(row))
    request = {
        "resourceSpans": [
            {
                "resource": {"attributes": _key_values(json.loads(resource))},
                "scopeSpans": [
                    {"scope": {"name": scope}, "spans": spans} for scope, spans in scopes.items()
                ],
            }
            for resource, scopes in grouped.items()
        ]
    }
    sink.write(json.dumps(request, ensure_ascii=False, separators=(",", ":")))
    sink.write("\n")


def _span(row: tuple[Any, ...]) -> dict[str, Any]:
    (trace_id, span_id, parent, name, kind, start_us, end_us, status, message, _, attrs,
     events, _resource, duration_ms) = row  # fmt: skip
    start_ns, end_ns = _nanoseconds(start_us, end_us, duration_ms)
    span: dict[str, Any] = {
        "traceId": trace_id,
        "spanId": span_id,
        "name": name,
        "kind": _KIND_NUMBERS.get(kind or "", 1),
        "startTimeUnixNano": str(start_ns),
        "attributes": _key_values(json.loads(attrs) if attrs else {}),
        "status": {"code": _STATUS_NUMBERS.get(status or "", 0)},
    }
    if parent:
        span["parentSpanId"] = parent
    if end_ns is not None:
        span["endTimeUnixNano"] = str(end_ns)
    if message:
        span["status"]["message"] = message
    loaded_events = json.loads(events) if events else []
    if loaded_events:
        span["events"] = [
            {
                "timeUnixNano": str(event.get("time_unix_nano") or 0),
                "name": event.get("name") or "",
                "attributes": _key_values(event.get("attributes") or {}),
            }
            for event in loaded_events
            if isinstance(event, dict)
        ]
    return span


def _nanoseconds(
    start_us: int, end_us: int | None, duration_ms: float | None
) -> tuple[int, int | None]:
    """Start and end in nanoseconds that give back the stored microsecond times *and* the
    stored duration, which keeps the producer's nanoseconds."""
    if end_us is None:
        return start_us * 1000, None
    if duration_ms is None:
        return start_us * 1000, end_us * 1000
    nanos = round(duration_ms * 1e6)
    offset = min(max((end_us - start_us) * 1000 - nanos, 0), 999)
    start_ns = start_us * 1000 + offset
    return start_ns, start_ns + nanos


def _key_values(attributes: Any) -> list[dict[str, Any]]:
    if not isinstance(attributes, dict):
        return []
    return [{"key": str(key), "value": _any_value(value)} for key, value in attributes.items()]


def _any_value(value: Any) -> dict[str, Any]:
    if value is None:
        return {}
    if isinstance(value, bool):
        return {"boolValue": value}
    if isinstance(value, int):
        return {"intValue": str(value)}
    if isinstance(value, float):
        return {"doubleValue": value}
    if isinstance(value, str):
        return {"stringValue": value}
    if isinstance(value, list):
        return {"arrayValue": {"values": [_any_value(item) for item in value]}}
    if isinstance(value, dict):
        return {"kvlistValue": {"values": _key_values(value)}}
    return {"stringValue": str(value)}
