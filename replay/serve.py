"""``baton replay serve``: a recorded run's responses as an OpenAI-compatible Chat
Completions endpoint on 127.0.0.1, answered in the order the run made its calls, so a
program in any language can be replayed against them."""

from __future__ import annotations

import threading
from typing import Any

from replay.errors import ReplayError
from replay.recording import Recording
from tracer.runner.chat_server import DO_NOT_RETRY, ChatServer, HTTPReply, Reply


class RecordedResponder:
    """Answers request k with the run's k-th recorded response; a call that failed in
    the run fails again (HTTP 500); past the last one, a 410 Gone saying so: a client error,
    because clients retry a 500 and this one cannot succeed."""

    def __init__(self, recording: Recording) -> None:
        missing = recording.missing()
        if missing:
            raise ReplayError(
                f"trace {recording.trace_id} was recorded without the model's responses "
                f"for turns {', '.join(map(str, missing[:20]))}, so it cannot be served; "
                "record the run with content capture on"
            )
        self.recording = recording
        self.served = 0
        self.done = threading.Event()  # set once every recorded response went out
        self._lock = threading.Lock()

    def __call__(self, request: dict[str, Any]) -> Reply:
        calls = self.recording.calls
        with self._lock:
            if self.served >= len(calls):
                return HTTPReply(
                    410,
                    f"all {len(calls)} recorded responses of trace {self.recording.trace_id} "
                    "have been served; restart `baton replay serve` to replay again",
                    headers=DO_NOT_RETRY,
                )
            call = calls[self.served]
            self.served += 1
            if self.served == len(calls):
                self.done.set()
        if call.error is not None:
            return HTTPReply(
                500, f"recorded failure of turn {call.turn}: {call.error}", headers=DO_NOT_RETRY
            )
        assert call.response is not None
        return call.response


def serve_recorded(
    recording: Recording, *, host: str = "127.0.0.1", port: int = 0
) -> tuple[ChatServer, RecordedResponder]:
    """A started server answering from ``recording``; stop it with ``server.stop()``."""
    responder = RecordedResponder(recording)
    return ChatServer(responder, host=host, port=port).start(), responder
