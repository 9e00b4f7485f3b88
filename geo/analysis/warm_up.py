"""Compile the service areas' loops ahead of their first use: ``python -m geo.analysis.warm_up``.

numba compiles them on the first call after an install (about 20 s on a slow machine) and keeps
the machine code beside their modules for every later process. Setup (``scripts/setup.sh``, the
Dockerfile) runs this, so that a planner's first service area does not wait for it. It draws
small areas on the Monaco extract shipped in the package through the same code path as any
other call (band and filled, plain costs and with a block, a slowed stretch and whole-edge
factors), so the machine code kept is the code later calls run.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np


def compile_loops() -> None:
    from geo.analysis.lonlat_fit import MIN_VERTICES, lonlat
    from geo.analysis.service_areas import FORMS, service_areas
    from geo.core.resources import MONACO_OSM, data_path
    from geo.network.build import build_network
    from geo.routing.costs import RoadEffects

    with tempfile.TemporaryDirectory(prefix="geo-warm-up-") as folder:
        net = build_network(data_path(MONACO_OSM), mode="walk", cache_dir=Path(folder))
        lon, lat = np.asarray(net.node_lonlat)[0]
        effects = RoadEffects(geom=np.array([0, 1]), start=np.array([0.2, 0.0]),
                              end=np.array([0.4, 1.0]), factor=np.array([np.inf, 2.0]))
        for form in FORMS:
            service_areas(net, ([lon], [lat]), breaks=[60.0, 120.0], form=form)
            service_areas(net, ([lon], [lat]), breaks=[60.0, 120.0], form=form, effects=effects,
                          cost_scale=np.full(net.n_edges, 1.5))
        # Monaco's areas have too few vertices for the fitted reprojection: as many as it needs.
        xy = np.resize(np.asarray(net.geom_xy, dtype=float), (MIN_VERTICES, 2))
        lonlat(net.to_lonlat.transform, xy)


if __name__ == "__main__":
    compile_loops()
