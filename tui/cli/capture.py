"""``baton collect``, ``baton import`` and ``baton export``: getting traces in and out."""

from __future__ import annotations

import contextlib
import ipaddress
import re
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import click

from tracer.capture.exporting import FORMATS
from tracer.otlp.defaults import DEFAULT_HOST, DEFAULT_MAX_BODY, DEFAULT_PORT, TRACES_PATH
from tui.cli.options import (
    check_ids_known,
    fail,
    open_existing_store,
    open_store,
    reports_errors,
    store_option,
)
from tui.humanize import plural

if TYPE_CHECKING:
    from tracer.store import Store

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(b|kb|kib|mb|mib|gb|gib)?\s*$", re.IGNORECASE)
_UNITS = {"b": 1, "kb": 1000, "kib": 1024, "mb": 1000**2, "mib": 1024**2, "gb": 1000**3,
          "gib": 1024**3}  # fmt: skip


def parse_size(text: str) -> int:
    """``20MiB``, ``5MB``, ``1048576`` -> bytes."""
    match = _SIZE.match(text)
    if not match:
        raise click.BadParameter(f"{text!r} is not a size; write e.g. 20MiB, 500KB or 1048576")
    return int(float(match.group(1)) * _UNITS[(match.group(2) or "b").lower()])


@click.command()
@store_option
@click.option("--host", default=DEFAULT_HOST, show_default=True, help="Address to listen on.")
@click.option("--port", default=DEFAULT_PORT, show_default=True, help="Port (0 picks a free one).")
@click.option(
    "--max-body",
    default=f"{DEFAULT_MAX_BODY // (1024 * 1024)}MiB",
    show_default=True,
    help="Largest request body, after decompression; larger ones get 413.",
)
@click.option(
    "--token",
    envvar="BATON_COLLECT_TOKEN",
    show_envvar=True,
    help="Require 'Authorization: Bearer TOKEN' on every request (401 without it).",
)
@click.option(
    "--body-timeout",
    type=click.FloatRange(min=0.1),
    default=30.0,
    show_default=True,
    help="Seconds a sender may take to send one body; slower ones get 408.",
)
@click.option(
    "--max-connections",
    type=click.IntRange(min=1),
    default=512,
    show_default=True,
    help="Connections served at once, idle ones included; beyond, 503 (senders retry).",
)
@reports_errors
def collect(
    store_path: str | None,
    host: str,
    port: int,
    max_body: str,
    token: str | None,
    body_timeout: float,
    max_connections: int,
) -> None:
    """Receive traces over OTLP/HTTP and record them in the store.

    \b
    Any OpenTelemetry-instrumented program exports here with the standard exporter:
      OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318 python app.py
    Protobuf and JSON bodies, gzip or not, on POST /v1/traces. Ctrl-C (or SIGTERM)
    stores everything received and exits.
    """
    from tracer.otlp.quiet_logging import log_in_background
    from tracer.otlp.receiver import Collector, bind, serve
    from tracer.store import StoreBusyError

    log_writer = log_in_background("baton collect: %(message)s")
    store = open_store(store_path)
    limit = parse_size(max_body)
    with contextlib.suppress(StoreBusyError):  # fail now, not at the first request
        store.absorb(timeout=0)
    try:
        sock = bind(host, port)
    except OSError as exc:
        fail(str(exc))
        return
    bound = sock.getsockname()[1]
    if token is None and not _is_loopback(host):
        click.echo(
            f"Warning: listening on {host} without --token; anyone who can reach this port "
            "can write to the store.",
            err=True,
        )
    collector = Collector(store, max_body=limit, token=token, body_timeout=body_timeout)

    def ready() -> None:
        click.echo(f"baton collect: listening on http://{_url_host(host)}:{bound}{TRACES_PATH}")
        click.echo(f"storing in {store.path}")
        click.echo(
            f"export with OTEL_EXPORTER_OTLP_ENDPOINT=http://{_url_host(host)}:{bound}; "
            "Ctrl-C to stop"
        )
        sys.stdout.flush()

    try:
        serve(collector, sock, on_ready=ready, max_connections=max_connections)
        problem = collector.close()
    finally:
        log_writer.stop()
    stats = collector.stats
    click.echo(
        f"baton collect: stopped; {plural(stats.spans, 'span')} from "
        f"{plural(stats.requests, 'request')}"
        + (f", {plural(stats.rejected, 'span')} rejected" if stats.rejected else "")
        + (f", {plural(stats.refused, 'request')} refused" if stats.refused else "")
        + f"; stored in {store.path}"
    )
    if problem:
        click.echo(f"Warning: {problem}", err=True)


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url_host(host: str) -> str:
    return f"[{host}]" if ":" in host else host


