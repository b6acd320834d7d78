"""The processes that compute features and cut crops end with the command that started them."""

import os
import signal
import subprocess
import sys
import time

import pytest

from tests.processes import alive

from .conftest import require_torch

# A stand-in for `verity train`: starts the training worker pool, says its worker's pid, waits.
PARENT = """
import os, sys, time
from training.features import worker_pool
pool = worker_pool(1)
print(pool.submit(os.getpid).result(), flush=True)
time.sleep(120)
"""


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="PR_SET_PDEATHSIG is Linux's")
def test_a_worker_dies_with_its_killed_command():
    require_torch()
    parent = subprocess.Popen([sys.executable, "-c", PARENT], stdout=subprocess.PIPE, text=True)
    worker = 0
    try:
        worker = int(parent.stdout.readline())
        assert alive(worker)
        parent.kill()  # SIGKILL: no cleanup of its own runs
        parent.wait()
        deadline = time.monotonic() + 10
        while alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not alive(worker)
    finally:
        parent.kill()
        parent.wait()
        parent.stdout.close()
        if worker and alive(worker):
            os.kill(worker, signal.SIGKILL)
