"""The OTLP receiver on a thread of its own, for a program that does something else
meanwhile (``baton run`` waits for its command on the main thread)."""

from __future__ import annotations

import threading

import uvicorn

from tracer.otlp.receiver import Collector, bind


class BackgroundReceiver:
    """``collector`` served on a free port of ``host`` until ``stop``."""

    def __init__(self, collector: Collector, host: str = "127.0.0.1") -> None:
        self.collector = collector
        self.host = host
        self._sock = bind(host, 0)
        self.port: int = self._sock.getsockname()[1]
        config = uvicorn.Config(
            collector.app,
            log_level="warning",
            access_log=False,
            lifespan="off",
            timeout_graceful_shutdown=10,
        )
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._sock]},
            name="baton-run-receiver",
            daemon=True,
        )

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    def start(self) -> None:
        """Serve, and return once the server accepts requests."""
        self.collector.start()
        self._thread.start()
        while not self._server.started:
            if not self._thread.is_alive():
                raise OSError(f"baton's OTLP receiver did not start on {self.endpoint}")
            self._thread.join(0.01)

    def stop(self) -> str | None:
        """Finish in-flight requests, stop, and absorb everything received; returns a
        problem to report, if any."""
        self._server.should_exit = True
        self._thread.join()
        self._sock.close()
        return self.collector.close()
