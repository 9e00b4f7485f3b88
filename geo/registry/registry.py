"""The resource registry: shelters, depots and their inventory, teams, hazards, incidents and
population, kept in a real database (:mod:`geo.registry.database`) with an audit log of every
change.

Every write is one transaction: a record, a batch import, a team assignment with its audit
entry. Team status changes are conditional (``UPDATE ... WHERE status = expected``): of two
dispatchers assigning one team, one wins and the other gets a :class:`ConflictError` carrying
the team's current status. Layers come out as GeoDataFrames in EPSG:4326, indexed by id; an rtree
index per layer answers "what is near here" and is updated in place as records are added,
moved or deleted (never rebuilt, unless another process changed the layer meanwhile).

:class:`Registry` only composes the concerns, one module each: :mod:`~geo.registry.store`
(engine, transactions, audit, revisions), :mod:`~geo.registry.settings` (region, catalogue,
demo mark), :mod:`~geo.registry.records`, :mod:`~geo.registry.teams`,
:mod:`~geo.registry.inventory`, :mod:`~geo.registry.layers` and :mod:`~geo.registry.spatial`.
"""

from __future__ import annotations

from geo.core.standards import ShelterStandards
from geo.registry.accounts import AccountsMixin
from geo.registry.inventory import InventoryMixin
from geo.registry.jobs import JobsMixin
from geo.registry.layers import LayersMixin
from geo.registry.records import RecordsMixin
from geo.registry.settings import REGION_KEY, SettingsMixin
from geo.registry.spatial import SpatialMixin
from geo.registry.store import TABLES, WGS84, Store
from geo.registry.teams import TeamsMixin

# The errors a registry raises are exported by the package (geo.registry) and geo.errors.
__all__ = ["REGION_KEY", "TABLES", "WGS84", "Registry"]


class Registry(TeamsMixin, RecordsMixin, SpatialMixin, InventoryMixin, LayersMixin,
               SettingsMixin, AccountsMixin, JobsMixin, Store):
    """The registry in the database at ``url`` (see :func:`geo.registry.database.resolve_url`).

    ``create=False`` refuses a database that has no registry yet instead of creating one;
    ``busy_timeout`` is how many seconds a write waits for another writer before
    :class:`~geo.errors.BusyError` (default ``$GEO_DB_BUSY_TIMEOUT_S``, else 30)."""

    def __init__(self, url: str | None = None, *, standards: ShelterStandards | None = None,
                 create: bool = True, busy_timeout: float | None = None):
        super().__init__(url, standards=standards, create=create, busy_timeout=busy_timeout)
        if create:
            try:
                self._seed_catalogue()
            except BaseException:
                self.discard()
                raise
