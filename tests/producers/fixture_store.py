"""A recorded producer fixture imported into a fresh store (with ``baton import``'s code),
and what baton's views say about it, shaped for exact comparison with the truth."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from tracer.capture.importing import import_files
from tracer.store import Store

FIXTURES = Path(__file__).resolve().parent / "fixtures"


def load(name: str, store_dir: Path, folder: Path = FIXTURES) -> Store:
    """``<folder>/<name>.otlp.jsonl`` imported into a new store under ``store_dir``."""
    store = Store(store_dir / f"{name}.duckdb")
    problems: list[str] = []
    import_files(store, [folder / f"{name}.otlp.jsonl"], report=problems.append)
    assert problems == []
    return store


def truth(name: str, folder: Path = FIXTURES) -> dict[str, Any]:
    result: dict[str, Any] = json.loads((folder / f"{name}.truth.json").read_text())
    return result


def tree(store: Store) -> str:
    """Every span as an indented line (for looking at what a producer sent)."""
    rows = store.query(
        "SELECT trace_id, span_id, parent_span_id, name, op, agent_name, tool_name, "
        "from_agent, to_agent, source, final_answer FROM spans ORDER BY start_time, span_id"
    ).rows
    children: dict[Any, list[Any]] = {}
    ids = {(r[0], r[1]) for r in rows}
    for row in rows:
        parent = (row[0], row[2]) if (row[0], row[2]) in ids else (row[0], None)
        children.setdefault(parent, []).append(row)
    lines: list[str] = []

    def walk(key: Any, depth: int) -> None:
        for row in children.get(key, []):
            _, span, _, name, op, agent, tool, src, dst, source, final = row
            extra = " ".join(
                f"{k}={v}"
                for k, v in (
                    ("agent", agent),
                    ("tool", tool),
                    ("from", src),
                    ("to", dst),
                    ("final", final),
                )
                if v is not None
            )
            lines.append(f"{'  ' * depth}{name} [{op}/{source}] {extra}")
            walk((row[0], span), depth + 1)

    for trace in sorted({r[0] for r in rows}):
        lines.append(f"trace {trace[:8]}")
        walk((trace, None), 1)
    return "\n".join(lines)


if __name__ == "__main__":
    import sys
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        print(tree(load(sys.argv[1], Path(tmp))))


def otlp_spans() -> Iterator[tuple[str, str, dict[str, Any], str]]:
    """(name, kind, attributes as plain values, scope name) of every span of every recorded
    OTLP fixture, in file order."""
    for path in sorted(FIXTURES.glob("*.otlp.jsonl")):
        for line in path.read_text().splitlines():
            for resource in json.loads(line)["resourceSpans"]:
                for scope in resource["scopeSpans"]:
                    for span in scope["spans"]:
                        attrs = {
                            a["key"]: next(iter(a["value"].values()), None)
                            for a in span.get("attributes", [])
                        }
                        kind = str(span.get("kind", "internal"))
                        yield span["name"], kind, attrs, scope["scope"]["name"]
