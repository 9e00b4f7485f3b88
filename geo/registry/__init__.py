"""The resource registry: database, schema and vocabularies, the :class:`Registry` façade, and
the demo registry built from real OSM features."""

from geo.errors import (
    ConflictError,
    NotFoundError,
    RecordsRejectedError,
    RowProblem,
    ValidationError,
)
from geo.registry.registry import Registry

__all__ = ["ConflictError", "NotFoundError", "RecordsRejectedError", "Registry", "RowProblem",
           "ValidationError"]
