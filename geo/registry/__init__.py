"""The resource registry: database, schema and vocabularies, the :class:`Registry` façade, and
the demo registry built from real OSM features."""

from geo.errors import (
    BusyError,
    ConflictError,
    NotFoundError,
    RecordsRejectedError,
    RowProblem,
    ValidationError,
)
from geo.registry.registry import Registry

__all__ = ["BusyError", "ConflictError", "NotFoundError", "RecordsRejectedError", "Registry",
           "RowProblem", "ValidationError"]
