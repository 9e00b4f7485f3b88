"""Public exceptions of the spatial core.

Every error a user can cause by bad input derives from :class:`GeoError`, so the CLI and the web
layer can turn it into a one-line message (or an HTTP 4xx) without a traceback.
"""


class GeoError(Exception):
    """Base class of every error the spatial core raises on purpose."""


class ValidationError(GeoError, ValueError):
    """An argument or an input field has a bad value; the message names the field."""


class SourceError(GeoError, OSError):
    """An input file is missing, unreadable, truncated or of an unknown format."""


class NoRoadsError(GeoError, ValueError):
    """A valid source holds no roads usable by the requested mode."""


class PointError(ValidationError):
    """A point cannot be used: outside the network's extent, or too far from any routable road."""


class ConflictError(GeoError):
    """A conditional update lost: the record is no longer in the state the caller expected."""

    def __init__(self, message: str, *, current: object = None):
        super().__init__(message)
        self.current = current
