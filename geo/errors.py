"""Public exceptions of the spatial core.

Every error a user can cause by bad input derives from :class:`GeoError`, so the CLI and the web
layer can turn it into a one-line message (or an HTTP 4xx) without a traceback.
"""

from collections.abc import Sequence
from dataclasses import dataclass


class GeoError(Exception):
    """Base class of every error the spatial core raises on purpose."""


class ValidationError(GeoError, ValueError):
    """An argument or an input field has a bad value; the message names the field.
    ``field_problems``: each (field, problem) when a record had several (a form shows each
    next to its field)."""

    def __init__(self, message: str, *, problems: tuple[tuple[str, str], ...] = ()):
        super().__init__(message)
        self.field_problems = tuple(problems)


class SourceError(GeoError, OSError):
    """An input file is missing, unreadable, truncated or of an unknown format."""


class NoRoadsError(GeoError, ValueError):
    """A valid source holds no roads usable by the requested mode."""


class PointError(ValidationError):
    """A point cannot be used: outside the network's extent, or too far from any routable road."""


class ConflictError(GeoError):
    """A conditional update lost: the record is no longer in the state the caller expected."""

    def __init__(self, message: str, *, current: object = None, holder: dict | None = None):
        super().__init__(message)
        self.current = current
        self.holder = holder  # who holds the record now (a team: its open assignment)


class PreconditionError(GeoError):
    """An edit based on a copy of a record that someone else changed since (an HTTP 412):
    ``current`` is the record's tag now."""

    def __init__(self, message: str, *, current: str | None = None):
        super().__init__(message)
        self.current = current


class BusyError(GeoError):
    """Another writer held the database longer than a write may wait: nothing was written;
    trying again shortly will do (an HTTP 503)."""


class NotFoundError(ValidationError):
    """No record with that id in that layer."""


@dataclass(frozen=True)
class RowProblem:
    """One problem of one input row: its label (a file line, a feature number), field, problem."""

    row: object
    field: str
    problem: str

    def __str__(self) -> str:
        return f"row {self.row}: {self.field}: {self.problem}"


class RecordsRejectedError(ValidationError):
    """A batch had bad rows; nothing was written. ``problems`` lists every one."""

    def __init__(self, layer: str, problems: Sequence[RowProblem], *, total: int):
        self.problems = list(problems)
        rows = len({p.row for p in self.problems})
        shown = "; ".join(str(p) for p in self.problems[:3])
        more = f"; and {len(self.problems) - 3} more" if len(self.problems) > 3 else ""
        super().__init__(f"{layer}: {len(self.problems)} problem(s) in {rows} of {total} row(s), "
                         f"nothing imported: {shown}{more}")
