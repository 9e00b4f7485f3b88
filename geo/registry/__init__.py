"""The resource registry: database, schema and vocabularies, the :class:`Registry` façade, and
the demo registry built from real OSM features. :class:`Registry` is imported on first use
(:mod:`geo.core.lazy`), so that ``from geo.registry import database`` loads the database alone."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
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
__getattr__, __dir__ = lazy_exports(__name__, {
    "geo.errors": ["BusyError", "ConflictError", "NotFoundError", "RecordsRejectedError",
                   "RowProblem", "ValidationError"],
    "geo.registry.registry": ["Registry"],
})
