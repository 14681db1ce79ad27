"""``baton import`` and ``baton export``, run as commands."""

from __future__ import annotations

import gzip
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode
from sdk_workflow import expected_from, recorded, run_support

import tracer.agents_sdk as agents_sdk
from tracer.capture.exporter import StoreExporter
from tracer.capture.sdk_spans import SdkSpanConverter
from tracer.capture.spanrows import SpanRows
from tracer.store import Store
from tui.cli import main

SPANS = "SELECT * FROM spans ORDER BY trace_id, span_id"
VIEWS = (
    "SELECT * FROM handoffs ORDER BY trace_id, seq",
    "SELECT * FROM tool_calls ORDER BY trace_id, started_at",
    "SELECT * FROM turns ORDER BY trace_id, turn",
    "SELECT * FROM conversations ORDER BY conversation_id",
    "SELECT * FROM loops ORDER BY trace_id, first_seq",
)


def baton(*args: str) -> Result:
    return CliRunner().invoke(main, list(args), catch_exceptions=False)


def record_otel_spans(store: Store) -> None:
    """Spans with everything OTLP carries: events, an error, a resource, a scope."""
    provider = TracerProvider(resource=Resource.create({"service.name": "round-trip"}))
    provider.add_span_processor(SimpleSpanProcessor(StoreExporter(store)))
    tracer = provider.get_tracer("baton")
    with tracer.start_as_current_span("invoke_agent Solo") as agent:
        agent.set_attributes(
            {
                "gen_ai.operation.name": "invoke_agent",
                "gen_ai.agent.name": "Solo",
                "gen_ai.conversation.id": "conv-otel",
                "ratio": 0.25,
                "tags": ["a", "b"],
                "count": 3,
                "flag": True,
            }
        )
        with tracer.start_as_current_span("execute_tool divide") as tool:
            tool.set_attributes(
                {"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": "divide"}
            )
            tool.add_event("exception", {"exception.type": "ZeroDivisionError", "n": 1})
            tool.set_status(Status(StatusCode.ERROR, "division by zero"))
    provider.shutdown()


@pytest.fixture
async def full_store(tmp_path: Path, sdk_processors: None) -> Store:
    store = Store(tmp_path / "source.duckdb")
    agents_sdk.install(store)
    await run_support()
    record_otel_spans(store)
    return store


@pytest.mark.parametrize("fmt", ["otlp-json", "parquet"])
def test_export_then_import_gives_the_same_spans_and_views(
    tmp_path: Path, full_store: Store, fmt: str
) -> None:
    out = tmp_path / f"spans.{fmt}"
    exported = baton("export", "--store", str(full_store.path), "--format", fmt, str(out))
    total = full_store.query("SELECT count(*) FROM spans").rows[0][0]
    assert exported.exit_code == 0
    assert exported.stdout.strip() == f"exported {total} spans to {out}"

    copy = Store(tmp_path / "copy.duckdb")
    imported = baton("import", "--store", str(copy.path), str(out))
    assert imported.exit_code == 0, imported.stderr
    assert f"imported {total} new spans" in imported.stdout

    assert copy.query(SPANS).rows == full_store.query(SPANS).rows
    for view in VIEWS:
        assert copy.query(view).rows == full_store.query(view).rows, view
    again = baton("import", "--store", str(copy.path), str(out))
    assert "imported 0 new spans" in again.stdout  # importing twice keeps one copy


