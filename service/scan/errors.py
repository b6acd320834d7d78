"""The one error a scan raises."""


class ScanError(Exception):
    """The scan itself cannot run (not one file's problem): a missing folder, an unreachable
    bucket or service, a refused key."""
