"""``baton collect``: an OTLP/HTTP trace receiver that records into a store.

Any OpenTelemetry-instrumented program exports to it with the standard OTLP HTTP
exporter (``OTEL_EXPORTER_OTLP_ENDPOINT=http://127.0.0.1:4318``). An accepted request
is on disk before it is answered (protobuf in the spool, see ``tracer.otlp.spool``; JSON
as a segment) and never waits for the store's lock; a background thread absorbs
segments into the database when requests pause (see ``Collector.start``), and once
more at exit.

Answers: 200 (with ``partial_success`` counting spans that could not be stored), 400
for a body that is not an OTLP trace request, 401 without the bearer token when one is
set, 408 for a body that takes over ``body_timeout`` seconds to arrive, 413 over
``max_body`` bytes (before or after decompression), 415 for a content type or encoding
it cannot read, 503 when the spans cannot be written to disk or too many connections
are open (the exporter retries). It keeps serving after every one of them. Memory is
bounded by the body limit and the decoding slots, not by the number of senders.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import signal
import socket
import threading
import time
import zlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from types import FrameType

import duckdb
import uvicorn
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import ClientDisconnect, Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from tracer.capture.spanrows import SpanRows
from tracer.otlp.decoded import Decoded, MalformedRequest, UnsupportedContentType
from tracer.otlp.defaults import DEFAULT_MAX_BODY, TRACES_PATH
from tracer.otlp.protobuf import check_protobuf, parse_protobuf
from tracer.otlp.request import decode, error_body, media_type, response_body
from tracer.otlp.spool import Spool
from tracer.store import AbsorbReport, Store, StoreBusyError
from tracer.store.sanitize import Limits

logger = logging.getLogger("baton.collect")


class BodyTooLarge(ValueError):
    """The request body is over ``max_body`` bytes (answered 413)."""


class Unauthorized(ValueError):
    """The bearer token is missing or wrong (answered 401)."""


class BodyTooSlow(ValueError):
    """The body did not arrive within ``body_timeout`` seconds (answered 408)."""


#: How long a sender may take to send one request body: a slow (or stalled) body must
#: not hold a connection, and the memory for its body, for minutes.
DEFAULT_BODY_TIMEOUT = 30.0
#: Requests decoded at once. Decoding turns a body into Python objects many times its
#: size (OTLP/JSON most of all), so this, not the number of senders, bounds the memory.
DECODE_SLOTS = 2
#: Connections served at once, idle keep-alive ones included; beyond, new ones get 503
#: (the exporter retries) rather than exhausting the process's file descriptors.
DEFAULT_MAX_CONNECTIONS = 512
#: Seconds an idle keep-alive connection is kept open.
KEEP_ALIVE_SECONDS = 5
#: DuckDB's memory_limit while the receiver absorbs: without it DuckDB's buffer cache may
#: take 80% of RAM, and grows with the burst; past it DuckDB spills to <store>.tmp. It
#: bounds DuckDB's checkpoints too, which are the absorb's peak (+150 MB at 256MB). The
#: pool fills with the store's blocks as an absorb proceeds and stops here, so the peak
#: is flat past ~200k spans, whatever the burst (<= 440 MB: bench_collect --bursts).
#: 64MB and 96MB ran out on a single spool segment (then retried at 512MB).
ABSORB_MEMORY_LIMIT = "128MB"
#: Segment bytes one absorb transaction takes at most. DuckDB holds a transaction's new
#: rows in memory until it commits (a 31 MB chunk ran out of 96MB), so this is what keeps
#: ABSORB_MEMORY_LIMIT enough; one spool segment (BATCH_BYTES of bodies) fits.
ABSORB_CHUNK_BYTES = 16 * 1024 * 1024
#: The limits an absorb is retried under when DuckDB runs out of memory (a segment far
#: over ABSORB_CHUNK_BYTES, written by another recorder): spans never wait on the limit.
_ABSORB_RETRY_LIMITS: tuple[str | None, ...] = ("512MB", "2GB", None)


@dataclass
class CollectorStats:
    """What the receiver has handled since it started: requests taken, the spans in them
    accepted and rejected, and requests refused."""

    requests: int = 0
    spans: int = 0
    rejected: int = 0
    refused: int = 0  # requests answered with a 4xx


class Collector:
    """The receiver as an ASGI app (``collector.app``) plus its background absorber."""

    def __init__(
        self,
        store: Store,
        *,
        max_body: int = DEFAULT_MAX_BODY,
        token: str | None = None,
        absorb_when_idle: float = 1.0,
        absorb_at_least_every: float = 30.0,
        limits: Limits | None = None,
        body_timeout: float = DEFAULT_BODY_TIMEOUT,
    ) -> None:
        self.store = store
        store.write_memory_limit = ABSORB_MEMORY_LIMIT  # this receiver's absorbs
        store.absorb_chunk_bytes = ABSORB_CHUNK_BYTES
        self.max_body = max_body
        self.token = token
        self.absorb_when_idle = absorb_when_idle
        self.absorb_at_least_every = absorb_at_least_every
        self._last_request = time.monotonic()
        self.limits = limits or Limits.from_env()
        self.body_timeout = body_timeout
        self._decoding = threading.BoundedSemaphore(DECODE_SLOTS)
        self.stats = CollectorStats()
        self._stats_lock = threading.Lock()
        self._stop = threading.Event()
        self._absorber: threading.Thread | None = None
        self.spool = Spool(store, self.limits)
        self.app = Starlette(
            routes=[
                Route(TRACES_PATH, self.receive, methods=["POST"]),
                Route("/", self.index, methods=["GET"]),
            ]
        )

    # -- HTTP ----------------------------------------------------------------------------

    async def index(self, request: Request) -> Response:
        return PlainTextResponse(f"baton collect: POST OTLP traces to {TRACES_PATH}\n")

    async def receive(self, request: Request) -> Response:
        kind: str | None = None
        try:
            self._check_token(request)
            kind = media_type(request.headers.get("content-type"))
            try:
                async with asyncio.timeout(self.body_timeout):
                    body = await self._read_body(request)
            except TimeoutError as exc:
                raise BodyTooSlow(
                    f"the body did not arrive within {self.body_timeout:g}s; send it faster "
                    "or in smaller batches"
                ) from exc
            decoded = await run_in_threadpool(self._bounded_ingest, body, kind)
        except ClientDisconnect:
            logger.warning("a sender disconnected before its request was complete; nothing stored")
            return Response(status_code=400)  # nobody is left to read it
        except BodyTooSlow as exc:
            return self._refuse(408, str(exc), kind)
        except Unauthorized as exc:
            return self._refuse(401, str(exc), kind, {"WWW-Authenticate": "Bearer"})
        except UnsupportedContentType as exc:
            return self._refuse(415, str(exc), kind)
        except BodyTooLarge as exc:
            return self._refuse(413, str(exc), kind)
        except MalformedRequest as exc:
            return self._refuse(400, str(exc), kind)
        except OSError as exc:  # the segment could not be written: the exporter retries 503
            logger.error("could not write spans to %s: %s", self.store.incoming, exc)
            return self._refuse(503, f"baton could not store the spans ({exc})", kind)
        media = "application/x-protobuf" if kind == "protobuf" else "application/json"
        return Response(response_body(decoded, kind), status_code=200, media_type=media)

    def _bounded_ingest(self, body: bytes, kind: str) -> Decoded:
        with self._decoding:
            return self.ingest(body, kind)

    def ingest(self, body: bytes, kind: str) -> Decoded:
        """Accept one request body: protobuf goes to the spool (converted off the request
        path), JSON is decoded and written as a segment here. Returns the counts."""
        self._last_request = time.monotonic()
        if kind == "protobuf":
            request = parse_protobuf(body)
            decoded = Decoded(SpanRows(self.limits))
            check_protobuf(request, decoded)
            if decoded.accepted:
                self.spool.put(body, request)
        else:
            decoded = decode(body, kind, SpanRows(self.limits))
            if len(decoded.rows):
                self.store.write_segment(decoded.rows.to_arrow())
        with self._stats_lock:
            self.stats.requests += 1
            self.stats.spans += decoded.accepted
            self.stats.rejected += decoded.rejected
        return decoded

    def _check_token(self, request: Request) -> None:
        if self.token is None:
            return
        given = request.headers.get("authorization", "")
        scheme, _, value = given.partition(" ")
        if scheme.lower() != "bearer" or not hmac.compare_digest(
            value.strip().encode(), self.token.encode()
        ):
            raise Unauthorized(
                "missing or wrong bearer token: send 'Authorization: Bearer <token>' "
                "(OTEL_EXPORTER_OTLP_HEADERS='Authorization=Bearer <token>')"
            )

    async def _read_body(self, request: Request) -> bytes:
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > self.max_body:
            raise BodyTooLarge(self._too_large(int(declared)))
        chunks: list[bytes] = []
        size = 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_body:
                raise BodyTooLarge(self._too_large(size))
            chunks.append(chunk)
        body = b"".join(chunks)
        encoding = request.headers.get("content-encoding", "identity").strip().lower()
        if encoding in ("", "identity"):
            return body
        if encoding not in ("gzip", "deflate"):
            raise UnsupportedContentType(
                f"unsupported content encoding {encoding!r}: send gzip, deflate or none"
            )
        return await run_in_threadpool(self._inflate, body, encoding)

    def _inflate(self, body: bytes, encoding: str) -> bytes:
        wbits = 16 + zlib.MAX_WBITS if encoding == "gzip" else zlib.MAX_WBITS
        inflater = zlib.decompressobj(wbits)
        try:
            data = inflater.decompress(body, self.max_body + 1)
        except zlib.error as exc:
            raise MalformedRequest(f"the body is not valid {encoding} data ({exc})") from exc
        if len(data) > self.max_body or inflater.unconsumed_tail:
            raise BodyTooLarge(self._too_large(len(data), decompressed=True))
        if not inflater.eof:
            raise MalformedRequest(f"the {encoding} body is truncated")
        return data

    def _too_large(self, size: int, *, decompressed: bool = False) -> str:
        what = "decompressed body" if decompressed else "body"
        return (
            f"the {what} ({size} bytes or more) is over the limit of {self.max_body} bytes; "
            "send smaller batches or start baton collect with a larger --max-body"
        )

    def _refuse(
        self, status: int, message: str, kind: str | None, headers: dict[str, str] | None = None
    ) -> Response:
        with self._stats_lock:
            self.stats.refused += 1
        logger.warning("refused a request (%d): %s", status, message)
        body, media = error_body(message, kind)
        return Response(body, status_code=status, media_type=media, headers=headers)

    # -- absorbing -----------------------------------------------------------------------

    def start(self) -> None:
        """Start the spool's converter and the absorber. Segments move into the store
        once no request has come for ``absorb_when_idle`` seconds, and at least every
        ``absorb_at_least_every`` seconds under a steady stream: during a burst the CPU
        goes to answering senders (their spans are already safe on disk, and readers
        absorb what is pending when they open the store). A round is skipped while
        another program holds the lock."""
        if self._absorber is not None:
            return
        self.spool.start()

        def loop() -> None:
            last_absorb = time.monotonic()
            last_problem = ""
            while not self._stop.wait(self.absorb_when_idle / 2):
                # Nothing may end this thread but stop(): with file descriptors exhausted
                # even listing the folder fails, and absorbing must resume once they free.
                try:
                    now = time.monotonic()
                    idle = now - self._last_request >= self.absorb_when_idle
                    overdue = now - last_absorb >= self.absorb_at_least_every
                    if not (idle or overdue) or not self.store.pending_segments():
                        continue
                    last_absorb = now
                    with contextlib.suppress(StoreBusyError):  # another program has it
                        self.absorb(timeout=0)
                    last_problem = ""
                except Exception as exc:
                    problem = f"{type(exc).__name__}: {exc}"
                    if problem != last_problem:  # once per distinct problem, not per round
                        logger.warning("could not absorb segments yet (%s); will retry", problem)
                    last_problem = problem

        self._absorber = threading.Thread(target=loop, name="baton-collect-absorb", daemon=True)
        self._absorber.start()

    def close(self) -> str | None:
        """Convert what the spool holds, stop the absorber and absorb what is left;
        returns a problem to report, if any."""
        self.spool.stop()
        self._stop.set()
        if self._absorber is not None:
            self._absorber.join()
            self._absorber = None
        try:
            self.absorb()
        except Exception as exc:
            return (
                f"spans are safe in {self.store.incoming} but could not be moved into the "
                f"store yet ({exc}); they move in the next time the store is opened"
            )
        return None

    def absorb(self, *, timeout: float | None = None) -> AbsorbReport:
        """``store.absorb`` under ``ABSORB_MEMORY_LIMIT``; if DuckDB runs out of memory
        there (a segment too large for it), again under each of ``_ABSORB_RETRY_LIMITS``.
        What a failed attempt committed stays stored (each chunk is its own transaction);
        the report counts the attempt that finished."""
        report = AbsorbReport()
        limits = (ABSORB_MEMORY_LIMIT, *_ABSORB_RETRY_LIMITS)
        try:
            for attempt, limit in enumerate(limits):
                self.store.write_memory_limit = limit
                try:
                    done = self.store.absorb(timeout=timeout)
                except Exception as exc:
                    if attempt == len(limits) - 1 or not _out_of_memory(exc):
                        raise
                    logger.warning(
                        "absorbing needed more DuckDB memory than %s (a large segment); "
                        "retrying with %s",
                        limit,
                        limits[attempt + 1] or "DuckDB's default",
                    )
                    continue
                report.segments += done.segments
                report.spans_added += done.spans_added
                report.corrupt += done.corrupt
                break
        finally:
            self.store.write_memory_limit = ABSORB_MEMORY_LIMIT
        return report


def _out_of_memory(exc: BaseException) -> bool:
    """Whether DuckDB running out of memory caused ``exc`` (an aborted transaction's
    later error carries it as its context)."""
    seen: BaseException | None = exc
    for _ in range(16):  # a chain's length, not a cycle's
        if seen is None:
            return False
        if isinstance(seen, duckdb.OutOfMemoryException):
            return True
        seen = seen.__cause__ or seen.__context__
    return False


class _Server(uvicorn.Server):
    """uvicorn, except that SIGINT/SIGTERM end ``run`` normally (uvicorn re-raises the
    signal after its graceful shutdown, which would kill us before the final absorb)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return

        def stop(sig: int, frame: FrameType | None) -> None:
            if self.should_exit and sig == signal.SIGINT:
                self.force_exit = True
            self.should_exit = True

        previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: any free port)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise OSError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); is another collector "
            "running there? Pick another port with --port"
        ) from exc
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


