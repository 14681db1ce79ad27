"""``baton sql``, ``baton traces`` and ``baton store``: asking the store questions."""

from __future__ import annotations

import click

from tui.cli.formatting import (
    aligned_lines,
    cell_text,
    counted,
    format_csv,
    format_json,
    format_table,
    human_size,
)
from tui.cli.options import open_existing_store, open_store, reports_errors, store_option


@click.command()
@store_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "csv", "json"]),
    default="table",
    show_default=True,
    help="json prints an array of row objects.",
)
@click.argument("query")
@reports_errors
def sql(store_path: str | None, output_format: str, query: str) -> None:
    """Run a read-only SQL QUERY over the store: every statement of it, each result
    printed in turn. Statements that would write, attach, copy or configure are refused.

    \b
    Tables and views: spans, conversations, turns, handoffs, tool_calls, loops.
    Example:
      baton sql "select from_agent, to_agent, count(*) from handoffs group by all"
    """
    if not query.strip():
        raise click.UsageError(
            'the query is empty: give one, for example baton sql "select * from conversations"'
        )
    results = open_existing_store(store_path).user_query(query)
    formatter = {"table": format_table, "csv": format_csv, "json": format_json}[output_format]
    shown = [formatter(r.columns, r.rows) for r in results if r.columns]
    click.echo("\n\n".join(shown) if output_format != "json" else "\n".join(shown))


@click.command()
@store_option
@click.option(
    "-n",
    "--limit",
    type=click.IntRange(min=1),
    default=20,
    show_default=True,
    help="How many to list.",
)
@reports_errors
def traces(store_path: str | None, limit: int) -> None:
    """List recent conversations, newest first, one line each."""
    store = open_existing_store(store_path)
    result = store.query(
        "SELECT conversation_id, started_at, duration_ms, n_traces, n_turns, n_handoffs, "
        "n_tool_calls, agents, has_loop, has_error "
        "FROM conversations ORDER BY started_at DESC LIMIT ?",
        [limit],
    )
    if not result.rows:
        click.echo(f"No conversations in {store.path} yet. Record a run first (see the README).")
        return
    lines = []
    digits = [max(len(f"{row[i]:,}") for row in result.rows) for i in (4, 5, 6)]
    for cid, started, ms, n_traces, turns, handoffs, tools, agents, loop, error in result.rows:
        marks = "".join([" ⟲ loop" if loop else "", " ✗ error" if error else ""])
        lines.append(
            [
                cell_text(started)[:19],
                cid,
                counted(turns, "turn", digits[0]),
                counted(handoffs, "handoff", digits[1]),
                counted(tools, "tool call", digits[2]),
                f"{(ms or 0) / 1000:.1f}s",
                f"{n_traces} runs" if n_traces > 1 else "",
                f"{' → '.join(agents)}{marks}",
            ]
        )
    for line in aligned_lines(lines, right=(5,)):  # durations right-aligned, like the counts
        click.echo(line)


@click.group()
def store() -> None:
    """Where the store is and what it holds."""


@store.command("path")
@store_option
def store_path_command(store_path: str | None) -> None:
    """Print the store's location."""
    click.echo(str(open_store(store_path).path))


@store.command("status")
@store_option
@reports_errors
def store_status(store_path: str | None) -> None:
    """Location, size, schema version and rows per table and view."""
    status = open_existing_store(store_path).status()
    if status.lake is not None:  # a team store (tracer.store.lake)
        click.echo(f"store           {status.lake.url}")
        click.echo(f"catalog         {status.lake.catalog}")
        click.echo(f"data path       {status.lake.data_path}")
        click.echo(f"snapshot        {status.lake.snapshot}")
        click.echo(f"local segments  {status.path}")
    else:
        click.echo(f"store           {status.path}")
    click.echo(f"size            {human_size(status.size_bytes)}")
    click.echo(f"schema version  {status.schema_version}")
    if status.pending_segments:
        click.echo(
            f"pending         {status.pending_segments} segments "
            f"({human_size(status.pending_bytes)}) waiting to be absorbed"
        )
    click.echo(f"redacted        {status.redacted} values (secrets replaced before storing)")
    for name, count in status.rows.items():
        click.echo(f"{name:<15} {count}")
