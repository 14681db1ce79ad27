"""Options and error handling shared by every ``baton`` command.

Light on purpose: every command module imports this when ``baton`` starts, so the
store (and DuckDB) load only once a command runs.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:
    from tracer.store import Store

F = TypeVar("F", bound=Callable[..., Any])

store_option = click.option(
    "--store",
    "store_path",
    metavar="PATH",
    envvar="BATON_STORE",
    show_envvar=True,
    help="The store file (default: $BATON_STORE, else your user data directory).",
)


def open_store(store_path: str | None) -> Store:
    from tracer.store import Store

    return Store(store_path)


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` as an error and exit with ``code``, without a traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def exits_on_errors(code: int) -> Callable[[F], F]:
    """A decorator: store and DuckDB errors become a one-line message and exit ``code``."""

    def decorate(command: F) -> F:
        @functools.wraps(command)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            import duckdb

            from tracer.store import StoreError

            try:
                return command(*args, **kwargs)
            except (StoreError, duckdb.Error) as exc:
                fail(str(exc), code)
            return None

        return wrapper  # type: ignore[return-value]

    return decorate


#: Store and DuckDB errors exit with 1.
reports_errors = exits_on_errors(1)
#: For commands whose 1 means an answer (``baton diff``: the paths differ), store and
#: lookup problems exit with 2.
usage_errors = exits_on_errors(2)
