"""PostGIS on a real PostgreSQL server: the extension created with the registry, geometry
columns kept in step with the records, and GiST indexes that the spatial queries use."""

from __future__ import annotations

import pytest
import shapely
from sqlalchemy import text

from geo.errors import SourceError
from geo.registry import database as db
from geo.registry import postgis
from geo.registry.registry import Registry
from geo.registry.spatial_index import degree_box

pytestmark = pytest.mark.postgres

VADUZ = (9.5209, 47.1410)
FEATURE_TABLES = [table.name for table in db.FEATURE_TABLES]


def test_a_new_registry_creates_postgis_and_a_gist_index_per_feature_table(empty_postgres_url):
    with pytest.raises(SourceError, match="no registry here"):
        Registry(empty_postgres_url, create=False)
    with Registry(empty_postgres_url) as registry, registry.engine.connect() as conn:
        assert conn.execute(text("SELECT extname FROM pg_extension WHERE extname = 'postgis'"
                                 )).scalar() == "postgis"
        indexes = dict(conn.execute(text("SELECT indexname, indexdef FROM pg_indexes "
                                         "WHERE indexname LIKE '%_geom_gist'")).all())
        assert conn.execute(text("SHOW transaction_isolation")).scalar() == "read committed"
    assert sorted(indexes) == sorted(postgis.index_name(t) for t in FEATURE_TABLES)
    assert all("USING gist (geom)" in definition for definition in indexes.values())
    with Registry(empty_postgres_url, create=False) as again:  # opened, not created twice
        assert again.counts()["teams"] == 0


def test_geometries_round_trip_and_their_postgis_column_follows_every_write(postgres_url):
    area = shapely.Polygon([(9.52, 47.14), (9.53, 47.14), (9.53, 47.15), (9.52, 47.14)])
    line = shapely.LineString([(9.49, 47.05), (9.55, 47.10), (9.56, 47.12)])
    with Registry(postgres_url) as registry:
        registry.add("shelters", {"id": "S1", "shelter_class": "emergency",
                                  "capacity_people": 10, "geometry": area})
        registry.add("hazards", {"id": "H1", "type": "flood_zone", "geometry": line})
        assert registry.get("shelters", "S1")["geometry"].equals_exact(area, 0)
        assert registry.layer("hazards").loc["H1", "geometry"].equals_exact(line, 0)
        registry.update("hazards", "H1", {"geometry": line.buffer(0.001)})
        with registry.engine.connect() as conn:
            rows = dict(conn.execute(text(
                "SELECT id, ST_AsBinary(geom) FROM shelters UNION ALL "
                "SELECT id, ST_AsBinary(geom) FROM hazards")).all())
            srids = set(conn.execute(text("SELECT ST_SRID(geom) FROM shelters UNION "
                                          "SELECT ST_SRID(geom) FROM hazards")).scalars())
    assert shapely.from_wkb(bytes(rows["S1"])).equals_exact(area, 0)
    assert shapely.from_wkb(bytes(rows["H1"])).equals_exact(line.buffer(0.001), 0)
    assert srids == {postgis.SRID}


def test_box_and_nearest_queries_use_the_gist_index(postgres_url):
    points = [{"id": f"P{i}", "population": 1,
               "geometry": shapely.Point(9.48 + 0.001 * (i % 100), 47.05 + 0.001 * (i // 100))}
              for i in range(2000)]
    with Registry(postgres_url) as registry:
        registry.add_many("population", points)
        box = degree_box(9.50, 47.06, 50)
        with registry.engine.connect() as conn:
            conn.execute(text("ANALYZE population"))
            plan = "\n".join(conn.execute(text(
                "EXPLAIN SELECT id FROM population "
                "WHERE geom && ST_MakeEnvelope(:w, :s, :e, :n, 4326)"),
                dict(zip("wsen", box, strict=True))).scalars())
            knn = "\n".join(conn.execute(text(
                "EXPLAIN SELECT id FROM population "
                "ORDER BY geom <-> ST_SetSRID(ST_MakePoint(9.5, 47.06), 4326) LIMIT 3"
            )).scalars())
            found = postgis.intersecting(conn, "population", box)
            nearest = postgis.nearest(conn, "population", 9.5, 47.06, 3)
        assert postgis.index_name("population") in plan, plan
        assert postgis.index_name("population") in knn, knn
        assert found == ["P1020"]  # 9.50, 47.06
        assert nearest[0] == "P1020" and len(nearest) == 3
        assert list(registry.nearby("population", 9.50, 47.06, radius_m=50).index) == ["P1020"]
        assert list(registry.nearest("population", 9.5004, 47.06, k=1).index) == ["P1020"]


def test_a_version_2_registry_on_postgresql_is_migrated_and_gets_its_postgis_columns(
        postgres_url):
    with Registry(postgres_url) as registry:
        registry.add("teams", {"id": "T1", "type": "fire", "headcount": 6,
                               "geometry": shapely.Point(*VADUZ)})
        registry.move_team("T1", VADUZ[0], 47.15)
        with registry.engine.begin() as conn:  # as version 2 left it
            for name in FEATURE_TABLES:
                conn.execute(text(f"ALTER TABLE {name} DROP COLUMN geom"))
            conn.execute(text("INSERT INTO meta (key, value) SELECT 'revision:' || layer, "
                              "to_json(count) FROM revisions"))
            conn.execute(text("DROP TABLE revisions"))
            conn.execute(text("UPDATE schema_version SET version = 2"))
    with Registry(postgres_url) as registry:
        assert registry.revision("teams") == 2
        assert list(registry.nearby("teams", VADUZ[0], 47.15, radius_m=1).index) == ["T1"]
        with registry.engine.connect() as conn:
            indexes = set(conn.execute(text("SELECT indexname FROM pg_indexes")).scalars())
            versions = set(conn.execute(text("SELECT version FROM schema_version")).scalars())
            left = conn.execute(text("SELECT count(*) FROM meta WHERE key LIKE 'revision:%'"))
            assert left.scalar() == 0
    assert {postgis.index_name(t) for t in FEATURE_TABLES} <= indexes
    assert max(versions) == db.SCHEMA_VERSION
