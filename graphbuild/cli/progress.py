"""Progress bars on stderr for the library's progress callbacks (``graphbuild.progress``)."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.progress import BarColumn, MofNCompleteColumn, ProgressColumn, Task, TaskID, TextColumn, TimeRemainingColumn
from rich.progress import Progress as RichProgress
from rich.text import Text

from graphbuild.cli.app import err
from graphbuild.progress import Progress


class _Rate(ProgressColumn):
    """How many of the stage's things per second (``12.5 documents/s``)."""

    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text("" if speed is None else f"{speed:,.1f} {task.fields.get('stage', '')}/s")


class ProgressBars:
    """One bar per stage the library reports, with counts, a rate and an ETA, drawn on stderr only
    when it is a terminal and the command is not quiet.

    ``with ProgressBars("ingest") as progress:`` gives the callback to pass on (None when
    nothing is drawn); the bars vanish when the block ends, before the summary line.
    """

    def __init__(self, command: str, *, quiet: bool = False) -> None:
        self.command = command
        self.enabled = not quiet and sys.stderr.isatty()
        self._bars = RichProgress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            _Rate(),
            TimeRemainingColumn(),
            console=err,
            transient=True,
        )
        self._tasks: dict[str, TaskID] = {}

    def __enter__(self) -> Progress | None:
        if not self.enabled:
            return None
        self._bars.start()
        return self._advance

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, trace: TracebackType | None) -> None:
        if self.enabled:
            self._bars.stop()

    def _advance(self, stage: str, done: int, total: int | None) -> None:
        task = self._tasks.get(stage)
        if task is None:
            task = self._tasks[stage] = self._bars.add_task(f"{self.command}: {stage}", total=total, stage=stage)
        self._bars.update(task, completed=done, total=total)
