"""Errors replay raises: store errors, so every command reports them the same way."""

from __future__ import annotations

import os

from tracer.store import Store, StoreError

#: What every public ``replay`` function takes as its store, as ``tracer.setup`` does.
StoreLike = Store | str | os.PathLike[str]


class NotFoundError(StoreError):
    """No conversation or trace with the id asked for; the message names the store."""


class ReplayError(StoreError):
    """A run that cannot be re-run or served as asked; the message says why and what to
    do (an unknown id, a conversation of several runs, content not recorded, agents that
    cannot be imported)."""


def check_store_exists(store: Store) -> None:
    """Reading a store that does not exist would create an empty one; say so instead."""
    if not store.exists():
        raise NotFoundError(
            f"there is no store at {store.path}; record a run first, or pass --store "
            "(or set BATON_STORE) to the store you recorded into"
        )


def existing_store(store: StoreLike) -> Store:
    """``store`` as a ``Store`` (a path is opened as one), checked to exist."""
    opened = store if isinstance(store, Store) else Store(store)
    check_store_exists(opened)
    return opened
