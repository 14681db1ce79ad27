"""A real ``baton collect`` process on a free loopback port, and plain HTTP requests to
it with the standard library (whatever the status of the answer)."""

from __future__ import annotations

import http.client
import json
import os
import re
import signal
import subprocess
import sys
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tracer.store import Store


@dataclass
class CollectorProcess:
    process: subprocess.Popen[str]
    url: str
    endpoint: str
    store: Store
    banner: list[str]

    def stop(self) -> tuple[int, str, str]:
        """SIGTERM, then wait: (exit code, rest of stdout, stderr). The wait is long because
        stopping converts and absorbs everything spooled (half a million spans in one test),
        which a busy machine makes slow; only a hang should fail here."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        out, err = self.process.communicate(timeout=600)
        return self.process.returncode, out, err


def start_collector(store_path: Path, *args: str, prefix: Sequence[str] = ()) -> CollectorProcess:
    """``baton collect`` on a free port; ``prefix`` runs it under another command (prlimit)."""
    env = dict(os.environ)
    env.pop("BATON_COLLECT_TOKEN", None)
    process = subprocess.Popen(
        [
            *prefix,
            sys.executable,
            "-m",
            "tui",
            "collect",
            "--store",
            str(store_path),
            "--port",
            "0",
            *args,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    banner = [process.stdout.readline() for _ in range(3)]
    match = re.search(r"http://127\.0\.0\.1:(\d+)/v1/traces", banner[0])
    if match is None:
        process.kill()
        raise AssertionError(f"baton collect did not start: {banner} {process.stderr.read()}")
    port = match.group(1)
    return CollectorProcess(
        process,
        url=f"http://127.0.0.1:{port}/v1/traces",
        endpoint=f"http://127.0.0.1:{port}",
        store=Store(store_path),
        banner=banner,
    )


@dataclass
class Answer:
    status_code: int
    headers: dict[str, str]
    content: bytes

    def json(self) -> Any:
        return json.loads(self.content)


def post(url: str, body: bytes = b"", headers: dict[str, str] | None = None) -> Answer:
    """One HTTP request with the standard library, whatever the answer's status."""
    return _request("POST", url, body, headers or {})


def get(url: str) -> Answer:
    return _request("GET", url, None, {})


def _request(method: str, url: str, body: bytes | None, headers: dict[str, str]) -> Answer:
    parts = urllib.parse.urlsplit(url)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=60)
    try:
        connection.request(method, parts.path or "/", body=body, headers=headers)
        response = connection.getresponse()
        return Answer(
            response.status,
            {k.lower(): v for k, v in response.getheaders()},
            response.read(),
        )
    finally:
        connection.close()
