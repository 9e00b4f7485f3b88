"""The application context: layers and hazard barriers cached by revision, demo registries
marked in every output."""

import json
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import shapely

from geo import services
from geo.errors import SourceError
from geo.registry import Registry
from geo.registry.demo import build_demo
from geo.services import Context, NetworkSource
from tests.conftest import LIECHTENSTEIN


def test_layers_are_read_once_until_they_change(make_context, li_drive):
    ctx = make_context(li_drive, ("teams", "hazards"))
    first = ctx.layer("teams")
    assert ctx.layer("teams") is first
    ctx.registry.set_team_status("T0", "assigned", expected="available")
    changed = ctx.layer("teams")
    assert changed is not first and changed.loc["T0", "status"] == "assigned"
    assert first.loc["T0", "status"] == "available"


def test_depot_stock_is_read_again_after_a_change(make_context, li_drive):
    ctx = make_context(li_drive, ("depots",))
    first = ctx.layer("inventory")
    assert ctx.layer("inventory") is first
    ctx.registry.adjust_stock("D0", "water", -50.0)
    assert ctx.layer("inventory").loc["D0/water", "quantity"] == 150.0
    sent = services.dispatch(ctx, at=(9.5209, 47.1410), k=1, items={"water": 600},
                             shelters_k=0)
    assert sent.supplies["shortfall"] == {"water": 50.0}


def test_hazard_barriers_are_cached_and_follow_new_hazards(make_context, li_drive):
    ctx = make_context(li_drive, ("teams", "hazards"))
    before = ctx.hazard_barriers("drive")
    assert ctx.hazard_barriers("drive") is before
    ctx.registry.add("hazards", {"id": "H2", "type": "landslide", "radius_m": 60.0,
                                 "geometry": shapely.Point(9.5762202, 47.1126565)})
    after = ctx.hazard_barriers("drive")
    assert len(after.effects) > len(before.effects)


def test_every_output_of_a_demo_registry_says_so(tmp_path, cache_dir):
    path = tmp_path / "demo.sqlite"
    with Registry(str(path)) as registry:
        build_demo(registry)
    with Context.open(db=str(path),
                      source=NetworkSource(LIECHTENSTEIN, cache_dir=cache_dir)) as ctx:
        results = [services.dispatch(ctx, at=(9.5209, 47.1410), k=1),
                   services.coverage(ctx, breaks_s=[300.0]),
                   services.service_areas(ctx, layer="depots", breaks_s=[120.0]),
                   services.exposure(ctx)]
        for result in results:
            assert result.notes[0].startswith("demo registry:")
            assert result.notes[0].endswith("(built from liechtenstein.osm.pbf)")
            assert result.to_dict()["notes"][0] == result.notes[0]
            json.dumps(result.to_dict(), allow_nan=False)  # plain JSON values only
            features = result.features()
            assert features.crs == "EPSG:4326" and len(features) > 0


def test_a_real_registry_carries_no_demo_note(make_context, li_drive):
    ctx = make_context(li_drive, ("teams",))
    result = services.dispatch(ctx, at=(9.5209, 47.1410), k=1, shelters_k=0)
    assert not any("demo" in note for note in result.notes)


def test_a_kept_value_is_made_once_however_many_threads_ask(tmp_path):
    ctx = Context(None, source=NetworkSource(LIECHTENSTEIN, cache_dir=tmp_path))
    made = []
    started = threading.Barrier(8)

    def factory():
        made.append(1)
        time.sleep(0.05)  # long enough for every other thread to be waiting
        return object()

    def ask():
        started.wait()
        return ctx.cached("thing", factory)

    with ThreadPoolExecutor(8) as pool:
        got = list(pool.map(lambda _: ask(), range(8)))
    assert len(made) == 1 and all(value is got[0] for value in got)
    assert ctx.cached("other", lambda: 2) == 2  # keys are independent


def test_a_failed_factory_is_tried_again(tmp_path):
    ctx = Context(None, source=NetworkSource(LIECHTENSTEIN, cache_dir=tmp_path))

    def fails():
        raise SourceError("broken")

    with pytest.raises(SourceError):
        ctx.cached("thing", fails)
    assert ctx.cached("thing", lambda: 3) == 3
