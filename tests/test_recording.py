"""``tracer.setup`` and ``StoreExporter`` as an application uses them."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import duckdb
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from tracer.capture.exporter import StoreExporter
from tracer.store import Store


def test_setup_flushes_at_interpreter_exit_into_the_duckdb_file(tmp_path: Path) -> None:
    store_path = tmp_path / "exit.duckdb"
    script = textwrap.dedent(
        f"""
        import tracer
        from opentelemetry.sdk.trace.export import SimpleSpanProcessor
        from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
        provider = tracer.setup({str(store_path)!r})
        mine = InMemorySpanExporter()
        provider.add_span_processor(SimpleSpanProcessor(mine))  # the user's own exporter beside baton
        t = tracer.get_tracer()
        with t.start_as_current_span("invoke_agent Triage", attributes={{"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "Triage"}}):
            with t.start_as_current_span("chat m", attributes={{"gen_ai.operation.name": "chat"}}):
                pass
        print(len(mine.get_finished_spans()))
        # no shutdown: the interpreter's exit must flush
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
    # Straight from the DuckDB file, as `duckdb STORE` or harlequin would see it.
    con = duckdb.connect(str(store_path), read_only=True)
    assert con.execute("SELECT agent_name, op FROM spans ORDER BY op").fetchall() == [
        ("Triage", "agent"),
        ("Triage", "chat"),
    ]
    con.close()
    assert not list((tmp_path / "exit.duckdb.incoming").glob("*.arrow"))


def test_shutdown_moves_spans_into_the_file(tmp_path: Path) -> None:
    import tracer

    store = Store(tmp_path / "s.duckdb")
    tracer.setup(store.path)
    with tracer.get_tracer().start_as_current_span("custom work"):
        pass
    tracer.shutdown()
    con = duckdb.connect(str(store.path), read_only=True)
    assert con.execute("SELECT name, op, source FROM spans").fetchall() == [
        ("custom work", "other", "unknown")
    ]
    con.close()


def test_the_exporter_never_raises_into_the_application(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's folder should be")
    exporter = StoreExporter(blocker / "store.duckdb")
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))
    with provider.get_tracer("app").start_as_current_span("work"):
        pass
    assert len(memory.get_finished_spans()) == 1
    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.FAILURE
    provider.shutdown()
    exporter.shutdown()  # a second shutdown is harmless
    assert exporter.export(memory.get_finished_spans()) is SpanExportResult.FAILURE
