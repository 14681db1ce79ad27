"""Errors replay raises: store errors, so every command reports them the same way."""

from __future__ import annotations

from tracer.store import Store, StoreError


class NotFoundError(StoreError):
    """No conversation or trace with the id asked for; the message names the store."""


class ReplayError(StoreError):
    """A run that cannot be re-run or served as asked; the message says why and what to
    do (an unknown id, a conversation of several runs, content not recorded, agents that
    cannot be imported)."""


def check_store_exists(store: Store) -> None:
    """Reading a store that does not exist would create an empty one; say so instead."""
    if not store.path.exists() and not store.pending_segments():
        raise NotFoundError(
            f"there is no store at {store.path}; record a run first, or pass --store "
            "(or set BATON_STORE) to the store you recorded into"
        )
