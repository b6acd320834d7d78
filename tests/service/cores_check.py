"""A check that tells which cores and how many threads its analysis may use, for the test that
a scan's workers share the machine out (test_scan.py loads it through Settings.check_modules)."""

import os

from detector.phrase import phrase
from detector.registry import Check, register_check


@register_check("test_cores")
class Cores(Check):
    def run(self, media):
        cores = sorted(os.sched_getaffinity(0))
        details = {"cores": cores, "threads": self.settings.threads, "pid": os.getpid()}
        return self.evidence("no_signal", phrase("counted"), details=details)
