"""``verity`` and ``python -m service``: signals are caught before anything heavy is imported,
so that Ctrl-C and SIGTERM end the command with 130 and 143 in every phase (lifecycle.py)."""

import sys

from .lifecycle import run


def _main() -> int:
    from .cli import main

    return main()


def entry() -> int:
    return run(_main)


if __name__ == "__main__":
    sys.exit(entry())
