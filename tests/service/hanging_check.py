"""A check that hangs the way a decoder stuck in C code does, for the test of the worker's hard
time limit (test_queue.py loads it in the worker through VERITY_CHECK_MODULES, never in the test
process, where it would join every analysis). It hangs only on videos as wide as
VERITY_TEST_HANG_WIDTH says, so that the jobs queued behind one can finish."""

import os
import signal
import time

from detector.phrase import phrase
from detector.registry import Check, register_check

HANGING_WIDTH = int(os.environ.get("VERITY_TEST_HANG_WIDTH", "0"))


@register_check("test_hang")
class Hang(Check):
    def run(self, media):
        if media.info.width == HANGING_WIDTH:
            # Celery's soft time limit is a signal (SIGUSR1); code stuck in C never sees it
            signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGUSR1})
            while True:
                time.sleep(60)
        return self.evidence("no_signal", phrase("did not hang"))
