"""Stores are private to their owner, like ssh keys and shell history: the database file,
its write-ahead log, the incoming folder and its segments, the collector's spool and
exports are readable by their owner only (files 0600, folders 0700). A folder another
user owns is refused rather than trusted: anyone who can write there could plant spans.
"""

from __future__ import annotations

import contextlib
import os
import stat
import threading
from collections.abc import Iterator
from pathlib import Path

FILE_MODE = 0o600
DIR_MODE = 0o700
_OWNER_ONLY = 0o077
_umask_lock = threading.RLock()  # a write connection may open another in its block


class ForeignOwnerError(PermissionError):
    """A store folder belongs to another user."""


def private_dir(path: Path) -> Path:
    """``path`` created if missing (parents too), readable by its owner only; an existing
    folder of ours is tightened, one of another user's is refused."""
    path.mkdir(mode=DIR_MODE, parents=True, exist_ok=True)
    check_owner(path)
    _tighten(path, DIR_MODE)
    return path


def private_file(path: Path) -> None:
    """Make an existing file of ours readable by its owner only."""
    _tighten(path, FILE_MODE)


def check_owner(path: Path, like: Path | None = None) -> None:
    """Raise ``ForeignOwnerError`` if ``path`` exists and is not owned by the owner of
    ``like`` (when that exists: a store another user shares with us is theirs, folder
    and all), else by us."""
    if not hasattr(os, "geteuid"):
        return
    try:
        owner = path.stat().st_uid
    except FileNotFoundError:
        return
    try:
        expected = like.stat().st_uid if like is not None else os.geteuid()
    except FileNotFoundError:
        expected = os.geteuid()
    if owner != expected:
        raise ForeignOwnerError(
            f"{path} belongs to another user ({_user_name(owner)}) than its store, so baton "
            "will not read "
            "spans from it: anyone who can write there could plant them. Remove it, or "
            "give it to the store's owner (chown), and retry"
        )


@contextlib.contextmanager
def owner_only_files() -> Iterator[None]:
    """Files created in the block (DuckDB's database and write-ahead log, which baton does
    not open itself) are readable by their owner only."""
    if not hasattr(os, "umask"):
        yield
        return
    with _umask_lock:
        previous = os.umask(_OWNER_ONLY)
        try:
            yield
        finally:
            os.umask(previous)


def _tighten(path: Path, mode: int) -> None:
    try:
        current = stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        return
    if current & _OWNER_ONLY and (not hasattr(os, "geteuid") or path.stat().st_uid == os.geteuid()):
        with contextlib.suppress(PermissionError):
            os.chmod(path, mode)


def _user_name(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name}, uid {uid}"
    except (ImportError, KeyError):
        return f"uid {uid}"
