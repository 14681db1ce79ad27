"""The README documents the store's views with the SQL they really have."""

from __future__ import annotations

from pathlib import Path

from tracer.views import VIEWS

README = Path(__file__).resolve().parent.parent / "README.md"


def test_every_view_is_documented_with_its_sql() -> None:
    text = README.read_text(encoding="utf-8")
    for name, sql in VIEWS:
        assert sql.strip() in text, f"README.md lacks the current SQL of the {name} view"