@contextmanager
def _progress(path: Path, total: int) -> Iterator[Callable[[int], None]]:
    with click.progressbar(
        length=total, label=f"importing {path.name}", file=sys.stderr, width=30
    ) as bar:
        yield bar.update


@click.command("import")
@store_option
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@reports_errors
def import_command(store_path: str | None, files: tuple[Path, ...]) -> None:
    """Import trace FILES into the store.

    \b
    Reads OTLP JSON (one export request per line, as the OpenTelemetry Collector's
    file exporter writes), JSONL of OpenAI Agents SDK exports (trace.export() /
    span.export() per line), gzip-compressed files of either, and baton's own
    Parquet exports. Bad lines and unreadable files are reported and skipped.
    """
    from tracer.capture.importing import import_files

    store = open_store(store_path)
    summary = import_files(
        store, list(files), report=lambda message: click.echo(message, err=True), progress=_progress
    )
    click.echo(
        f"imported {summary.spans_added} new spans ({summary.spans_read} read) "
        f"from {summary.files} file{'s' if summary.files != 1 else ''} into {store.path}"
    )
    if summary.skipped_files or summary.bad_lines or summary.rejected_spans:
        fail("some input was skipped (see the messages above); the rest was imported")


@click.command("export")
@store_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice([*FORMATS, "markdown"]),
    default="otlp-json",
    show_default=True,
    help="otlp-json: one OTLP export request per line; parquet: the spans table; "
    "markdown: one conversation's transcript, for a bug report.",
)
@click.option("--conversation", multiple=True, help="Only this conversation (repeatable).")
@click.option("--trace", "trace_ids", multiple=True, help="Only this trace id (repeatable).")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="markdown: write the transcript here instead of printing it.",
)
@click.argument("out", metavar="OUT|CONVERSATION")
@reports_errors
def export_command(
    store_path: str | None,
    fmt: str,
    conversation: tuple[str, ...],
    trace_ids: tuple[str, ...],
    output: Path | None,
    out: str,
) -> None:
    """Write the store's spans to OUT, for Jaeger, Phoenix, a data lake or another store;
    with --format markdown, CONVERSATION (or a trace id) as a transcript, turn by turn.

    \b
    Example:
      baton export --format otlp-json traces.jsonl
      baton import --store other.duckdb traces.jsonl
      baton export --format markdown support-7f3a > transcript.md
    """
    store = open_existing_store(store_path)
    if fmt == "markdown":
        _export_markdown(store, out, output)
        return
    from tracer.capture.exporting import SpanFilter, export_spans

    # Before writing: an unknown id would leave an empty file that looks like an export.
    check_ids_known(store, "conversation_id", conversation, "conversation")
    check_ids_known(store, "trace_id", trace_ids, "trace")
    try:
        count = export_spans(store, Path(out), fmt, SpanFilter(conversation, trace_ids))
    except OSError as exc:
        fail(f"cannot write {out}: {exc.strerror or exc}")
        return
    click.echo(f"exported {count} spans to {out}")


def _export_markdown(store: Store, conversation_id: str, output: Path | None) -> None:
    from replay import load_conversation
    from replay.transcript import conversation_markdown

    text = conversation_markdown(load_conversation(store, conversation_id))
    if output is None:
        click.echo(text, nl=False)
        return
    try:
        output.write_text(text, encoding="utf-8")
    except OSError as exc:
        fail(f"cannot write {output}: {exc.strerror or exc}")
        return
    click.echo(f"wrote the transcript of {conversation_id} to {output}", err=True)
