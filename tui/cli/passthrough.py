"""Running a command as if baton were not there: its stdin, stdout and stderr are ours,
signals sent to us reach it, and we end the way it ended.

A signal the terminal sends (Ctrl-C's SIGINT, Ctrl-\\'s SIGQUIT) goes to the whole
foreground process group, the command included, so it is not forwarded a second time
when our group is the terminal's foreground; sent to us alone (``kill``, no terminal), it
is forwarded. SIGTERM, SIGHUP, SIGUSR1 and SIGUSR2 are always forwarded. Until we exit,
none of them ends us early: whatever the command recorded is stored first.
"""

from __future__ import annotations

import contextlib
import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from types import FrameType

FORWARDED = (signal.SIGTERM, signal.SIGHUP, signal.SIGUSR1, signal.SIGUSR2)
FROM_TERMINAL = (signal.SIGINT, signal.SIGQUIT)


class CannotRun(Exception):
    """The command could not be started; ``code`` is the exit status a shell gives."""

    def __init__(self, message: str, code: int) -> None:
        super().__init__(message)
        self.code = code


class Child:
    """The command's process, once started, and the signals that came before it was."""

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.early: list[int] = []

    def deliver(self, signum: int) -> None:
        if self.process is None:
            self.early.append(signum)
        elif self.process.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signum)


@contextmanager
def signals_passed_to(child: Child) -> Iterator[None]:
    """While the block runs, the signals above go to ``child`` rather than end us."""

    def handle(signum: int, frame: FrameType | None) -> None:
        if signum in FROM_TERMINAL and _terminal_sends_to_our_group():
            return  # the command had it from the terminal already
        child.deliver(signum)

    previous: dict[int, Callable[[int, FrameType | None], object] | int | None] = {
        sig: signal.signal(sig, handle) for sig in (*FORWARDED, *FROM_TERMINAL)
    }
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def start(child: Child, argv: Sequence[str], env: Mapping[str, str]) -> None:
    """Start ``argv`` with ``env`` and our standard streams, into ``child``."""
    try:
        child.process = subprocess.Popen(list(argv), env=dict(env))
    except FileNotFoundError as exc:
        raise CannotRun(_not_found(argv[0], env), 127) from exc
    except PermissionError as exc:
        raise CannotRun(f"{argv[0]}: Permission denied", 126) from exc
    except OSError as exc:  # not an executable format, and the like
        raise CannotRun(f"{argv[0]}: {exc.strerror or exc}", 126) from exc
    for signum in child.early:
        child.deliver(signum)


def wait(child: Child) -> int:
    """The command's exit status as ``subprocess`` gives it (-N: killed by signal N)."""
    assert child.process is not None
    return child.process.wait()


def exit_like(returncode: int) -> None:
    """End this process as the command ended: the same exit status, or the same signal
    (so a shell sees, say, a Ctrl-C'd command and stops a script)."""
    sys.stdout.flush()
    sys.stderr.flush()
    if returncode >= 0:
        os._exit(returncode)
    signum = -returncode
    with contextlib.suppress(ValueError, OSError):  # no core file of ours for its crash
        _, hard = resource.getrlimit(resource.RLIMIT_CORE)
        resource.setrlimit(resource.RLIMIT_CORE, (0, hard))
    with contextlib.suppress(OSError, ValueError):
        signal.signal(signum, signal.SIG_DFL)
        signal.pthread_sigmask(signal.SIG_UNBLOCK, {signum})
        os.kill(os.getpid(), signum)
    os._exit(128 + signum)  # a signal that does not end a process by default


def _not_found(command: str, env: Mapping[str, str]) -> str:
    """What bash says."""
    if os.sep in command:
        if os.path.exists(command):  # the script's interpreter is missing
            return f"{command}: cannot execute: required file not found"
        return f"{command}: No such file or directory"
    if shutil.which(command, path=env.get("PATH", os.defpath)):
        return f"{command}: cannot execute: required file not found"
    return f"{command}: command not found"


def _terminal_sends_to_our_group() -> bool:
    """Whether our process group is the foreground group of our controlling terminal."""
    for fd in (0, 1, 2):
        try:
            return os.tcgetpgrp(fd) == os.getpgrp()
        except OSError:
            continue
    try:
        fd = os.open("/dev/tty", os.O_RDONLY | os.O_NOCTTY)
    except OSError:
        return False  # no terminal: the signal was sent to us
    try:
        return os.tcgetpgrp(fd) == os.getpgrp()
    except OSError:
        return False
    finally:
        os.close(fd)
