"""Options and error handling shared by every ``baton`` command."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import Any, TypeVar

import click
import duckdb

from tracer.store import Store, StoreError

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
    return Store(store_path)


def fail(message: str, code: int = 1) -> None:
    """Print ``message`` as an error and exit with ``code``, without a traceback."""
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def reports_errors(command: F) -> F:
    """Turn store and DuckDB errors into a one-line message and exit status 1."""

    @functools.wraps(command)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return command(*args, **kwargs)
        except StoreError as exc:
            fail(str(exc))
        except duckdb.Error as exc:
            fail(str(exc))
        return None

    return wrapper  # type: ignore[return-value]
