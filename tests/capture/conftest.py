"""Fixtures for the capture tests: the Agents SDK's processor list, and a real
``baton collect`` process (see ``collector_process``)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from collector_process import CollectorProcess, start_collector


@pytest.fixture
def sdk_processors() -> Iterator[None]:
    """No Agents SDK processor (and so no OpenAI export) during the test; the list the
    process had is put back afterwards."""
    from agents.tracing import get_trace_provider, set_trace_processors

    provider = get_trace_provider()
    before = list(getattr(getattr(provider, "_multi_processor", None), "_processors", ()))
    set_trace_processors([])
    yield
    set_trace_processors(before)


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    running = start_collector(tmp_path / "collected.duckdb")
    yield running
    if running.process.poll() is None:
        running.process.kill()
        running.process.wait()
