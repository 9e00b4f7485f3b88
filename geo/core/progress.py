"""Progress bars for long work, shown only on a terminal (never in logs, pipes or tests)."""

from __future__ import annotations

import sys
from collections.abc import Callable

from tqdm import tqdm


def on_terminal() -> bool:
    return sys.stderr.isatty()


class Stages:
    """A bar over the named stages of one job: ``stages.next("simplify")`` advances it."""

    def __init__(self, total: int, *, description: str, enabled: bool):
        self._bar = tqdm(total=total, desc=description, disable=not enabled, file=sys.stderr,
                         leave=False, bar_format="{desc} [{n_fmt}/{total_fmt}] {postfix}")

    def next(self, name: str) -> None:
        self._bar.set_postfix_str(name)
        self._bar.update(1)

    def close(self) -> None:
        self._bar.close()


def row_progress(description: str, *, enabled: bool | None = None) -> Callable:
    """A wrapper ``wrap(items, total=None)`` that shows a bar over rows (an import's checks),
    on a terminal by default."""
    show = on_terminal() if enabled is None else enabled

    def wrap(items, total=None):
        return tqdm(items, total=total, desc=description, disable=not show, file=sys.stderr,
                    mininterval=0.5, leave=False)

    return wrap


class Status:
    """A one-line status for work of unknown length (a solver): the latest message and the time
    spent, on a terminal only."""

    def __init__(self, description: str, *, enabled: bool):
        self._bar = tqdm(total=None, desc=description, disable=not enabled, file=sys.stderr,
                         leave=False, bar_format="{desc}: {postfix} [{elapsed}]")

    def say(self, message: str) -> None:
        self._bar.set_postfix_str(message)
        self._bar.update(0)  # redraw now, not at the next tick

    def close(self) -> None:
        self._bar.close()
