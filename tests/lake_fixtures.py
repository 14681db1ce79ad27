"""A real PostgreSQL for the team-store tests: a private cluster (initdb, pg_ctl) on a free
port of 127.0.0.1 with a throwaway data directory, one database per test, and DuckDB's
ducklake and postgres extensions (the team extra's wheels). Tests skip, saying why, only
when the PostgreSQL binaries or the extensions are absent."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pytest


@dataclass(frozen=True)
class Postgres:
    port: int
    bin_dir: Path
    run_as: str | None

    def libpq(self, dbname: str) -> str:
        return f"dbname={dbname} host=127.0.0.1 port={self.port} user=baton"

    def createdb(self) -> str:
        name = f"lake_{uuid.uuid4().hex[:10]}"
        subprocess.run(
            [
                str(self.bin_dir / "createdb"),
                "-h",
                "127.0.0.1",
                "-p",
                str(self.port),
                "-U",
                "baton",
                name,
            ],
            check=True,
            capture_output=True,
        )
        return name


@dataclass(frozen=True)
class Lake:
    url: str
    data: Path


def _bin_dir() -> Path | None:
    found = shutil.which("initdb")
    if found and Path(found).resolve().parent.joinpath("pg_ctl").exists():
        return Path(found).resolve().parent
    for candidate in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True):
        if Path(candidate, "initdb").exists():
            return Path(candidate)
    return None


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def extensions_problem() -> str | None:
    """Why DuckDB's ducklake and postgres extensions cannot be loaded here, or None."""
    from tracer.store import lake_extensions

    con = duckdb.connect()
    try:
        lake_extensions.load(con, "ducklake")
        lake_extensions.load(con, "postgres_scanner")
    except lake_extensions.ExtensionMissing as exc:
        return str(exc)
    finally:
        con.close()
    return None


@contextmanager
def private_postgres() -> Iterator[Postgres]:
    """A PostgreSQL cluster of its own on a free port of 127.0.0.1, in a throwaway folder,
    run as a user other than root (PostgreSQL refuses root); removed on exit. Raises
    ``Unavailable`` when it cannot be had here."""
    bin_dir = _bin_dir()
    if bin_dir is None:
        raise Unavailable(
            "PostgreSQL's initdb and pg_ctl are not installed (apt-get install postgresql)"
        )
    run_as: str | None = None
    if os.geteuid() == 0:
        for user in ("postgres", "nobody"):
            try:
                pwd.getpwnam(user)
            except KeyError:
                continue
            run_as = user
            break
        if run_as is None:
            raise Unavailable(
                "PostgreSQL will not run as root and there is no other user to run it as"
            )
    root = Path(tempfile.mkdtemp(prefix="baton-pg-"))
    prefix: list[str] = []
    if run_as:
        entry = pwd.getpwnam(run_as)
        os.chown(root, entry.pw_uid, entry.pw_gid)
        prefix = ["runuser", "-u", run_as, "--"]
    port = _free_port()
    data = root / "data"
    try:
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "initdb"),
                "-D",
                str(data),
                "-A",
                "trust",
                "-U",
                "baton",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
        )
        options = (
            f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200"
        )
        subprocess.run(
            [
                *prefix,
                str(bin_dir / "pg_ctl"),
                "-D",
                str(data),
                "-o",
                options,
                "-l",
                str(root / "log"),
                "-w",
                "start",
            ],
            check=True,
            capture_output=True,
        )
        yield Postgres(port, bin_dir, run_as)
    finally:
        subprocess.run(
            [*prefix, str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop"],
            capture_output=True,
        )
        shutil.rmtree(root, ignore_errors=True)


class Unavailable(RuntimeError):
    """What the team store needs is not on this machine; the message says what."""


@pytest.fixture(scope="session")
def postgres() -> Iterator[Postgres]:
    problem = extensions_problem()
    if problem:
        pytest.skip(f"team store tests need DuckDB's ducklake and postgres extensions: {problem}")
    try:
        with private_postgres() as server:
            yield server
    except Unavailable as exc:
        pytest.skip(f"team store tests need a PostgreSQL server: {exc}")


@pytest.fixture
def lake(postgres: Postgres, tmp_path: Path) -> Lake:
    """A new, empty team store: its own PostgreSQL database as the catalog, a directory
    as its data path (BATON_LAKE_DATA for the test and its child processes)."""
    data = tmp_path / "lake-data"
    data.mkdir()
    return Lake(f"ducklake:postgres:{postgres.libpq(postgres.createdb())}", data)
