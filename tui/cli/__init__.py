"""The ``baton`` command line: one module per group of commands, registered on ``main``.

The commands are thin: they parse options, call ``tracer``/``replay``, and print. A
command module imports only ``click`` and light helpers when ``baton`` starts; whatever a
command needs beyond that (the store, the receiver, the runner, Textual) it imports when
it runs, so ``baton sql`` never loads openai, pydantic, uvicorn or textual (a test
checks which modules a ``baton sql`` process loads). The Textual app is apart from this
package (``tui.app``, ``tui.screens``, ``tui.widgets``) and loads only for ``baton tui``
and ``baton demo``.
"""

from __future__ import annotations

import click

from tui.cli.capture import collect, export_command, import_command
from tui.cli.demo import demo
from tui.cli.diff import diff, loops
from tui.cli.replay import replay
from tui.cli.run import run
from tui.cli.safe_output import guard_standard_streams
from tui.cli.store import sql, store, traces
from tui.cli.team import push
from tui.cli.tui import tui

#: Commands that own the terminal (the Textual app) or pass a program's output through
#: untouched (``baton run``); every other command's output is made terminal-safe.
_OWN_TERMINAL = frozenset({"tui", "demo", "run"})


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="baton", prog_name="baton")
@click.pass_context
def main(ctx: click.Context) -> None:
    """baton records multi-agent LLM runs (handoffs, agents called as tools) as
    OpenTelemetry spans in DuckDB, answers SQL over the handoff history, and replays
    conversations turn by turn in the terminal.

    Every command takes --store PATH; without it the store is $BATON_STORE, else a
    file in your user data directory (see `baton store path`).
    """
    if ctx.invoked_subcommand not in _OWN_TERMINAL:
        guard_standard_streams()


main.add_command(demo)
main.add_command(sql)
main.add_command(traces)
main.add_command(store)
store.add_command(push)
main.add_command(collect)
main.add_command(import_command)
main.add_command(export_command)
main.add_command(loops)
main.add_command(diff)
main.add_command(replay)
main.add_command(tui)
main.add_command(run)
