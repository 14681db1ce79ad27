"""The SDK conversion process (``tracer.capture.sdk_worker``, fed by ``sdk_offload``):
it writes exactly what the recording process would have written, once it runs the
recording process converts nothing itself, and killing either process loses nothing."""

from __future__ import annotations

import copy
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from agents import custom_span, trace
from agents.tracing import Span, Trace, TracingProcessor, set_trace_processors
from sdk_workflow import expected_from, recorded, run_support

import tracer.agents_sdk as agents_sdk
from tracer.capture.agents_sdk import _HELPER_AFTER_TRACES, StoreTracingProcessor
from tracer.capture.sdk_offload import ConversionProcess
from tracer.capture.sdk_spans import SdkSpanConverter, TraceBuffer
from tracer.capture.sdk_worker import current_settings
from tracer.capture.spanrows import SpanRows
from tracer.store import Store
from tracer.store.redact import REDACT_ENV, redactor
from tracer.store.sanitize import Limits
from tracer.store.segments import read_segment

pytestmark = pytest.mark.usefixtures("sdk_processors")

HERE = Path(__file__).parent
#: Long enough for a process to start on a loaded machine; only a hang reaches it.
DEADLINE = 120.0


class Exports(TracingProcessor):
    """The SDK's own exports, buffered by trace as ``baton import`` buffers them."""

    def __init__(self) -> None:
        self.converter = SdkSpanConverter()

    def on_trace_start(self, trace: Trace) -> None:
        self.converter.add_export(trace.export() or {})

    def on_trace_end(self, trace: Trace) -> None:
        self.converter.add_export(trace.export() or {})

    def on_span_start(self, span: Span[Any]) -> None: ...

    def on_span_end(self, span: Span[Any]) -> None:
        self.converter.add_export(span.export() or {})

    def shutdown(self) -> None: ...

    def force_flush(self) -> None: ...


