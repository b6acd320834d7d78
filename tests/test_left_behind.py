"""The session's check for processes the tests left running sees them, however started."""

import os
import subprocess
import sys

from .conftest import SESSION_MARK, _marked_processes


def test_a_process_left_running_is_named_and_one_that_ended_is_not():
    mark = os.environ[SESSION_MARK]
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    try:
        assert sleeper.pid in _marked_processes(mark)
        assert "time.sleep(600)" in _marked_processes(mark)[sleeper.pid]
    finally:
        sleeper.kill()
        sleeper.wait()
    assert sleeper.pid not in _marked_processes(mark)


def test_an_orphan_keeps_the_mark_of_the_suite_that_started_it():
    """A grandchild whose parent has exited (reparented to init) is still found."""
    mark = os.environ[SESSION_MARK]
    started = subprocess.run(
        [sys.executable, "-c",
         "import subprocess, sys; p = subprocess.Popen([sys.executable, '-c', "
         "'import time; time.sleep(600)'], stdout=subprocess.DEVNULL, "
         "stderr=subprocess.DEVNULL); print(p.pid)"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    orphan = int(started.stdout)
    try:
        assert orphan in _marked_processes(mark)
    finally:
        os.kill(orphan, 9)