def _more_file_descriptors() -> None:
    """Raise this process's open-file limit to the most the system allows: each connection
    costs one, and the spool, segments and store need theirs too."""
    try:
        import resource
    except ImportError:  # not on Windows
        return
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = hard if hard != resource.RLIM_INFINITY else max(soft, 65536)
    if soft != resource.RLIM_INFINITY and soft < wanted:
        with contextlib.suppress(ValueError, OSError):
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))


def serve(
    collector: Collector,
    sock: socket.socket,
    *,
    on_ready: Callable[[], None] | None = None,
    max_connections: int = DEFAULT_MAX_CONNECTIONS,
) -> None:
    """Serve ``collector`` on ``sock`` until SIGINT/SIGTERM (or ``should_exit``), then
    finish in-flight requests. The caller runs ``collector.close()`` afterwards."""
    config = uvicorn.Config(
        collector.app,
        log_level="warning",
        access_log=False,
        lifespan="off",
        timeout_graceful_shutdown=10,
        limit_concurrency=max_connections,
        timeout_keep_alive=KEEP_ALIVE_SECONDS,
    )
    _more_file_descriptors()
    server = _Server(config)
    with server.capture_signals():  # from before "ready", so an early SIGTERM is graceful too
        collector.start()
        if on_ready is not None:
            on_ready()
        server.run(sockets=[sock])
