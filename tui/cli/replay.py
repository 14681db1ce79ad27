"""``baton replay``: re-run a recorded run offline with your current agents (a run of
baton's runner, or an OpenAI Agents SDK run recorded by ``tracer.agents_sdk``), or serve
its recorded responses over HTTP. Exit status: 0 the re-run follows the recorded path to
the end, 1 it diverges (the first divergence is printed), 2 it could not be run."""

from __future__ import annotations

import json
import threading
from typing import TYPE_CHECKING

import click

from tui.cli.formatting import clip
from tui.cli.options import open_store, store_option, usage_errors

if TYPE_CHECKING:
    from replay.rerun import RerunReport, TurnReport
    from tracer.store import Store

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
@click.option(
    "--record-to",
    "record_to",
    metavar="STORE",
    help="Keep the re-run: record it into STORE (e.g. the recorded run's own store, so "
    "`baton diff TRACE_ID RERUN_ID` compares them); default: a scratch store.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
)
@click.argument("trace_id")
@usage_errors
def run_command(
    store_path: str | None,
    agents_spec: str,
    live_from: int | None,
    max_turns: int | None,
    record_to: str | None,
    output_format: str,
    trace_id: str,
) -> None:
    """Re-run the recorded run TRACE_ID with your current agent definitions, serving
    each model call the response recorded for it (no API key or network needed; tools
    run for real), and report turn by turn whether it follows the recorded path: the
    same agents, tool calls and arguments, handoffs. A run of the OpenAI Agents SDK
    (recorded by tracer.agents_sdk) re-runs through the SDK's own Runner, streamed if it
    was. Exit status 0 when it follows the path to the end, 1 when it diverges, 2 when
    it cannot be run.
    """
    from replay.agents_spec import import_agents
    from replay.sdk_recording import is_sdk_trace

    store = open_store(store_path)
    kept = open_store(record_to) if record_to else None
    if is_sdk_trace(store, trace_id):
        _run_sdk(store, agents_spec, live_from, max_turns, kept, output_format, trace_id)
        return
    from replay.agents_spec import starting_agent
    from replay.recording import load_recording
    from replay.rerun import rerun_sync
    from replay.rerun_json import rerun_report_json

    recording = load_recording(store, trace_id)
    start = starting_agent(import_agents(agents_spec), agents_spec, recording.first_agent)
    mode = f"live from turn {live_from}" if live_from else "offline"
    if output_format == "text":
        click.echo(
            f"Re-running {recording.trace_id} ({len(recording.calls)} model calls recorded) "
            f"from {start.name}, {mode}."
        )
    report = rerun_sync(recording, start, live_from=live_from, max_turns=max_turns, record_to=kept)
    if output_format == "json":
        found = rerun_report_json(report)
        found["recorded_to"] = str(kept.path) if kept is not None else None
        click.echo(json.dumps(found, ensure_ascii=False, indent=2))
    else:
        click.echo(render_report(report))
        if kept is not None:
            click.echo(_kept_line(report.trace_id, report.replayed.trace_ids[0], kept, store))
    raise SystemExit(0 if report.follows else 1)


def _run_sdk(
    store: Store,
    agents_spec: str,
    live_from: int | None,
    max_turns: int | None,
    kept: Store | None,
    output_format: str,
    trace_id: str,
) -> None:
    """``baton replay`` of an Agents SDK run (needs the ``openai-agents`` package)."""
    from replay.agents_spec import import_agents
    from replay.errors import ReplayError

    try:
        from replay.sdk_recording import load_sdk_recording
        from replay.sdk_rerun import report_json, sdk_rerun_sync, sdk_starting_agent
    except ImportError as missing:
        raise ReplayError(
            f"trace {trace_id} is an OpenAI Agents SDK run; re-running it needs that SDK "
            f"(pip install 'baton[agents]'): {missing}"
        ) from None
    recording = load_sdk_recording(store, trace_id)
    found = import_agents(agents_spec)
    start = sdk_starting_agent(found, agents_spec, recording.first_agent)
    if output_format == "text":
        mode = f"live from turn {live_from}" if live_from else "offline"
        how = "streamed, " if recording.streamed else ""
        click.echo(
            f"Re-running Agents SDK run {recording.trace_id} ({len(recording.calls)} model "
            f"calls recorded) from {start.name} through agents.Runner, {how}{mode}."
        )
    rerun = sdk_rerun_sync(
        recording, start, live_from=live_from, max_turns=max_turns, record_to=kept
    )
    if output_format == "json":
        click.echo(json.dumps(report_json(rerun), ensure_ascii=False, indent=2))
    else:
        click.echo(render_report(rerun.report))
        for note in rerun.notes:  # what the calls were offered otherwise than recorded
            click.echo(f"Note: {note}")
        if kept is not None:
            click.echo(_kept_line(recording.trace_id, rerun.rerun_trace_id, kept, store))
    raise SystemExit(0 if rerun.report.follows else 1)


def _kept_line(original: str, rerun_id: str, kept: Store, store: Store) -> str:
    line = f"Recorded the re-run as {rerun_id} in {kept.path}"
    if kept.path.resolve() == store.path.resolve():
        line += f"; compare: baton diff {original} {rerun_id}"
    return line


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
