"""The recording process's side of the SDK conversion process (``tracer.capture.sdk_worker``):
starting it, sending it batches of ended traces, and taking back what it could not write.

A batch is kept here until the process acknowledges it (its segments are on the disk).
If the process dies first, or cannot write a batch, the batch comes back from
``take_returned`` and the caller converts it itself; a batch written and then returned
only makes a second segment of the same spans, which the absorb stores once. If this
process dies, the helper still reads and writes what was sent.
"""

from __future__ import annotations

import contextlib
import logging
import os
import subprocess
import sys
import threading
import time
from typing import Any

from tracer.capture.sdk_worker import READY, Settings, encode, read_ack

logger = logging.getLogger("baton.agents_sdk")

#: ``(store path, capture_content, [TraceBuffer.fields()])``: one segment's traces.
Group = tuple[str, bool, list[Any]]


def can_start() -> bool:
    """Whether this process knows a Python interpreter to start: an embedding program's
    ``sys.executable`` (a server binary, or empty) would not run ``-m`` as Python does."""
    name = os.path.basename(sys.executable or "").lower()
    return name.startswith(("python", "pypy"))


class ConversionProcess:
    """One helper process, fed through its stdin and acknowledging on its stdout."""

    def __init__(self) -> None:
        # The child imports the very modules this process converts with: its path is this
        # process's, and ``-P`` keeps the working directory from coming first.
        paths = [entry or os.getcwd() for entry in sys.path if isinstance(entry, str)]
        self._process = subprocess.Popen(
            [sys.executable, "-P", "-m", "tracer.capture.sdk_worker"],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            env={**os.environ, "PYTHONPATH": os.pathsep.join(paths)},
        )
        self._owner = os.getpid()  # a forked child must not write into the same pipe
        self._changed = threading.Condition()
        self._send_lock = threading.Lock()
        self._ready = False
        self._gone = False
        self._closing = False
        self._next_id = READY + 1
        self._unacked: dict[int, Any] = {}  # batch id -> what the caller gets back
        self._returned: list[Any] = []
        self.batches_sent = 0
        self._reader = threading.Thread(target=self._read_acks, name="baton-sdk-acks", daemon=True)
        self._reader.start()

    @property
    def pid(self) -> int:
        return self._process.pid

    def usable(self) -> bool:
        """Whether batches can go to it now (it has started and is alive)."""
        with self._changed:
            return self._ready and not self._gone and os.getpid() == self._owner

    def send(self, settings: Settings, groups: list[Group], keep: Any) -> bool:
        """Send ``groups`` as one batch; ``keep`` comes back from ``take_returned`` if the
        process does not write it. False (nothing sent) when the process is not usable or
        a value is not one marshal carries exactly."""
        if not self.usable():
            return False
        with self._send_lock:
            with self._changed:
                batch_id = self._next_id
            try:
                frame = encode(batch_id, settings, groups)
            except ValueError:
                return False
            with self._changed:
                self._next_id += 1
                self._unacked[batch_id] = keep
            stdin = self._process.stdin
            assert stdin is not None
            try:
                stdin.write(frame)
                stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                self._lost()
                return True  # the batch is in ``_returned`` now
        self.batches_sent += 1
        return True

    def take_returned(self) -> list[Any]:
        """The batches the process will not write (it died, or could not), to convert here."""
        with self._changed:
            returned, self._returned = self._returned, []
            return returned

    def wait(self, timeout: float) -> bool:
        """Wait until every batch sent is acknowledged or returned; False on timeout."""
        deadline = time.monotonic() + timeout
        with self._changed:
            while self._unacked and not self._gone:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._changed.wait(left)
            return True

    def close(self, timeout: float) -> None:
        """End its input, let it write what it has and exit; stopped (and its batches
        returned) if it takes longer than ``timeout`` seconds."""
        if os.getpid() != self._owner:
            return  # a forked copy: the process belongs to the parent
        with self._changed:
            self._closing = True
            if not self._ready:  # still starting: it was sent nothing, so it has nothing
                self._process.kill()
        with self._send_lock:
            stdin = self._process.stdin
            if stdin is not None and not stdin.closed:
                with contextlib.suppress(OSError):
                    stdin.close()
        try:
            self._process.wait(timeout)
        except subprocess.TimeoutExpired:
            logger.warning("baton's SDK conversion process did not finish; stopping it")
            self._process.kill()
            self._process.wait()
        self._reader.join(timeout=10)
        if not self._reader.is_alive() and self._process.stdout is not None:
            self._process.stdout.close()
        self._lost()

    def _read_acks(self) -> None:
        stdout = self._process.stdout
        assert stdout is not None
        while (ack := read_ack(stdout)) is not None:
            batch_id, written = ack
            with self._changed:
                if batch_id == READY:
                    self._ready = True
                else:
                    kept = self._unacked.pop(batch_id, None)
                    if not written and kept is not None:
                        self._returned.append(kept)
                self._changed.notify_all()
        if not self._ready and not self._closing:
            logger.warning("baton's SDK conversion process did not start; converting here")
        self._lost()

    def _lost(self) -> None:
        """The process is gone: what it had not acknowledged comes back."""
        with self._changed:
            self._gone = True
            self._returned.extend(self._unacked.values())
            self._unacked.clear()
            self._changed.notify_all()
