"""Setup's warm-up compiles every loop a service area runs (its search too): afterwards, service
areas on another region (walking and driving, band and filled, with blocks and factors, large
outlines) compile nothing. Each step runs in a fresh interpreter on its own empty numba cache."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Service areas on Liechtenstein, then the compiled loops' cache hits and misses (a miss is a
# compilation).
USE_AND_COUNT = """
import importlib, json, sys
from pathlib import Path
import numpy as np
from geo.analysis.service_areas import service_areas
from geo.network.build import DEFAULT_OSM, build_network
from geo.routing.costs import RoadEffects
for mode in ("walk", "drive"):
    net = build_network(DEFAULT_OSM, mode=mode, cache_dir=Path(sys.argv[1]))
    block = RoadEffects(geom=[5], start=[0.1], end=[0.3], factor=[np.inf])
    for form in ("band", "filled"):
        for extra in ({}, {"effects": block, "cost_scale": np.full(net.n_edges, 1.2)}):
            service_areas(net, ([9.5209], [47.1410]), breaks=[300, 600, 900], form=form,
                          **extra)
hits = misses = 0
for name in ("analysis.grid_kernel", "analysis.stretch_kernel", "analysis.lonlat_fit",
             "routing.compiled_search"):
    module = importlib.import_module("geo." + name)
    for value in vars(module).values():
        if hasattr(value, "stats") and hasattr(value, "signatures"):
            hits += sum(value.stats.cache_hits.values())
            misses += sum(value.stats.cache_misses.values())
print(json.dumps({"hits": hits, "misses": misses}))
"""


def run(code: list[str], numba_cache: Path) -> str:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(numba_cache)}
    result = subprocess.run([sys.executable, *code], cwd=ROOT, env=env, capture_output=True,
                            text=True, check=False, timeout=900)
    assert result.returncode == 0, result.stderr
    return result.stdout


@pytest.mark.slow
def test_after_the_warm_up_service_areas_compile_nothing(tmp_path, cache_dir, li_walk, li_drive):
    numba_cache = tmp_path / "numba"
    run(["-m", "geo.analysis.warm_up"], numba_cache)
    counts = json.loads(run(["-c", USE_AND_COUNT, str(cache_dir)], numba_cache).splitlines()[-1])
    assert counts["hits"] >= 6  # the loops were loaded from the warm-up's cache
    assert counts["misses"] == 0
