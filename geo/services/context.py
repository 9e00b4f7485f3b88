"""The application context: what every analysis needs, opened once per process.

A :class:`Context` holds the registry, where the road networks come from (loaded on first use and
kept: memory-mapped from the disk cache), the hazard rules, and the registry layers, cached and
re-read only when a layer's revision changes, so a web request does not re-read and re-parse every
team from SQL. It also holds the checks that stop a silently wrong answer: a registry that does
not exist is an error (never a silent demo), and a registry of one place is never analysed on the
road network of another.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from geo.errors import SourceError, ValidationError
from geo.network.build import DEFAULT_OSM, build_network
from geo.network.model import NetworkSettings, RoadNetwork

if TYPE_CHECKING:
    import geopandas as gpd
    import pandas as pd

    from geo.analysis.barriers import Barriers
    from geo.core.hazard_rules import HazardRules
    from geo.registry import Registry

# Layers whose revision counts every write that changes them, so a cached copy is safe.
T = TypeVar("T")

CACHED_LAYERS = ("shelters", "depots", "inventory", "teams", "hazards", "population",
                 "incidents")


@dataclass(frozen=True)
class NetworkSource:
    """Where the road networks come from: an OSM extract (or GraphML), the build settings and
    the disk cache folder (None: ``$GEO_CACHE_DIR`` or ``~/.cache/emergency-geo``)."""

    osm_path: Path = DEFAULT_OSM
    settings: NetworkSettings = field(default_factory=NetworkSettings)
    cache_dir: Path | None = None


def open_registry(db: str | None = None) -> Registry:
    """The existing registry at ``db`` (a path or URL; default ``$GEO_DB_URL``, else
    ``instance/registry.sqlite``). A missing registry is an error saying how to make one: an
    analysis on a demo nobody asked for would answer for the wrong place."""
    # Imported here: a context without a registry (a route) does not load SQLAlchemy.
    from geo.registry import Registry
    from geo.registry.database import resolve_url

    url = resolve_url(db)
    try:
        return Registry(db, create=False)
    except SourceError as exc:
        if "no registry here" not in str(exc):
            raise
        raise SourceError(
            f"registry: there is no registry at {url}; create the Liechtenstein demo with "
            "`python -m geo registry demo`, or an empty one with `python -m geo registry init` "
            "and import your layers (`python -m geo registry import`); or give --db") from None


class Context:
    """Networks, registry, rules and cached layers for one process (thread-safe)."""

    def __init__(self, registry: Registry | None, *, source: NetworkSource | None = None,
                 rules: HazardRules | None = None, progress: bool = False):
        self.registry = registry
        self.source = source or NetworkSource()
        self._rules = rules
        self.progress = progress
        self._networks: dict[str, RoadNetwork] = {}
        self._layers: dict[str, tuple[int, gpd.GeoDataFrame]] = {}
        self._barriers: dict[str, tuple[int, Barriers]] = {}
        self._items: tuple[int, dict[str, tuple[str, str]]] | None = None
        self._lock = threading.RLock()
        self._local = threading.local()  # revisions pinned by this thread (pinned())
        self._kept: dict[str, Any] = {}
        self._making: dict[str, threading.Lock] = {}

    @classmethod
    def open(cls, *, db: str | None = None, source: NetworkSource | None = None,
             progress: bool = False) -> Context:
        return cls(open_registry(db), source=source, progress=progress)

    @property
    def rules(self) -> HazardRules:
        """The hazard rules: those given, else the shipped table, read on first use (a route
        needs none)."""
        with self._lock:
            if self._rules is None:
                from geo.core.hazard_rules import load_hazard_rules

                self._rules = load_hazard_rules()
            return self._rules

    def close(self) -> None:
        if self.registry is not None:
            self.registry.close()

    def __enter__(self) -> Context:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    # ---- networks -----------------------------------------------------------------------------

    def network(self, mode: str) -> RoadNetwork:
        """The ``mode`` network, built or loaded from the cache on first use, then kept."""
        with self._lock:
            net = self._networks.get(mode)
            if net is None:
                net = build_network(self.source.osm_path, mode=mode,
                                    settings=self.source.settings,
                                    cache_dir=self.source.cache_dir, progress=self.progress)
                if self.registry is not None and (extent := self.registry.extent()):
                    self.require_same_place(net, extent, field="registry",
                                            what_covers=f"{self.registry.url} covers")
                self._networks[mode] = net
            return net

    def loaded_modes(self) -> tuple[str, ...]:
        """The modes whose network is loaded (for a health check)."""
        with self._lock:
            return tuple(self._networks)

    def require_same_place(self, net: RoadNetwork, box, *, field: str, what_covers: str) -> None:
        """Refuse data covering ``box`` (west, south, east, north) that does not overlap the
        network: analysed there, every point would be "unreachable", as if that were an
        answer."""
        if not boxes_overlap(box, net.bounds_lonlat):
            raise ValidationError(
                f"{field}: {what_covers} {describe_box(box)}, but the {net.mode} network of "
                f"{self.source.osm_path.name} covers {describe_box(net.bounds_lonlat)}: they "
                "are different places; give the matching --osm extract or input")

    def cached(self, key: str, factory: Callable[[], T]) -> T:
        """``factory()``, made on first use and kept for this context's life under ``key``.
        Threads asking for one key while it is made wait for it (it is made once); other keys
        and the networks are not held up."""
        with self._lock:
            if key in self._kept:
                return self._kept[key]
            making = self._making.setdefault(key, threading.Lock())
        with making:
            with self._lock:
                if key in self._kept:
                    return self._kept[key]
            made = factory()
            with self._lock:
                self._kept[key] = made
            return made

    # ---- registry layers ----------------------------------------------------------------------

    def layer(self, name: str) -> gpd.GeoDataFrame:
        """Layer ``name`` (EPSG:4326, indexed by id), possibly empty. Callers must not modify
        it: the same frame is handed out until the layer changes."""
        registry = self._require_registry()
        if name not in CACHED_LAYERS:
            return registry.layer(name)
        revision = self._revision(name)
        with self._lock:
            cached = self._layers.get(name)
            if cached is not None and cached[0] == revision:
                return cached[1]
        frame = registry.layer(name)
        with self._lock:
            self._layers[name] = (revision, frame)
        return frame

    def catalogue(self) -> pd.DataFrame:
        """The registry's supply catalogue: ``name_en``, ``name_zh`` and ``unit`` by item."""
        return self._require_registry().catalogue()

    def item_names(self) -> dict[str, tuple[str, str]]:
        """The catalogue's items with their Chinese and English names, to resolve typed ones
        (cached until the catalogue changes)."""
        revision = self._revision("catalogue")
        with self._lock:
            if self._items is not None and self._items[0] == revision:
                return self._items[1]
        found = {str(item): (row["name_zh"], row["name_en"])
                 for item, row in self.catalogue().iterrows()}
        with self._lock:
            self._items = (revision, found)
        return found

    @contextmanager
    def pinned(self) -> Iterator[None]:
        """Within the block, this thread reads the registry's revisions once (one query
        instead of one per layer, and every layer of one answer as of one moment)."""
        if getattr(self._local, "revisions", None) is not None:
            yield
            return
        self._local.revisions = self._require_registry().revisions()
        try:
            yield
        finally:
            self._local.revisions = None

    def _revision(self, name: str) -> int:
        pinned = getattr(self._local, "revisions", None)
        if pinned is not None:
            return pinned[name]
        registry = self._require_registry()
        return registry.revisions()["catalogue"] if name == "catalogue" else registry.revision(
            name)

    def hazard_barriers(self, mode: str) -> Barriers:
        """The registry's active hazards as per-edge arrays of the ``mode`` network, cached until
        the hazards layer changes."""
        from geo.analysis.barriers import hazard_zones, road_barriers

        net = self.network(mode)
        revision = self._revision("hazards")
        with self._lock:
            cached = self._barriers.get(mode)
            if cached is not None and cached[0] == revision:
                return cached[1]
        zones = hazard_zones(self.layer("hazards"), crs=net.crs, rules=self.rules)
        barriers = road_barriers(net, zones)
        with self._lock:
            self._barriers[mode] = (revision, barriers)
        return barriers

    def _require_registry(self) -> Registry:
        if self.registry is None:
            raise ValidationError("registry: this context was opened without a registry")
        return self.registry

    def demo_note(self) -> str | None:
        """A note for every output of a demo registry (None for a real one)."""
        demo = self.registry.demo if self.registry is not None else None
        if not demo:
            return None
        note = demo.get("note") or "demo registry: invented demo values"
        return f"{note} (built from {demo.get('source', 'an OSM extract')})"


def boxes_overlap(a, b, *, margin_deg: float = 0.01) -> bool:
    """Whether two (west, south, east, north) boxes overlap (with a small margin)."""
    return not (a[2] + margin_deg < b[0] or b[2] + margin_deg < a[0]
                or a[3] + margin_deg < b[1] or b[3] + margin_deg < a[1])


def describe_box(box) -> str:
    west, south, east, north = box
    return f"longitude {west:.4f}..{east:.4f}, latitude {south:.4f}..{north:.4f}"
