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

_store_path_option = click.option(
    "--store",
    "store_path",
    metavar="PATH",
    envvar="BATON_STORE",
    show_envvar=True,
    help="The store file (default: $BATON_STORE, else your user data directory), or a "
    "team store: ducklake:postgres:<libpq string> or ducklake:<file>.ducklake.",
)


def _set_lake_data(_ctx: click.Context, _param: click.Parameter, value: str | None) -> None:
    # Handed to the store through the environment, so no command's signature changes.
    if value:
        import os

        os.environ["BATON_LAKE_DATA"] = value


_lake_data_option = click.option(
    "--lake-data",
    metavar="PATH",
    expose_value=False,
    callback=_set_lake_data,
    help="A team store's data path, a directory or s3://bucket/prefix/ (default: "
    "$BATON_LAKE_DATA; a lake that exists knows its own).",
)


def store_option(command: F) -> F:
    """``--store PATH`` and ``--lake-data PATH`` on a command."""
    return _store_path_option(_lake_data_option(command))


def open_store(store_path: str | None) -> Store:
    from tracer.store import Store

    return Store(store_path)


def open_existing_store(store_path: str | None) -> Store:
    """The store for a command that only reads: a mistyped ``--store`` is an error, not a
    new empty store (``replay`` says the same for the TUI and ``baton loops``)."""
    from tracer.store import StoreError

    store = open_store(store_path)
    if not store.exists():
        raise StoreError(
            f"there is no store at {store.path}; record a run first, or pass --store "
            "(or set BATON_STORE) to the store you recorded into"
        )
    return store


def check_ids_known(store: Store, column: str, ids: tuple[str, ...], what: str) -> None:
    """Every id of ``ids`` is in the store's ``column`` (``conversation_id``,
    ``trace_id``), else a ``StoreError`` naming those that are not."""
    from tracer.store import StoreError

    if not ids:
        return
    known = {
        row[0]
        for row in store.query(
            f"SELECT DISTINCT {column} FROM spans WHERE list_contains(?, {column})", [list(ids)]
        ).rows
    }
    unknown = [wanted for wanted in ids if wanted not in known]
    if unknown:
        listed = ", ".join(repr(wanted) for wanted in unknown)
        raise StoreError(
            f"no {what} {listed} in {store.path}; `baton traces --store {store.path}` "
            "lists what it holds"
        )


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
