"""A scan's progress bar on the terminal: counts of done, failed and skipped files, and an ETA."""

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn


class ScanProgress:
    def __init__(self, console: Console):
        self._bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn(
                "done {task.fields[done]} · failed {task.fields[failed]} · "
                "skipped {task.fields[skipped]}"
            ),
            TimeRemainingColumn(),
            console=console,
            disable=not console.is_terminal,
        )
        self._task = None

    def __enter__(self) -> "ScanProgress":
        self._bar.start()
        self._task = self._bar.add_task("scanning", total=None, done=0, failed=0, skipped=0)
        return self

    def __exit__(self, *exc) -> None:
        self._bar.stop()

    def update(self, event: str, counts: dict[str, int]) -> None:
        if event == "total":
            self._bar.update(self._task, total=counts["files"])
            return
        self._bar.update(
            self._task,
            completed=sum(counts.values()),
            done=counts.get("done", 0),
            failed=counts.get("failed", 0),
            skipped=counts.get("skipped", 0),
        )
