"""An OTLP/HTTP trace receiver on 127.0.0.1 that keeps each export request as OTLP/JSON
(the OpenTelemetry file exporter's shape: one ``ExportTraceServiceRequest`` a line, ids in
hex), for recording fixtures. Protobuf and JSON bodies, gzip or not."""

from __future__ import annotations

import base64
import gzip
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
)

_ID_KEYS = ("traceId", "spanId", "parentSpanId")


def _hex_ids(node: Any) -> Any:
    # proto3's JSON mapping writes bytes as base64; OTLP/JSON wants hex ids.
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_KEYS and isinstance(value, str) and value:
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)
    return node


def read_body(handler: BaseHTTPRequestHandler) -> bytes:
    """A request's body, sent with a length or chunked (Node's exporters chunk)."""
    if "chunked" not in (handler.headers.get("transfer-encoding") or "").lower():
        return handler.rfile.read(int(handler.headers.get("content-length") or 0))
    body = b""
    while True:
        size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
        if size == 0:
            handler.rfile.readline()
            return body
        body += handler.rfile.read(size)
        handler.rfile.readline()


class OtlpSink:
    """Collects export requests; ``lines`` are their OTLP/JSON texts in arrival order."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self._lock = threading.Lock()
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1/traces"

    def __enter__(self) -> OtlpSink:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def keep(self, body: bytes, content_type: str) -> None:
        if body[:2] == b"\x1f\x8b":
            body = gzip.decompress(body)
        if "json" in content_type:
            document = json.loads(body)
        else:
            request = ExportTraceServiceRequest.FromString(body)
            document = _hex_ids(MessageToDict(request))
        with self._lock:
            self.lines.append(json.dumps(document, sort_keys=True))

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        sink = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                sink.keep(read_body(self), self.headers.get("content-type") or "")
                self.send_response(200)
                self.send_header("content-type", "application/x-protobuf")
                self.send_header("content-length", "0")
                self.end_headers()

        return Handler
