"""``baton replay``: re-run a recorded run offline with your current agents, or serve its
recorded responses over HTTP. Exit status: 0 the re-run follows the recorded path to the
end, 1 it diverges (the first divergence is printed), 2 it could not be run."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import click

from tui.cli.formatting import clip
from tui.cli.options import open_store, store_option, usage_errors

if TYPE_CHECKING:
    from replay.rerun import RerunReport, TurnReport

WIDTH = 80


class _DefaultToRun(click.Group):
    """``baton replay TRACE_ID`` runs ``baton replay run TRACE_ID``; ``serve`` is a
    subcommand of its own."""

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        if args and args[0] not in self.commands and args[0] not in ("-h", "--help"):
            args = ["run", *args]
        return super().parse_args(ctx, args)


@click.group(cls=_DefaultToRun)
def replay() -> None:
    """Re-run a recorded run offline (baton replay TRACE_ID --agents module:attr), or
    serve its recorded responses (baton replay serve TRACE_ID)."""


@replay.command("run")
@store_option
@click.option(
    "--agents",
    "agents_spec",
    required=True,
    metavar="MODULE:ATTR",
    help="Your agents: the starting agent, or a list or dict of agents "
    "(e.g. myapp.agents:triage, or path/to/file.py:agents).",
)
@click.option(
    "--live-from",
    type=click.IntRange(min=1),
    metavar="N",
    help="Hand model calls from turn N on to the live model (OPENAI_API_KEY, OPENAI_BASE_URL).",
)
@click.option(
    "--max-turns",
    type=click.IntRange(min=1),
    help="The runner's max_turns (default: the recorded run's limit, else enough for it).",
)
@click.argument("trace_id")
@usage_errors
def run_command(
    store_path: str | None,
    agents_spec: str,
    live_from: int | None,
    max_turns: int | None,
    trace_id: str,
) -> None:
    """Re-run the recorded run TRACE_ID with your current agent definitions, serving
    each model call the response recorded for it (no API key or network needed; tools
    run for real), and report turn by turn whether it follows the recorded path: the
    same agents, tool calls and arguments, handoffs. Exit status 0 when it follows the
    path to the end, 1 when it diverges, 2 when it cannot be run.
    """
    from replay.agents_spec import import_agents, starting_agent
    from replay.recording import load_recording
    from replay.rerun import rerun_sync

    store = open_store(store_path)
    recording = load_recording(store, trace_id)
    start = starting_agent(import_agents(agents_spec), agents_spec, recording.first_agent)
    mode = f"live from turn {live_from}" if live_from else "offline"
    click.echo(
        f"Re-running {recording.trace_id} ({len(recording.calls)} model calls recorded) "
        f"from {start.name}, {mode}."
    )
    report = rerun_sync(recording, start, live_from=live_from, max_turns=max_turns)
    click.echo(render_report(report))
    raise SystemExit(0 if report.follows else 1)


def render_report(report: RerunReport) -> str:
    """One line per turn (``✓`` on the path, ``✗`` the first divergence, ``~`` answered
    live), then the verdict."""
    lines = []
    diverged_at = report.divergence.turn if report.divergence else None
    for turn in report.turns:
        lines.append(_turn_line(turn, diverged_at))
    divergence = report.divergence
    if report.stopped and (divergence is None or divergence.aspect != "outcome"):
        lines.append(clip(f"The re-run stopped: {report.stopped}", WIDTH))
    if divergence is None:
        lines.append(f"Follows the recorded path to the end ({len(report.turns)} turns).")
    else:
        lines.append(f"Diverges at turn {divergence.turn} ({divergence.aspect}):")
        lines.append(f"  expected: {divergence.expected}")
        lines.append(f"  got:      {divergence.got}")
    return "\n".join(lines)


def _turn_line(turn: TurnReport, diverged_at: int | None) -> str:
    shown = turn.got or turn.expected
    assert shown is not None
    if turn.live:
        mark = "~"
    elif diverged_at is not None and turn.turn == diverged_at:
        mark = "✗"
    elif diverged_at is not None and turn.turn > diverged_at:
        mark = "·"
    else:
        mark = "✓" if not turn.differences else "✗"
    indent = "  " * shown.depth
    missing = " (not reached)" if turn.got is None else ""
    return clip(f"{turn.turn:>4} {mark} {indent}{shown.describe()}{missing}", WIDTH)


@replay.command("serve")
@store_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on.")
@click.option("--port", default=0, show_default=True, help="Port (0: any free one).")
@click.option(
    "--exit-when-done",
    is_flag=True,
    help="Stop once every recorded response has been served.",
)
@click.argument("trace_id")
@usage_errors
def serve(
    store_path: str | None, host: str, port: int, exit_when_done: bool, trace_id: str
) -> None:
    """Serve the recorded responses of TRACE_ID as an OpenAI-compatible Chat Completions
    endpoint (POST /v1/chat/completions), in the order the run made its calls: point
    OPENAI_BASE_URL at it to replay the run from a program in any language.
    """
    from replay.recording import load_recording
    from replay.serve import serve_recorded

    recording = load_recording(open_store(store_path), trace_id)
    server, responder = serve_recorded(recording, host=host, port=port)
    try:
        click.echo(
            f"Serving the {len(recording.calls)} recorded responses of {recording.trace_id} "
            f"at {server.base_url}",
        )
        click.echo(f"  OPENAI_BASE_URL={server.base_url}   (Ctrl-C to stop)")
        _wait(responder.done if exit_when_done else threading.Event())
    except KeyboardInterrupt:
        pass
    finally:
        server.stop()
    if exit_when_done:
        click.echo(f"Served all {responder.served} responses.")


def _wait(event: threading.Event) -> None:
    while not event.wait(0.5):  # short waits keep Ctrl-C responsive
        pass
