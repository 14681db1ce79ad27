"""``SpanRows.add_readable`` reads the SDK's own span classes by their fields, any other
span class through its properties; both must store the same rows."""

from __future__ import annotations

import pyarrow as pa
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import Link, Span, SpanKind, Status, StatusCode

from tracer.capture.spanrows import SpanRows


class _OwnSpan(ReadableSpan):
    """A producer's own span class: read through its properties."""


class _RenamedSpan(ReadableSpan):
    @property
    def name(self) -> str:
        return "renamed " + self._name


def _finished() -> list[ReadableSpan]:
    memory = InMemorySpanExporter()
    provider = TracerProvider(resource=Resource({"service.name": "shop", "api_key": "k3y"}))
    provider.add_span_processor(SimpleSpanProcessor(memory))
    tracer = provider.get_tracer("baton")
    previous: Span | None = None
    for index in range(40):
        links: list[Link] = [Link(previous.get_span_context(), {"n": index})] if previous else []
        span = tracer.start_span(
            f"execute_tool t{index}",
            kind=list(SpanKind)[index % len(SpanKind)],
            links=links,
            attributes={"gen_ai.operation.name": "execute_tool", "token": "s3cret", "i": index},
            start_time=1_700_000_000_000_000_000 + index,
        )
        if index % 2:
            span.add_event("retry", {"password": "p"}, timestamp=1_700_000_000_000_000_500)
        if index % 5 == 0:
            span.set_status(Status(StatusCode.ERROR, "boom"))
        span.end(end_time=1_700_000_000_000_001_000 + index)
        previous = span
    provider.shutdown()
    return list(memory.get_finished_spans())


def _copied(span: ReadableSpan, kind: type[ReadableSpan] = _OwnSpan) -> ReadableSpan:
    return kind(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=span.attributes,
        events=span.events,
        links=span.links,
        kind=span.kind,
        status=span.status,
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


def _table(spans: list[ReadableSpan]) -> pa.Table:
    rows = SpanRows()
    assert [rows.add_readable(span) for span in spans] == [None] * len(spans)
    return rows.to_arrow()


def test_an_sdk_span_is_stored_as_the_same_span_read_through_its_properties() -> None:
    spans = _finished()
    assert {type(span) for span in spans} == {ReadableSpan}  # what processors hand on
    by_fields = _table(spans)
    assert by_fields.equals(_table([_copied(span) for span in spans]), check_metadata=True)
    assert by_fields.equals(_table([_copied(span, ReadableSpan) for span in spans]))
    assert by_fields.column("redacted").to_pylist() == [1 + i % 2 for i in range(len(spans))]


def test_a_span_class_of_its_own_is_read_through_its_properties() -> None:
    spans = [_copied(span, _RenamedSpan) for span in _finished()]
    names = _table(spans).column("name").to_pylist()
    assert names == [f"renamed execute_tool t{index}" for index in range(len(spans))]
