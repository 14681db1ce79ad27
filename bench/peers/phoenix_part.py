"""Arize Phoenix's part of ``bench/bench_peers.py``, run by /work/fw/phoenix's python: a
local Phoenix server (``phoenix serve``, its SQLite store in the work folder) on
127.0.0.1, recorded the way Phoenix documents for the Agents SDK — ``phoenix.otel.register
(auto_instrument=True)``, which turns on the installed OpenInference instrumentations
(openai-agents, and openai, which ``arize-phoenix`` brings) with its default span
processor — and read back with Phoenix's GraphQL API (the project's trace and span counts)."""

from __future__ import annotations

import argparse
import atexit
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from typing import Any

import workflow
from phoenix.otel import register

PROJECT = "bench-peers"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _serve(workdir: str) -> str:
    """Start Phoenix's server; its base URL once it answers."""
    port = _free_port()
    env = {
        **os.environ,
        "PHOENIX_WORKING_DIR": workdir,
        "PHOENIX_HOST": "127.0.0.1",
        "PHOENIX_PORT": str(port),
        "PHOENIX_GRPC_PORT": str(_free_port()),
        "PHOENIX_TELEMETRY_ENABLED": "false",
    }
    log = open(os.path.join(workdir, "phoenix-server.log"), "wb")  # noqa: SIM115 (the server's)
    server = subprocess.Popen(
        [sys.executable, "-m", "phoenix.server.main", "serve"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )

    def stop() -> None:
        server.terminate()
        server.wait(30)

    atexit.register(stop)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"phoenix serve exited {server.returncode}; see {log.name}")
        try:
            with urllib.request.urlopen(f"{url}/healthz", timeout=2):
                return url
        except OSError:
            time.sleep(0.25)
    raise SystemExit("phoenix serve did not answer within 120 s")


def _graphql(url: str, query: str) -> Any:
    request = urllib.request.Request(
        f"{url}/graphql",
        data=json.dumps({"query": query}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)["data"]


def setup(args: argparse.Namespace) -> workflow.Tool:
    url = _serve(args.workdir)
    provider = register(  # its defaults: a span processor that exports each span as it ends
        project_name=PROJECT, endpoint=f"{url}/v1/traces", auto_instrument=True, verbose=False
    )

    def flush() -> None:
        provider.force_flush()

    def counts() -> tuple[int, int]:
        data = _graphql(url, "{ projects { edges { node { name traceCount recordCount } } } }")
        for edge in data["projects"]["edges"]:
            if edge["node"]["name"] == PROJECT:
                return int(edge["node"]["recordCount"]), int(edge["node"]["traceCount"])
        return 0, 0

    return workflow.Tool(
        name="phoenix",
        package="arize-phoenix",
        flush=flush,
        count=counts,
        extra_spans=lambda sdk: sdk.traces + sdk.by_type["generation"],
        extra_doc="+1 per trace (its root), +1 per model call (openai instrumentation)",
    )


if __name__ == "__main__":
    workflow.main(setup)
