"""``baton demo``: the bundled sample runs in a fresh demo store, opened in the TUI."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tui.cli.formatting import counted
from tui.cli.options import reports_errors

if TYPE_CHECKING:
    from tracer.store import Store

#: Queries printed by ``--no-tui``; the README test runs each of them.
QUERIES = (
    (
        "who handed off to whom",
        "select from_agent, to_agent, count(*) as n from handoffs group by all order by n desc",
    ),
    (
        "the ping-pong loops",
        "select conversation_id, agents, handoffs, first_turn, last_turn from loops",
    ),
    (
        "slowest tools",
        "select tool_name, round(avg(duration_ms)) as avg_ms, count(*) as calls from tool_calls "
        "group by all order by avg_ms desc limit 5",
    ),
    (
        "turns and tokens per agent",
        "select agent_name, count(*) as turns, sum(input_tokens + output_tokens) as tokens "
        "from turns group by all order by tokens desc",
    ),
)


def demo_store_path() -> Path:
    """Where the demo store lives unless ``--store`` says otherwise: beside the user's
    store, never in it."""
    from tracer.store.location import default_data_dir

    return default_data_dir() / "demo.duckdb"


@click.command()
@click.option(
    "--store",
    "store_path",
    metavar="PATH",
    help="Load the samples into this store instead of the fresh demo store "
    "(added to what it holds; nothing is deleted).",
)
@click.option("--no-tui", is_flag=True, help="Print what was loaded and queries to try, and exit.")
@reports_errors
def demo(store_path: str | None, no_tui: bool) -> None:
    """Load the bundled sample runs into a demo store and open them in the TUI.

    \b
    The samples: customer-support triage across billing, refunds and technical
    specialists; a manager calling specialists as tools; a hybrid of both; a ping-pong
    the loop guard stops; a failing tool; a run out of turns; a three-message
    conversation; a 200-turn session; and a run recorded without content.
    No API key or network needed. Your own store is left alone unless you pass --store.
    """
    from sample_traces import trace_files
    from tracer.capture.importing import import_files
    from tracer.store import Store

    if store_path is None:
        path = demo_store_path()
        _remove_store(path)  # the demo store is rebuilt from the samples every time
    else:
        from tracer.store.url import is_lake_url

        if is_lake_url(store_path):  # (#17) the demo rebuilds its store: never a team's
            raise click.ClickException("baton demo loads the samples into a local store only")
        path = Path(store_path)
    store = Store(path)
    files = trace_files()
    if not files:
        raise click.ClickException("the sample traces are missing from this installation")
    problems: list[str] = []
    summary = import_files(store, files, report=problems.append)
    for problem in problems:
        click.echo(f"warning: {problem}", err=True)
    if no_tui:
        _print_summary(store, summary.spans_added)
        return
    from tui.app import BatonApp  # Textual loads only when the UI opens
    from tui.source import StoreSource

    BatonApp(StoreSource(store)).run()


def _remove_store(path: Path) -> None:
    for leftover in (path, path.with_name(path.name + ".wal")):
        leftover.unlink(missing_ok=True)
    shutil.rmtree(path.with_name(path.name + ".incoming"), ignore_errors=True)


def _print_summary(store: Store, spans_added: int) -> None:
    rows = store.query(
        "SELECT conversation_id, n_traces, n_turns, n_handoffs, n_tool_calls, agents, "
        "has_loop, has_error FROM conversations ORDER BY started_at"
    ).rows
    click.echo(f"Loaded {spans_added} spans, {len(rows)} conversations into {store.path}\n")
    for cid, traces, turns, handoffs, tools, agents, loop, error in rows:
        marks = "".join([" ⟲ loop" if loop else "", " ✗ error" if error else ""])
        runs = f", {traces} runs" if traces > 1 else ""
        click.echo(
            f"  {cid:<22} {counted(turns, 'turn', 3)} {counted(handoffs, 'handoff', 3)} "
            f"{counted(tools, 'tool call', 3)}{runs}  {' → '.join(agents)}{marks}"
        )
    flag = f" --store {store.path}"
    click.echo("\nOpen it:")
    click.echo(f"  baton tui{flag}")
    click.echo(f"  baton tui{flag} support-triage")
    click.echo("\nQueries to try:")
    for title, sql in QUERIES:
        click.echo(f"  # {title}")
        click.echo(f'  baton sql{flag} "{sql}"')
