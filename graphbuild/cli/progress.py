"""Progress bars on stderr for the library's progress callbacks (``graphbuild.progress``)."""

from __future__ import annotations

import sys
from types import TracebackType

from rich.progress import (
    BarColumn,
    DownloadColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
    TransferSpeedColumn,
)
from rich.progress import Progress as RichProgress
from rich.text import Text

from graphbuild.cli.app import err
from graphbuild.progress import Progress


class _Rate(ProgressColumn):
    """How many of the stage's things per second (``12.5 documents/s``)."""

    def render(self, task: Task) -> Text:
        if task.fields.get("bytes"):
            return TransferSpeedColumn().render(task)
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
            _Count(),
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
            label = _LABELS.get(stage, stage)
            task = self._tasks[stage] = self._bars.add_task(
                f"{self.command}: {label}", total=total, stage=stage, bytes=stage in _BYTE_STAGES
            )
        self._bars.update(task, completed=done, total=total)


# Stages whose name is not the words to show.
_LABELS = {"bytes": "input read", "compacted": "compacting (estimated)", "quads": "quads read"}
# Stages counted in bytes, drawn as sizes and transfer rates.
_BYTE_STAGES = ("bytes", "compacted")


class _Count(ProgressColumn):
    """``1,234/5,678`` for things counted, ``12.3/45.6 MB`` for bytes."""

    def __init__(self) -> None:
        super().__init__()
        self._things = MofNCompleteColumn()
        self._bytes = DownloadColumn()

    def render(self, task: Task) -> Text:
        return (self._bytes if task.fields.get("bytes") else self._things).render(task)
