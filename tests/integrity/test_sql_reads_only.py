"""``baton sql`` reads the store and nothing else."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner
from spanmaker import SpanMaker, ping_pong_run

from tracer.store import Store
from tui.cli import main


@pytest.fixture
def recorded(store: Store) -> Store:
    maker = SpanMaker(store)
    ping_pong_run(
        maker,
        [
            ("Triage", "Billing"),
            ("Billing", "Triage"),
            ("Triage", "Billing"),
            ("Billing", "Triage"),
        ],
        "c1",
    )
    maker.close()
    return store


def sql(store: Store, query: str, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, ["sql", "--store", str(store.path), *args, "--", query])
    return result.exit_code, result.stdout, result.stderr


def snapshot(store: Store) -> list[tuple[object, ...]]:
    return store.query("SELECT * FROM spans ORDER BY span_id").rows


@pytest.mark.parametrize(
    ("query", "refused"),
    [
        ("COPY spans TO '{tmp}/out.csv'", "COPY statements are refused"),
        ("EXPORT DATABASE '{tmp}/exported'", "EXPORT statements are refused"),
        (
            "ATTACH '{store}' AS w (READ_WRITE); DELETE FROM w.spans",
            "ATTACH statements are refused",
        ),
        ("DELETE FROM spans", "DELETE statements are refused"),
        ("INSTALL httpfs", "LOAD statements are refused"),
        ("SET threads = 1", "SET statements are refused"),
        ("CREATE TABLE stolen AS SELECT * FROM spans", "CREATE statements are refused"),
        ("CREATE TEMP TABLE t AS SELECT 1", "CREATE statements are refused"),
        ("CHECKPOINT", "CALL statements are refused"),
        ("LOAD json", "LOAD statements are refused"),
        (
            "SELECT * FROM read_text('/etc/passwd')",
            "files, the network and extensions are out of its reach",
        ),
        ("SELECT * FROM read_csv('{tmp}/x.csv')", "out of its reach"),
        ("PRAGMA threads = 1", "SET statements are refused"),
        ("SELECT 1; DROP VIEW handoffs", "DROP statements are refused"),
    ],
)
def test_what_would_write_or_reach_outside_is_refused(
    recorded: Store, tmp_path: Path, query: str, refused: str
) -> None:
    before = snapshot(recorded)
    (tmp_path / "x.csv").write_text("a\n1\n")
    code, out, err = sql(recorded, query.format(tmp=tmp_path, store=recorded.path))
    assert code == 1
    assert refused in err and "Traceback" not in err
    assert out == ""  # nothing ran, not even the statements before the refused one
    assert snapshot(recorded) == before
    assert not (tmp_path / "out.csv").exists() and not (tmp_path / "exported").exists()


def test_every_statement_is_run_and_printed(recorded: Store) -> None:
    code, out, _ = sql(
        recorded, "select count(*) as n from handoffs; select 'x' as y;", "--format", "csv"
    )
    assert code == 0
    assert out == "n\n4\n\ny\nx\n"


def test_reading_statements_run(recorded: Store) -> None:
    for query in (
        "EXPLAIN SELECT * FROM spans",
        "PRAGMA table_info('spans')",
        "DESCRIBE handoffs",
        "SHOW TABLES",
    ):
        code, out, err = sql(recorded, query)
        assert code == 0, err
        assert out


@pytest.mark.parametrize("query", ["", "   ", "\n"])
def test_an_empty_query_gets_a_usage_message(recorded: Store, query: str) -> None:
    code, _, err = sql(recorded, query)
    assert code == 2
    assert "the query is empty" in err and "Traceback" not in err


def test_a_query_of_only_comments_is_empty_too(recorded: Store) -> None:
    code, _, err = sql(recorded, "-- nothing here\n;")
    assert code == 1 and "the query is empty" in err