def test_otlp_json_export_is_one_request_per_line(tmp_path: Path, full_store: Store) -> None:
    out = tmp_path / "out.jsonl"
    baton("export", "--store", str(full_store.path), str(out))
    lines = out.read_text().splitlines()
    requests = [json.loads(line) for line in lines]
    spans = [
        span
        for request in requests
        for resource in request["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    assert len(spans) == full_store.query("SELECT count(*) FROM spans").rows[0][0]
    error = next(span for span in spans if span["name"] == "execute_tool divide")
    assert error["status"] == {"code": 2, "message": "division by zero"}
    assert len(error["traceId"]) == 32 and len(error["spanId"]) == 16
    assert error["events"][0]["name"] == "exception"


def test_export_filters_by_conversation_and_trace(tmp_path: Path, full_store: Store) -> None:
    out = tmp_path / "one.jsonl"
    result = baton(
        "export", "--store", str(full_store.path), "--conversation", "conv-otel", str(out)
    )
    assert result.stdout.strip() == f"exported 2 spans to {out}"
    trace_id = full_store.query(
        "SELECT trace_id FROM spans WHERE conversation_id = 'conv-support' LIMIT 1"
    ).rows[0][0]
    result = baton("export", "--store", str(full_store.path), "--trace", trace_id, str(out))
    count = full_store.query("SELECT count(*) FROM spans WHERE trace_id = ?", [trace_id])
    assert result.stdout.strip() == f"exported {count.rows[0][0]} spans to {out}"


def otlp_line(span_id: str, name: str) -> str:
    span = {
        "traceId": "0af7651916cd43dd8448eb211c80319c",
        "spanId": span_id,
        "name": name,
        "startTimeUnixNano": "1700000000000000000",
        "endTimeUnixNano": "1700000000100000000",
    }
    request = {"resourceSpans": [{"scopeSpans": [{"scope": {"name": "f"}, "spans": [span]}]}]}
    return json.dumps(request)


def test_a_broken_line_is_reported_with_file_and_line_and_the_rest_imported(
    tmp_path: Path,
) -> None:
    source = tmp_path / "collector-output.jsonl"
    source.write_text(
        "\n".join(
            [
                otlp_line("00f067aa0ba902b7", "first"),
                '{"resourceSpans": [{"scopeSpans": [{"spans": [{"traceId": "0af76',
                otlp_line("00f067aa0ba902b8", "third"),
                "",
                '{"something": "else"}',
                otlp_line("00f067aa0ba902b9", "sixth"),
            ]
        )
        + "\n"
    )
    store = Store(tmp_path / "s.duckdb")
    result = baton("import", "--store", str(store.path), str(source))
    assert result.exit_code == 1
    assert f"{source}:2: not valid JSON" in result.stderr
    assert f"{source}:5: neither an OTLP export request nor an Agents SDK" in result.stderr
    assert "imported 3 new spans" in result.stdout
    names = store.query("SELECT name FROM spans ORDER BY name").rows
    assert names == [("first",), ("sixth",), ("third",)]


def test_unreadable_and_corrupt_files_are_named_and_skipped(tmp_path: Path) -> None:
    good = tmp_path / "good.jsonl.gz"
    good.write_bytes(gzip.compress((otlp_line("1111111111111111", "from gzip") + "\n").encode()))
    garbage = tmp_path / "garbage.bin"
    garbage.write_bytes(bytes(range(256)) * 40)
    truncated = tmp_path / "cut.jsonl.gz"
    truncated.write_bytes(gzip.compress(b"x" * 10000)[:40])
    missing = tmp_path / "missing.jsonl"
    pretty = tmp_path / "pretty.json"
    pretty.write_text(json.dumps(json.loads(otlp_line("2222222222222222", "pretty")), indent=2))
    store = Store(tmp_path / "s.duckdb")

    result = baton(
        "import", "--store", str(store.path),
        str(garbage), str(missing), str(tmp_path), str(truncated), str(good), str(pretty),
    )  # fmt: skip
    assert result.exit_code == 1
    for bad in (garbage, missing, tmp_path, truncated):
        assert f"{bad}: cannot read it" in result.stderr
    assert "imported 2 new spans" in result.stdout
    assert store.query("SELECT name FROM spans ORDER BY name").rows == [
        ("from gzip",),
        ("pretty",),
    ]


def test_large_files_show_progress(tmp_path: Path) -> None:
    big = tmp_path / "big.jsonl"
    with big.open("w") as handle:
        for index in range(6000):
            handle.write(otlp_line(f"{index + 1:016x}", "x" * 200) + "\n")
    assert big.stat().st_size > 1024 * 1024
    store = Store(tmp_path / "s.duckdb")
    result = baton("import", "--store", str(store.path), str(big))
    assert result.exit_code == 0
    assert "importing big.jsonl" in result.stderr
    assert store.query("SELECT count(*) FROM spans").rows == [(6000,)]


async def test_sdk_jsonl_with_a_broken_line_imports_the_rest(
    tmp_path: Path, sdk_processors: None
) -> None:
    from agents.tracing import set_trace_processors
    from test_capture_agents_sdk import JsonlExport

    source = tmp_path / "sdk.jsonl"
    writer = JsonlExport(source)
    set_trace_processors([writer])
    result = await run_support()
    writer.shutdown()
    lines = source.read_text().splitlines()
    lines.insert(5, '{"object": "trace.span", "id": ')
    source.write_text("\n".join(lines) + "\n")

    store = Store(tmp_path / "s.duckdb")
    imported = baton("import", "--store", str(store.path), str(source))
    assert imported.exit_code == 1
    assert f"{source}:6: not valid JSON" in imported.stderr
    assert recorded(store) == expected_from(result)


def test_agents_sdk_spans_without_times_are_reported_not_dropped_silently(
    tmp_path: Path,
) -> None:
    trace_id = "trace_" + "a" * 32
    span = {"object": "trace.span", "trace_id": trace_id, "parent_id": None, "error": None}
    source = tmp_path / "sdk.jsonl"
    source.write_text(
        "\n".join(
            json.dumps(item)
            for item in (
                {"object": "trace", "id": trace_id, "workflow_name": "Support"},
                {
                    **span,
                    "id": "span_" + "1" * 24,
                    "started_at": "2025-05-01T10:00:00.000000+00:00",
                    "ended_at": "2025-05-01T10:00:01.000000+00:00",
                    "span_data": {"type": "agent", "name": "Triage"},
                },
                {
                    **span,
                    "id": "span_" + "2" * 24,
                    "started_at": None,
                    "ended_at": None,
                    "span_data": {"type": "function", "name": "lookup"},
                },
            )
        )
        + "\n"
    )
    store = Store(tmp_path / "s.duckdb")
    result = baton("import", "--store", str(store.path), str(source))
    assert result.exit_code == 1
    assert "span_" + "2" * 24 in result.stderr
    assert "no start or end time" in result.stderr
    assert store.query("SELECT name FROM spans ORDER BY name").rows == [
        ("Support",),
        ("agent Triage",),
    ]


def test_the_sdk_converter_counts_the_spans_it_holds_as_they_come_and_go() -> None:
    """``baton import`` asks after every line how many Agents SDK spans wait to be
    converted; the converter keeps that count as spans come and go (adding up every
    trace's buffer instead made an import quadratic in the number of traces)."""
    converter = SdkSpanConverter()

    def span(trace_id: str, number: int) -> dict[str, object]:
        return {
            "object": "trace.span",
            "id": f"span_{trace_id}_{number}",
            "trace_id": trace_id,
            "started_at": "2025-05-01T10:00:00.000000+00:00",
            "span_data": {"type": "agent", "name": "Triage"},
        }

    for trace_id in ("trace_a", "trace_b"):
        assert converter.add_export({"object": "trace", "id": trace_id})
        for number in range(3):
            assert converter.add_export(span(trace_id, number))
    assert len(converter) == 6
    rows = SpanRows()
    assert converter.drain(rows, ["trace_a"], final=False) == 3
    assert len(converter) == 3
    converter.add_span("trace_a", span("trace_a", 3))
    assert len(converter) == 4
    converter.drain(rows)
    assert len(converter) == 0
    assert len(rows) == 7 + 2  # every span, and a workflow span per trace
