"""``baton run -- COMMAND``: record a program as it is, without touching its code."""

from __future__ import annotations

import json
import os
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tui.cli.options import store_option

if TYPE_CHECKING:
    from tracer.capture.run_store import RunStore
    from tracer.otlp.background import BackgroundReceiver

#: Exit status when baton itself fails before the command starts (as ``docker run``;
#: 126 and 127 are the shell's "cannot execute" and "not found").
BATON_FAILED = 125


@click.command(
    "run",
    context_settings={"ignore_unknown_options": True, "allow_interspersed_args": False},
)
@store_option
@click.option(
    "--conversation", metavar="ID", help="Record every run of the command as this conversation."
)
@click.option(
    "--no-content",
    is_flag=True,
    help="Leave message contents, tool arguments and results out (where the producer allows).",
)
@click.option(
    "--keep-openai-export",
    is_flag=True,
    help="Keep the Agents SDK's own export of traces to the OpenAI dashboard.",
)
@click.option("--quiet", "-q", is_flag=True, help="No summary line at the end.")
@click.argument("command", nargs=-1, required=True, type=click.UNPROCESSED)
def run(
    store_path: str | None,
    conversation: str | None,
    no_content: bool,
    keep_openai_export: bool,
    quiet: bool,
    command: tuple[str, ...],
) -> None:
    """Run COMMAND and record everything it does into the store.

    \b
      baton run -- python app.py
      baton run --conversation support-42 -- pytest tests/
      baton run -- node agent.js
    Python programs (and the Python processes they start) are recorded in-process:
    OpenTelemetry spans, OpenAI Agents SDK runs, and LangChain/LangGraph, CrewAI or
    Swarm through their OpenInference instrumentor when it is installed. Any other
    program exports to a receiver baton starts for the duration, through the standard
    OTEL_EXPORTER_OTLP_* variables. The command's exit status, output and signals pass
    through unchanged; baton exits 125 if it cannot record, before the command starts.
    """
    from tui.cli import passthrough

    argv = list(command[1:] if command and command[0] == "--" else command)
    if not argv:
        raise click.UsageError("give the command to run after --, e.g. baton run -- python app.py")
    ledger = _ledger()
    store = _writable_store(store_path, ledger)
    receiver = _start_receiver(store)
    child = passthrough.Child()
    returncode: int
    with passthrough.signals_passed_to(child):
        try:
            env = _environment(
                argv[0],
                store=store,
                ledger=ledger,
                endpoint=receiver.endpoint,
                conversation=conversation,
                no_content=no_content,
                keep_openai_export=keep_openai_export,
            )
            passthrough.start(child, argv, env)
            returncode = passthrough.wait(child)
        except passthrough.CannotRun as exc:
            click.echo(f"baton run: {exc}", err=True)
            returncode = exc.code
            quiet = True  # nothing ran, so nothing to sum up
        finally:
            problem = receiver.stop()
        if problem:
            click.echo(f"baton run: {problem}", err=True)
        if not quiet:
            click.echo(_summary(store, ledger), err=True)
        ledger.unlink(missing_ok=True)
    passthrough.exit_like(returncode)


def _writable_store(store_path: str | None, ledger: Path) -> RunStore:
    """The store, checked before the command starts: a command that cannot be recorded
    is not run."""
    from tracer.capture.run_store import RunStore
    from tracer.store import StoreBusyError, StoreError
    from tracer.store.location import resolve_store_path
    from tracer.store.url import chosen_lake_url

    if chosen_lake_url(store_path) is not None:  # (#17) the runner's ledger is per file
        _fail(
            "baton run records into a local store only; record locally and share it with "
            "`baton store push LOCAL_STORE LAKE_URL`"
        )
    store = RunStore(resolve_store_path(store_path), ledger)
    try:
        store.incoming.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=store.incoming, prefix=".baton-run-check-"):
            pass
    except OSError as exc:
        _fail(f"cannot write to the store {store.path}: {exc.strerror or exc}")
    try:
        store.absorb(timeout=0)
    except StoreBusyError:
        pass  # another program has it open; segments are absorbed later
    except (StoreError, OSError) as exc:
        _fail(f"cannot use the store {store.path}: {exc}")
    except Exception as exc:  # duckdb's own errors: not a store, a newer schema...
        _fail(f"cannot use the store {store.path}: {exc}")
    return store


