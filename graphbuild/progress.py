"""The one progress callback every long-running library call takes.

``progress(stage, done, total)``: ``stage`` names what is being counted (``"documents"``,
``"resources"``…), ``done`` how many so far, ``total`` how many in all, or None while
unknown. Calls are cheap to make and may come often; a caller that draws a bar decides how
often to redraw.
"""

from __future__ import annotations

from collections.abc import Callable

__all__ = ["Progress", "silent"]

Progress = Callable[[str, int, "int | None"], None]


def silent(stage: str, done: int, total: int | None) -> None:
    """A progress callback that shows nothing."""
