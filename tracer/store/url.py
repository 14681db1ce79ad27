"""Store URLs: a DuckLake target, spelled as DuckLake spells it, wherever a store path goes.

``ducklake:postgres:<libpq connection string>`` is a team store (a PostgreSQL catalog that
many machines commit to); ``ducklake:<file>.ducklake`` a lake on one machine (a DuckDB
file as its catalog). Its data files (Parquet) go to ``BATON_LAKE_DATA`` (a directory or
``s3://bucket/prefix/``), or ``--lake-data``; a lake that exists already knows its own.
Anything else is a local store path.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from tracer.store.location import STORE_ENV

LAKE_PREFIX = "ducklake:"
LAKE_DATA_ENV = "BATON_LAKE_DATA"
#: Where this machine keeps a lake store's local segments (default: per-user data dir).
LAKE_INCOMING_ENV = "BATON_LAKE_INCOMING"


class LakeUrlError(ValueError):
    """A ``ducklake:`` URL that cannot be used; the message says how to spell one."""


@dataclass(frozen=True)
class LakeTarget:
    """A parsed DuckLake store URL."""

    url: str  # as given, e.g. ducklake:postgres:dbname=baton host=db
    catalog_kind: str  # "postgres" or "duckdb"
    catalog: str  # the libpq string, or the catalog file's absolute path
    data_path: str | None  # BATON_LAKE_DATA / --lake-data; None: the lake's own

    @property
    def attach_url(self) -> str:
        """What DuckDB's ATTACH is given."""
        if self.catalog_kind == "postgres":
            return f"{LAKE_PREFIX}postgres:{self.catalog}"
        return f"{LAKE_PREFIX}{self.catalog}"

    @property
    def key(self) -> str:
        """A short stable name for this lake, for its local folders on this machine."""
        return hashlib.sha256(self.attach_url.encode()).hexdigest()[:16]

    def describe_catalog(self) -> str:
        """The catalog for people: a libpq string without its password."""
        if self.catalog_kind == "duckdb":
            return f"DuckDB file {self.catalog}"
        words = [w for w in self.catalog.split() if not w.lower().startswith("password=")]
        return "PostgreSQL " + " ".join(words)


def is_lake_url(value: str | os.PathLike[str] | None) -> bool:
    """Whether ``value`` names a DuckLake store rather than a local file."""
    return isinstance(value, str) and value.strip().startswith(LAKE_PREFIX)


def chosen_lake_url(value: str | os.PathLike[str] | None) -> str | None:
    """The lake URL a store argument means (itself, or ``BATON_STORE`` when it is empty);
    None for a local store."""
    if value is not None and str(value) != "":
        return str(value).strip() if is_lake_url(value) else None
    env = os.environ.get(STORE_ENV, "")
    return env.strip() if is_lake_url(env) else None


def parse_lake_url(url: str, *, data_path: str | None = None) -> LakeTarget:
    """``url`` as a ``LakeTarget``; ``data_path`` (else ``BATON_LAKE_DATA``) is where new
    data files go. Raises ``LakeUrlError`` for a URL that names no catalog."""
    text = url.strip()
    if not text.startswith(LAKE_PREFIX):
        raise LakeUrlError(f"{url!r} is not a DuckLake URL (they start with {LAKE_PREFIX!r})")
    rest = text[len(LAKE_PREFIX) :].strip()
    data = data_path or os.environ.get(LAKE_DATA_ENV) or None
    if rest.startswith("postgres:"):
        libpq = rest[len("postgres:") :].strip()
        if not libpq:
            raise LakeUrlError(
                "ducklake:postgres: needs a libpq connection string after it, for example "
                "ducklake:postgres:dbname=baton host=db.internal user=baton"
            )
        return LakeTarget(text, "postgres", libpq, data)
    if rest.endswith(".ducklake") and len(rest) > len(".ducklake"):
        catalog = str(Path(rest).expanduser().absolute())
        return LakeTarget(text, "duckdb", catalog, data)
    raise LakeUrlError(
        f"cannot use the store URL {url!r}: spell a team store "
        "ducklake:postgres:<libpq connection string> (e.g. ducklake:postgres:dbname=baton "
        "host=db.internal user=baton) or a one-machine lake ducklake:<file>.ducklake"
    )