@pytest.fixture
def redacting(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A user redaction pattern in force in this process."""
    monkeypatch.setenv(REDACT_ENV, r"order-\d+")
    redactor.cache_clear()
    yield r"order-\d+"
    monkeypatch.delenv(REDACT_ENV)
    redactor.cache_clear()


def wait_until(ready: Any, what: str) -> None:
    deadline = time.monotonic() + DEADLINE
    while not ready():
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        time.sleep(0.02)


def started(helper: ConversionProcess | None) -> ConversionProcess:
    assert helper is not None, "the processor started no conversion process"
    wait_until(helper.usable, "the conversion process to start")
    return helper


def segment_pids(store: Store) -> list[int]:
    """The process that wrote each pending segment (its name says)."""
    return [int(path.name.split("-")[1]) for path in store.pending_segments()]


def many_traces(count: int) -> None:
    for number in range(count):
        with trace(f"warm-up {number}"), custom_span("step", {"n": number}):
            pass


def trace_of(store: Store, group_id: str) -> str:
    rows = store.query(
        "SELECT DISTINCT trace_id FROM spans WHERE conversation_id = ?", [group_id]
    ).rows
    assert len(rows) == 1, rows
    return str(rows[0][0])


def traces_and_spans(store: Store) -> tuple[int, int, int]:
    return store.query(
        "SELECT count(DISTINCT trace_id), count(*), count(DISTINCT (trace_id, span_id)) FROM spans"
    ).rows[0]


async def test_the_helper_writes_exactly_what_this_process_would(
    tmp_path: Path, redacting: str
) -> None:
    exports = Exports()
    set_trace_processors([exports])
    await run_support(group_id="conv-order-7")
    await run_support(group_id=None)
    with trace("hostile", metadata={"who": "\x1b[31mred[/]"}):
        with custom_span("odd \x00 name", {"text": "order-42 " + "x" * 500, "n": 2**70}):
            pass
        with custom_span("floats", {"values": [1.5, float("inf")], "nested": {"a": [1, None]}}):
            pass
    buffers = list(exports.converter.traces.values())
    assert len(buffers) == 3
    limits = Limits(max_value_chars=64)  # cut values too: the helper must cut them alike

    expected = []
    for capture in (True, False):
        here = SdkSpanConverter.holding(copy.deepcopy(buffers), capture_content=capture)
        rows = SpanRows(limits)
        here.drain(rows, [b.sdk_trace_id for b in buffers], final=True)
        expected.append(rows.to_arrow())

    store = Store(tmp_path / "helper.duckdb")
    helper = started(ConversionProcess())
    groups = [
        (str(store.path), capture, [b.fields() for b in buffers]) for capture in (True, False)
    ]
    assert helper.send(current_settings(limits), groups, keep="batch")
    assert helper.wait(DEADLINE)
    helper.close(timeout=DEADLINE)
    assert helper.take_returned() == []

    assert segment_pids(store) == [helper.pid, helper.pid]
    written = [read_segment(path) for path in store.pending_segments()]
    assert [table.num_rows for table in written] == [t.num_rows for t in expected]
    for table, truth in zip(written, expected, strict=True):
        assert table.to_pylist() == truth.to_pylist()
        assert table.equals(truth, check_metadata=True)
    assert "order-42" not in str(written[0].to_pylist())  # this process's redaction ran


class Label(str):
    pass


@pytest.mark.parametrize(
    "value",
    [Label("x"), {"b", "a"}, frozenset({"tag"}), object(), {("k", frozenset()): 1}],
    ids=["str subclass", "set", "frozenset", "object", "frozenset in a key"],
)
def test_a_value_that_would_convert_differently_there_is_not_sent(
    tmp_path: Path, value: Any
) -> None:
    buffer = TraceBuffer("trace_" + "a" * 32, spans=[{"id": "span_1", "data": [1, {"v": value}]}])
    helper = started(ConversionProcess())
    group = (str(tmp_path / "s.duckdb"), True, [buffer.fields()])
    assert not helper.send(current_settings(Limits()), [group], keep="batch")
    assert helper.batches_sent == 0
    helper.close(timeout=DEADLINE)


async def test_a_trace_with_a_set_is_converted_here_and_stored_as_here(store: Store) -> None:
    processor = agents_sdk.install(store)
    processor.flush_interval = 3600
    many_traces(_HELPER_AFTER_TRACES)
    processor.force_flush()
    started(processor._helper)
    already = len(store.pending_segments())
    tags = {"beta", "alpha", "gamma"}  # iterated in this process's string-hash order
    with trace("tagged"), custom_span("tags", {"tags": tags}):
        pass
    processor.force_flush()
    assert segment_pids(store)[already:] == [os.getpid()]
    stored = store.query(
        "SELECT attributes->>'$.\"openai_agents.custom.tags\"' FROM spans WHERE name = 'tags'"
    ).rows
    assert stored == [(json.dumps(str(tags)),)]  # a set is kept as its text, here
    processor.shutdown()


async def test_once_its_helper_runs_the_processor_converts_nothing_itself(store: Store) -> None:
    processor = agents_sdk.install(store)
    processor.flush_interval = 3600  # no timed write of open traces (converted here) meanwhile
    many_traces(_HELPER_AFTER_TRACES)
    processor.force_flush()
    helper = started(processor._helper)
    already = len(store.pending_segments())

    result = await run_support(group_id="conv-helped")
    processor.force_flush()
    assert segment_pids(store)[already:] == [helper.pid]
    assert recorded(store, trace_of(store, "conv-helped")) == expected_from(result)

    # A read in this process, straight after a run, still sees the run.
    result = await run_support(group_id="conv-read-at-once")
    assert recorded(store, trace_of(store, "conv-read-at-once")) == expected_from(result)
    assert traces_and_spans(store)[0] == _HELPER_AFTER_TRACES + 2
    processor.shutdown()
    assert helper._process.poll() == 0


async def test_a_killed_helper_loses_nothing(store: Store) -> None:
    processor = agents_sdk.install(store)
    many_traces(_HELPER_AFTER_TRACES)
    processor.force_flush()
    helper = started(processor._helper)
    results = [await run_support(group_id="conv-before-kill")]
    with processor._writing:  # sent, and perhaps written: killed either way
        processor._write_finished()
        os.kill(helper.pid, signal.SIGKILL)
    results.append(await run_support(group_id="conv-after-kill"))
    processor.force_flush()
    assert not helper.usable()
    assert segment_pids(store)[-1] == os.getpid()  # converted here now
    traces, spans, distinct = traces_and_spans(store)
    assert traces == _HELPER_AFTER_TRACES + 2
    assert spans == distinct  # a batch written twice is stored once
    for group_id, result in zip(("conv-before-kill", "conv-after-kill"), results, strict=True):
        assert recorded(store, trace_of(store, group_id)) == expected_from(result)
    processor.shutdown()


def test_a_killed_recording_process_loses_nothing_it_sent(tmp_path: Path) -> None:
    store_path = tmp_path / "killed.duckdb"
    recorder = subprocess.run(
        [sys.executable, str(HERE / "sdk_killed_recorder.py"), str(store_path), "40"],
        capture_output=True,
        text=True,
        timeout=DEADLINE * 2,
        env={**os.environ, "PYTHONPATH": os.pathsep.join([str(HERE), *sys.path])},
    )
    assert recorder.returncode == -signal.SIGKILL, recorder.stderr
    facts = dict(line.split("=", 1) for line in recorder.stdout.split())
    helper_pid, spans_sent = int(facts["helper"]), int(facts["spans"])

    def helper_gone() -> bool:
        try:
            with open(f"/proc/{helper_pid}/stat") as stat:
                return stat.read().rsplit(")", 1)[1].split()[0] == "Z"
        except FileNotFoundError:
            return True

    wait_until(helper_gone, "the orphaned conversion process to finish")
    store = Store(store_path)
    assert traces_and_spans(store) == (_HELPER_AFTER_TRACES + 40, spans_sent, spans_sent)


def test_the_processor_can_convert_everything_itself(store: Store) -> None:
    processor = StoreTracingProcessor(store, conversion_process=False)
    set_trace_processors([processor])
    many_traces(_HELPER_AFTER_TRACES + 5)
    processor.force_flush()
    assert processor._helper is None
    assert set(segment_pids(store)) == {os.getpid()}
    processor.shutdown()
