"""Shared fixtures: every test gets its own store location; nothing touches the user's.
Each part's own fixtures live in their own module, imported here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from runner_fixtures import *  # noqa: F403
from tui_fixtures import *  # noqa: F403

from tracer.store import Store


@pytest.fixture(autouse=True)
def _isolated_store_location(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BATON_STORE", str(tmp_path / "default-store.duckdb"))
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg-data"))
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    yield Store(tmp_path / "store.duckdb")
