"""Fixtures of the TUI tests: a fixed time zone and the sample store."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from tui_sample import build_sample_store

from tracer.store import Store

__all__ = ["sample_store", "utc"]


@pytest.fixture
def utc() -> Iterator[None]:
    """Local time is UTC, so times on screen do not depend on the machine."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = "UTC"
    time.tzset()
    yield
    if before is None:
        del os.environ["TZ"]
    else:
        os.environ["TZ"] = before
    time.tzset()


@pytest.fixture(scope="module")
def sample_store(tmp_path_factory: pytest.TempPathFactory) -> Store:
    """The fixed sample conversations (read-only: shared by a module's tests)."""
    path: Path = tmp_path_factory.mktemp("sample") / "sample.duckdb"
    return build_sample_store(Store(path))
