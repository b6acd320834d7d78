"""How Verity's commands end, and how the processes they start end with them.

Every command runs through ``run``: Ctrl-C (SIGINT) ends it with 130 and SIGTERM with 143, the
shell's 128 + signal number, in every phase: start-up (the handlers are set before the heavy
imports), work, writing outputs, and the interpreter's own shutdown. A script that runs
``verity scan`` can then trust exit 0 to mean the archive was checked. A signal raises an
exception in the main thread (KeyboardInterrupt, or ``Terminated``), so ``finally`` blocks run:
the scan records what it finished, ``serve`` stops its worker.

A process Verity starts never outlives it: ``detector.settings.die_with_parent`` asks Linux to
signal the calling process when its parent dies (``prctl(PR_SET_PDEATHSIG)``), which scan and
training workers and the embedded worker call first thing. ``stop_process`` ends a child
politely, then by force.

``pause_here(phase)`` is how tests interrupt a command at a chosen phase without timing: with
``VERITY_PAUSE_AT=phase`` the command says so on standard error and waits for a signal there.
Only the standard library is imported here.
"""

import atexit
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable

EXIT_ON = {signal.SIGINT: 130, signal.SIGTERM: 143}
PAUSE_ENV = "VERITY_PAUSE_AT"


class Terminated(BaseException):
    """SIGTERM, raised in the main thread as Ctrl-C raises KeyboardInterrupt."""


_received: list[int] = []  # every SIGINT and SIGTERM, in order
_unsignalled_exit = False  # run() settled on main's own exit code, no signal having come


def _raise(signum: int, frame) -> None:
    _received.append(signum)
    raise KeyboardInterrupt if signum == signal.SIGINT else Terminated


def _record(signum: int, frame) -> None:
    _received.append(signum)


def catch_signals() -> None:
    """From now on SIGINT raises KeyboardInterrupt and SIGTERM raises Terminated."""
    for signum in EXIT_ON:
        signal.signal(signum, _raise)


def run(main: Callable[[], int | None]) -> int:
    """``main()``'s exit code, or 130 / 143 if a signal came at any point, even after it
    returned; what ``sys.exit`` is to be given."""
    global _unsignalled_exit
    atexit.register(_exit_if_signalled_late)  # registered first, so it runs last
    catch_signals()
    try:
        code = main() or 0
    except KeyboardInterrupt:
        code = EXIT_ON[signal.SIGINT]
    except Terminated:
        code = EXIT_ON[signal.SIGTERM]
    finally:
        for signum in EXIT_ON:
            signal.signal(signum, _record)  # shutdown goes on; a late signal still counts
    if _received:
        return EXIT_ON[_received[0]]
    _unsignalled_exit = True
    pause_here("exit")
    return code


def _exit_if_signalled_late() -> None:
    """At the very end of the interpreter's shutdown: a signal that came after the exit code
    was decided (while pools and threads were joined) still makes it 130 or 143."""
    if _unsignalled_exit and _received:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(EXIT_ON[_received[0]])


def pause_here(phase: str) -> None:
    """With VERITY_PAUSE_AT=phase, say so on standard error and wait for a signal (tests)."""
    if os.environ.get(PAUSE_ENV) == phase:
        received = len(_received)  # counted before saying so: the signal may follow at once
        print(f"verity: paused at {phase}", file=sys.stderr, flush=True)
        while len(_received) == received:
            time.sleep(0.05)  # not signal.pause(): a signal between the test and it is lost


def stop_process(process: subprocess.Popen, grace_s: float) -> int:
    """SIGTERM, up to ``grace_s`` seconds to finish, then SIGKILL; the exit status."""
    if process.poll() is None:
        process.terminate()
        try:
            return process.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            process.kill()
    return process.wait()