def _ledger() -> Path:
    fd, name = tempfile.mkstemp(prefix="baton-run-", suffix=".traces")
    os.close(fd)
    return Path(name)


def _start_receiver(store: RunStore) -> BackgroundReceiver:
    """The receiver other programs export to, on a free loopback port."""
    from tracer.otlp.background import BackgroundReceiver
    from tracer.otlp.receiver import Collector

    try:
        receiver = BackgroundReceiver(Collector(store))
        receiver.start()
    except OSError as exc:
        _fail(f"cannot start the OTLP receiver: {exc}")
    return receiver


def _environment(
    program: str,
    *,
    store: RunStore,
    ledger: Path,
    endpoint: str,
    conversation: str | None,
    no_content: bool,
    keep_openai_export: bool,
) -> dict[str, str]:
    """The command's environment: ours, plus what tells its processes to record."""
    from tracer.capture import run_env

    env = dict(os.environ)
    service = env.get(run_env.OTEL_SERVICE_NAME) or Path(program).name or "baton-run"
    pointed = run_env.receiver_variables(endpoint, service)
    env[run_env.ORIGINAL_OTEL] = json.dumps({name: env.get(name) for name in pointed})
    env.update(pointed)
    env[run_env.STORE] = str(store.path)
    env[run_env.LEDGER] = str(ledger)
    if conversation:
        env[run_env.CONVERSATION] = conversation
    else:
        env.pop(run_env.CONVERSATION, None)  # from an outer baton run
    env[run_env.KEEP_OPENAI_EXPORT] = "1" if keep_openai_export else "0"
    if no_content:
        env.update(run_env.NO_CONTENT)
    bootstrap = str(Path(run_env.__file__).resolve().parent / "bootstrap")
    env[run_env.BOOTSTRAP_DIR] = bootstrap
    paths = [p for p in env.get("PYTHONPATH", "").split(os.pathsep) if p and p != bootstrap]
    env["PYTHONPATH"] = os.pathsep.join([bootstrap, *paths])
    return env


def _summary(store: RunStore, ledger: Path) -> str:
    """One line: what this run recorded, and how to open it."""
    from tracer.capture.run_store import noted_traces

    traces = sorted(noted_traces(ledger))
    if not traces:
        return (
            "baton run: nothing was recorded (the command produced no spans; see "
            "'Recording your own runs' in baton's README)"
        )
    where = "WHERE trace_id IN (SELECT unnest(?::VARCHAR[]))"
    try:
        conversations = [
            str(row[0])
            for row in store.query(
                f"SELECT DISTINCT conversation_id FROM spans {where} ORDER BY 1", [traces]
            ).rows
        ]
        runs = store.query(f"SELECT count(DISTINCT trace_id) FROM spans {where}", [traces])
        handoffs = store.query(f"SELECT count(*) FROM handoffs {where}", [traces])
        loops = store.query(f"SELECT count(*) FROM loops {where}", [traces])
    except Exception as exc:
        return f"baton run: recorded {len(traces)} traces into {store.path} (cannot count: {exc})"
    n_runs, n_handoffs, n_loops = runs.rows[0][0], handoffs.rows[0][0], loops.rows[0][0]
    opener = ["baton", "tui", "--store", str(store.path)]
    if len(conversations) == 1:
        opener.append(conversations[0])
    in_what = (
        f"in conversation {conversations[0]}"
        if len(conversations) == 1
        else f"in {len(conversations)} conversations"
    )
    return (
        f"baton run: recorded {_count(n_runs, 'run')}, {_count(n_handoffs, 'handoff')} and "
        f"{_count(n_loops, 'loop')} {in_what}; open with: {shlex.join(opener)}"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _fail(message: str) -> None:
    click.echo(f"baton run: {message}", err=True)
    sys.exit(BATON_FAILED)
