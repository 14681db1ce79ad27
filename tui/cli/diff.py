"""``baton loops`` and ``baton diff``: ping-pong loops, and two runs side by side. Thin
over ``replay``; diff's exit status is part of the contract (0 same path, 1 the paths
differ, 2 could not compare)."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import click

from tui.cli.formatting import clip, format_json, format_table
from tui.cli.options import (
    check_ids_known,
    open_store,
    reports_errors,
    store_option,
    usage_errors,
)

if TYPE_CHECKING:
    from replay.diff import DiffRow, RunDiff
    from replay.paths import PathTurn

WIDTH = 80
_TURN_WIDTH = 4
_SIDE_WIDTH = (WIDTH - _TURN_WIDTH - 4) // 2  # "turn" + 2 spaces + side + 2 marks + side
_ARGUMENT_LINES = 3


@click.command()
@store_option
@click.option("--conversation", "conversation_id", metavar="ID", help="Only this conversation.")
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["table", "json"]),
    default="table",
    show_default=True,
)
@reports_errors
def loops(store_path: str | None, conversation_id: str | None, output_format: str) -> None:
    """List ping-pong loops: agents handing control back and forth (newest first).

    A loop is a run of handoffs repeating one cycle of agents (A→B→A→B) with no tool
    call or answer in between; the threshold is in the store's baton_settings table.
    """
    from replay import list_loops

    store = open_store(store_path)
    found = list_loops(store, conversation_id=conversation_id)
    if conversation_id is not None and not found:
        check_ids_known(store, "conversation_id", (conversation_id,), "conversation")
    columns = ["conversation", "trace", "cycle", "turns", "handoffs"]
    rows = [
        [
            item.conversation_id,
            item.loop.trace_id,
            item.loop.loop.cycle,
            _turns(item.loop.loop.first_turn, item.loop.loop.last_turn),
            item.loop.loop.handoffs,
        ]
        for item in found
    ]
    if output_format == "json":
        click.echo(format_json(columns, rows))
    elif not rows:
        click.echo(f"No ping-pong loops in {store.path}.")
    else:
        click.echo(format_table(columns, rows))


@click.command()
@store_option
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.argument("left_id", metavar="TRACE_A")
@click.argument("right_id", metavar="TRACE_B")
@usage_errors
def diff(store_path: str | None, output_format: str, left_id: str, right_id: str) -> None:
    """Compare two runs turn by turn: active agent, tool calls and arguments, handoffs,
    outputs. Exit status 0 when their paths agree, 1 when they differ, 2 when they
    cannot be compared (an unknown id). Outputs are shown, but their wording is not
    part of the path. A conversation id compares all its runs in order.
    """
    from replay.diff import diff_runs

    result = diff_runs(open_store(store_path), left_id, right_id)
    if output_format == "json":
        click.echo(json.dumps(result.to_json(), ensure_ascii=False, indent=2))
    else:
        click.echo(render_diff(result))
    raise SystemExit(0 if result.same_path else 1)


def render_diff(result: RunDiff) -> str:
    """The two runs side by side in 80 columns; ``≠`` marks a turn whose path differs,
    ``≈`` one whose answer is worded differently."""
    lines = [
        f"left   {_label(result.left.conversation_id, result.left.trace_ids)}",
        f"right  {_label(result.right.conversation_id, result.right.trace_ids)}",
        "",
        f"{'turn':>{_TURN_WIDTH}}  {'left':<{_SIDE_WIDTH}}  {'right':<{_SIDE_WIDTH}}".rstrip(),
    ]
    for row in result.rows:
        lines.extend(_row_lines(row))
    lines.append("")
    divergence = result.divergence
    if divergence is None:
        lines.append(f"Same path ({len(result.rows)} turns).")
    else:
        lines.append(f"The paths part at turn {divergence.turn} ({divergence.aspect}):")
        lines.append(clip(f"  left:  {divergence.expected}", WIDTH))
        lines.append(clip(f"  right: {divergence.got}", WIDTH))
    return "\n".join(lines)


def _row_lines(row: DiffRow) -> list[str]:
    left, right = _cell(row.left), _cell(row.right)
    height = max(len(left), len(right))
    left += [""] * (height - len(left))
    right += [""] * (height - len(right))
    mark = "≠" if row.differences else "≈" if row.output_differs else " "
    out = []
    for number, (a, b) in enumerate(zip(left, right, strict=True)):
        turn = f"{row.turn:>{_TURN_WIDTH}}" if number == 0 else " " * _TURN_WIDTH
        sign = mark if number == 0 else " "
        out.append(f"{turn}  {a:<{_SIDE_WIDTH}}{sign} {b}".rstrip())
    return out


def _cell(turn: PathTurn | None) -> list[str]:
    if turn is None:
        return ["(run ended)"]
    indent = "  " * turn.depth
    lines = [f"{indent}{'↳ ' if turn.depth else ''}{turn.agent or '?'}"]
    failed = set(turn.failed_tools)
    for name, arguments in turn.tool_calls:
        flag = " ✗" if name in failed else ""
        lines.append(f"{indent}  ⚙ {name}{flag}")
        lines.extend(_wrapped(arguments or "", f"{indent}    ", _ARGUMENT_LINES))
    if turn.handoff:
        lines.append(f"{indent}  → {turn.handoff}")
    if turn.output:
        lines.append(f"{indent}  “{' '.join(turn.output.split())}”")
    return [clip(line, _SIDE_WIDTH) for line in lines]


def _wrapped(text: str, indent: str, most: int) -> list[str]:
    """``text`` in lines that fit a side, at most ``most`` of them (the last one cut)."""
    width = _SIDE_WIDTH - len(indent)
    chunks = [text[i : i + width] for i in range(0, len(text), width)]
    if len(chunks) > most:
        chunks = [*chunks[: most - 1], chunks[most - 1][:-1] + "…"]
    return [indent + chunk for chunk in chunks]


def _label(conversation_id: str, trace_ids: tuple[str, ...]) -> str:
    if len(trace_ids) == 1:
        runs = trace_ids[0] if trace_ids[0] != conversation_id else ""
        return clip(f"{conversation_id}  {runs}".rstrip(), WIDTH - 7)
    return clip(f"{conversation_id}  ({len(trace_ids)} runs)", WIDTH - 7)


def _turns(first: int | None, last: int | None) -> str:
    if first is None or last is None:
        return ""
    return f"{first}–{last}"
