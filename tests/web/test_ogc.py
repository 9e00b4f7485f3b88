"""Reading the layers as OGC API – Features with the Flask test client: the documents QGIS reads
(landing page, conformance, collections), pages of items with their filters and links, one
item with its ETag, and the errors of bad requests, each checked against the registry."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import shapely
from shapely.geometry import shape

from geo.core.labels import zh
from geo.registry.records import record_tag
from geo.services.records import FEATURE_LAYERS
from tests.web.conftest import PASSWORD, make_app

GEOJSON = "application/geo+json"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
# Around Vaduz: some of each layer's records, not all.
VADUZ = (9.50, 47.12, 9.54, 47.16)


@pytest.fixture(scope="module")
def read_app(tmp_path_factory, demo_file, cache_dir):
    """One service for the tests that only read (they change neither data nor config), as
    making a service and an account for each would take most of their time."""
    return make_app(tmp_path_factory.mktemp("ogc-reads"), demo_file, cache_dir)


@pytest.fixture(scope="module")
def reader(read_app):
    return read_app.test_client()


@pytest.fixture(scope="module")
def layers(read_app):
    """The registry behind ``read_app``."""
    return read_app.extensions["geo"].registry()


@pytest.fixture(scope="module")
def viewer(layers) -> dict[str, str]:
    """The Authorization header of a viewer's token (the account is viewer-user)."""
    layers.add_user("viewer-user", "viewer", PASSWORD)
    return {"Authorization": f"Bearer {layers.create_token('viewer-user')[0]}"}


def local(href: str) -> str:
    """An absolute link of the service as a path the test client can request."""
    parts = urlsplit(href)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def link(document: dict, rel: str) -> dict | None:
    return next((item for item in document["links"] if item["rel"] == rel), None)


def get_json(client, url: str, headers: dict) -> dict:
    response = client.get(url, headers=headers)
    assert response.status_code == 200, response.get_data(as_text=True)
    return response.get_json(force=True)


def all_items(client, layer: str, headers: dict, query: str = "") -> dict:
    return get_json(client, f"/collections/{layer}/items?limit=10000{query}", headers)


def ids_of(page: dict) -> list[str]:
    return [feature["id"] for feature in page["features"]]


# ---- landing page, conformance, collections ---------------------------------------------------


def test_landing_page_links_every_part_qgis_looks_for(reader, viewer):
    page = get_json(reader, "/", {})  # open to anyone: a GIS reader finds the sign-in here
    rels = {item["rel"]: item for item in page["links"]}
    assert rels["self"]["type"] == "application/json"
    assert rels["data"]["type"] == "application/json"
    assert rels["service-desc"]["type"].startswith("application/vnd.oai.openapi+json")
    assert {"conformance", "service-doc"} <= rels.keys()
    for item in page["links"]:
        response = reader.get(local(item["href"]), headers=viewer)
        assert response.status_code == 200, item


def test_conformance_declares_core_geojson_and_the_writes(reader):
    classes = get_json(reader, "/conformance", {})["conformsTo"]
    prefix = "http://www.opengis.net/spec/ogcapi-features-"
    assert f"{prefix}1/1.0/conf/core" in classes
    assert f"{prefix}1/1.0/conf/geojson" in classes
    assert f"{prefix}4/1.0/conf/create-replace-delete" in classes


def test_conformance_claims_openapi_3_0_only_if_the_document_is(reader):
    classes = get_json(reader, "/conformance", {})["conformsTo"]
    version = get_json(reader, "/api/openapi.json", {})["openapi"]
    assert any(c.endswith("/conf/oas30") for c in classes) == version.startswith("3.0.")


def test_collections_list_every_layer_with_its_links(reader, viewer):
    listing = get_json(reader, "/collections", viewer)
    assert link(listing, "self")["type"] == "application/json"
    assert [c["id"] for c in listing["collections"]] == list(FEATURE_LAYERS)
    for collection in listing["collections"]:
        assert collection["itemType"] == "feature"
        assert link(collection, "self")["type"] == "application/json"
        items = link(collection, "items")
        assert items["type"] == GEOJSON
        assert local(items["href"]) == f"/collections/{collection['id']}/items"


@pytest.mark.parametrize("layer", FEATURE_LAYERS)
def test_collection_extent_is_the_layers_bounds_in_crs84(reader, viewer, layers, layer):
    collection = get_json(reader, f"/collections/{layer}", viewer)
    assert collection["id"] == layer
    assert collection["crs"] == [CRS84]
    spatial = collection["extent"]["spatial"]
    assert spatial["crs"] == CRS84
    [(west, south, east, north)] = spatial["bbox"]
    assert -180 <= west <= east <= 180 and -90 <= south <= north <= 90
    frame = layers.layer(layer)
    if len(frame):
        assert (west, south, east, north) == pytest.approx(tuple(frame.total_bounds))
    else:  # nothing yet: the whole world, so that a reader's first view is not empty
        assert (west, south, east, north) == (-180, -90, 180, 90)


# ---- pages of items ---------------------------------------------------------------------------


@pytest.mark.parametrize("layer", [name for name in FEATURE_LAYERS if name != "incidents"])
def test_items_are_the_layer_as_geojson_with_string_ids(reader, viewer, layers, layer):
    response = reader.get(f"/collections/{layer}/items?limit=10000", headers=viewer)
    assert response.status_code == 200
    assert response.mimetype == GEOJSON
    page = response.get_json(force=True)
    frame = layers.layer(layer)
    assert page["type"] == "FeatureCollection"
    assert page["numberMatched"] == page["numberReturned"] == len(frame)
    assert sorted(ids_of(page)) == sorted(frame.index)
    assert all(isinstance(i, str) for i in ids_of(page))
    first = page["features"][0]
    assert shape(first["geometry"]).equals(frame.geometry[first["id"]])
    assert set(first["properties"]) <= set(frame.columns) - {"geometry"}


@pytest.mark.parametrize("layer", ["shelters", "teams", "hazards", "population"])
def test_bbox_keeps_the_features_that_intersect_it(reader, viewer, layers, layer):
    frame = layers.layer(layer)
    inside = shapely.intersects(frame.geometry.to_numpy(), shapely.box(*VADUZ))
    expected = set(frame.index[inside])
    assert 0 < len(expected) < len(frame)  # the box is a real test
    bbox = ",".join(str(v) for v in VADUZ)
    page = all_items(reader, layer, viewer, f"&bbox={bbox}")
    assert set(ids_of(page)) == expected
    assert page["numberMatched"] == len(expected)


@pytest.mark.parametrize("bbox", ["9.54,47.12,9.50,47.16", "9.50,47.16,9.54,47.12",
                                  "9.5,47.1,9.6", "9.5,47.1,9.6,47.2,1", "west,south,east,north",
                                  "9.5,47.1,nan,47.2", "", "9.5,95,9.6,96"])
def test_a_bad_bbox_is_400_naming_bbox(reader, viewer, bbox):
    response = reader.get(f"/collections/teams/items?bbox={bbox}", headers=viewer)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["field"] == "bbox"
    assert error["message"].startswith("bbox:")


@pytest.mark.parametrize("limit", ["0", "-3", "ten"])
def test_a_limit_below_one_or_not_a_number_is_400(reader, viewer, limit):
    response = reader.get(f"/collections/teams/items?limit={limit}", headers=viewer)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "limit"


def test_an_over_large_limit_is_cut_to_the_maximum(app, client, headers, registry):
    app.config["ITEMS_MAX_LIMIT"] = 50  # below the 7,000-odd demand points, so the cut shows
    page = get_json(client, f"/collections/population/items?limit={10**9}", headers("viewer"))
    assert page["numberReturned"] == len(page["features"]) == 50
    assert page["numberMatched"] == len(registry.layer("population"))
    assert parse_qs(urlsplit(link(page, "next")["href"]).query)["limit"] == ["50"]


def test_without_a_limit_the_default_applies(app, client, headers):
    app.config["ITEMS_DEFAULT_LIMIT"] = 7
    page = get_json(client, "/collections/population/items", headers("viewer"))
    assert page["numberReturned"] == 7


def test_next_links_page_through_the_whole_layer_and_prev_links_back(reader, viewer, layers):
    viewer = viewer
    url: str | None = "/collections/teams/items?limit=5"
    pages = []
    while url is not None:
        pages.append(get_json(reader, url, viewer))
        following = link(pages[-1], "next")
        url = local(following["href"]) if following else None
    seen = [i for page in pages for i in ids_of(page)]
    assert seen == sorted(layers.layer("teams").index)  # each once, in id order
    for page in pages:  # the types QGIS picks its links by
        assert link(page, "self")["type"] == GEOJSON
        assert link(page, "collection")["type"] == "application/json"
        assert all(link(page, rel)["type"] == GEOJSON for rel in ("next", "prev")
                   if link(page, rel) is not None)
    assert len(pages) == -(-len(seen) // 5) and link(pages[0], "prev") is None
    back = [ids_of(pages[-1])]
    url = local(link(pages[-1], "prev")["href"])
    while url is not None:
        page = get_json(reader, url, viewer)
        back.insert(0, ids_of(page))
        previous = link(page, "prev")
        url = local(previous["href"]) if previous else None
    assert back == [ids_of(page) for page in pages]


def test_paging_links_keep_the_filters(reader, viewer):
    page = get_json(reader, "/collections/teams/items?limit=2&status=available",
                    viewer)
    query = parse_qs(urlsplit(link(page, "next")["href"]).query)
    assert query == {"limit": ["2"], "offset": ["2"], "status": ["available"]}


def test_an_offset_past_the_end_is_an_empty_last_page(reader, viewer, layers):
    count = len(layers.layer("teams"))
    page = get_json(reader, f"/collections/teams/items?offset={count + 3}", viewer)
    assert page["features"] == [] and page["numberMatched"] == count
    assert link(page, "next") is None and link(page, "prev") is not None


def test_property_filters_match_the_registry(reader, viewer, layers):
    frame = layers.layer("teams")
    expected = frame[(frame["status"] == "available") & (frame["type"] == "fire")]
    assert 0 < len(expected) < len(frame)
    page = all_items(reader, "teams", viewer, "&status=available&type=fire")
    assert sorted(ids_of(page)) == sorted(expected.index)


def test_property_filters_take_chinese_names(reader, viewer):
    viewer = viewer
    english = all_items(reader, "teams", viewer, "&type=fire&status=available")
    chinese = all_items(reader, "teams", viewer, f"&type={zh('team_types', 'fire')}"
                                                 f"&status={zh('team_statuses', 'available')}")
    assert ids_of(chinese) == ids_of(english) != []


def test_a_number_filter_matches_the_registry(reader, viewer, layers):
    frame = layers.layer("hazards")
    level = int(frame["risk_level"].mode()[0])
    page = all_items(reader, "hazards", viewer, f"&risk_level={level}")
    assert sorted(ids_of(page)) == sorted(frame.index[frame["risk_level"] == level])


@pytest.mark.parametrize(("query", "field"), [("colour=red", "colour"), ("name=x", "name"),
                                              ("type=dragon", "type"),
                                              ("headcount=many", "headcount")])
def test_an_unknown_property_or_value_is_refused_naming_it(reader, viewer, query, field):
    response = reader.get(f"/collections/teams/items?{query}", headers=viewer)
    assert response.status_code in (400, 422)
    error = response.get_json()["error"]
    assert error["field"] == field and field in error["message"]


# ---- one item ---------------------------------------------------------------------------------


@pytest.mark.parametrize("layer", ["shelters", "teams", "hazards", "population"])
def test_an_item_is_a_feature_with_links_and_its_etag(reader, viewer, layers, layer):
    record_id = sorted(layers.layer(layer).index)[0]
    response = reader.get(f"/collections/{layer}/items/{record_id}", headers=viewer)
    assert response.status_code == 200
    assert response.mimetype == GEOJSON
    assert response.headers["ETag"] == f'"{record_tag(layers.get(layer, record_id))}"'
    feature = response.get_json(force=True)
    assert feature["type"] == "Feature" and feature["id"] == record_id
    assert shape(feature["geometry"]).equals(layers.get(layer, record_id)["geometry"])
    assert local(link(feature, "self")["href"]) == f"/collections/{layer}/items/{record_id}"
    assert link(feature, "self")["type"] == GEOJSON
    assert local(link(feature, "collection")["href"]) == f"/collections/{layer}"


def test_an_item_has_the_same_properties_as_in_a_page(reader, viewer):
    viewer = viewer
    [in_page] = get_json(reader, "/collections/teams/items?limit=1", viewer)["features"]
    alone = get_json(reader, f"/collections/teams/items/{in_page['id']}", viewer)
    assert alone["properties"] == in_page["properties"]


@pytest.mark.parametrize("url", ["/collections/roads", "/collections/roads/items",
                                 "/collections/roads/items/x", "/collections/inventory/items",
                                 "/collections/teams/items/T-no-such-team"])
def test_unknown_layers_and_ids_are_404(reader, viewer, url):
    response = reader.get(url, headers=viewer)
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path", ["/collections", "/collections/teams",
                                  "/collections/teams/items", "/collections/teams/items/{team}"])
def test_reading_layers_needs_an_account(reader, viewer, layers, path):
    url = path.format(team=layers.layer("teams").index[0])
    assert reader.get(url).status_code == 401
    assert reader.get(url, headers={"Authorization": "Bearer not-a-token"}).status_code == 401
    assert reader.get(url, headers=viewer).status_code == 200


@pytest.mark.usefixtures("viewer")
def test_gis_clients_may_sign_in_with_user_name_and_password(reader):
    good = base64.b64encode(f"viewer-user:{PASSWORD}".encode()).decode()
    bad = base64.b64encode(b"viewer-user:wrong").decode()
    assert reader.get("/collections", headers={"Authorization": f"Basic {good}"}).status_code \
        == 200
    assert reader.get("/collections", headers={"Authorization": f"Basic {bad}"}).status_code \
        == 401


def test_datetime_filters_incidents_by_when_they_were_reported(client, headers):
    made = {}
    for name, reported in (("old", "2026-01-01T08:00:00Z"), ("new", "2026-06-01T08:00:00Z")):
        made[name] = client.post("/collections/incidents/items", headers=headers("dispatcher"),
                                 json={"type": "Feature", "properties": {
                                     "type": "fire", "name": name, "reported_at": reported},
                                     "geometry": {"type": "Point",
                                                  "coordinates": [9.52, 47.14]}}).json["id"]

    def ids(when: str) -> set[str]:
        response = client.get(f"/collections/incidents/items?datetime={when}",
                              headers=headers("viewer"))
        assert response.status_code == 200, response.json
        return {f["id"] for f in response.json["features"]}

    assert ids("2026-03-01T00:00:00Z/..") == {made["new"]}
    assert ids("../2026-03-01T00:00:00Z") == {made["old"]}
    assert ids("2026-01-01T08:00:00Z") == {made["old"]}
    assert ids("2025-01-01T00:00:00Z/2027-01-01T00:00:00Z") == set(made.values())


@pytest.mark.parametrize("when", ["yesterday", "2026-02-01T00:00:00Z/2026-01-01T00:00:00Z",
                                  "..", "a/b/c"])
def test_a_bad_datetime_is_400_naming_it(client, headers, when):
    response = client.get(f"/collections/incidents/items?datetime={when}",
                          headers=headers("viewer"))
    assert response.status_code == 400 and response.json["error"]["field"] == "datetime"


def test_record_times_carry_their_utc_offset(reader, viewer):
    """The registry keeps UTC; a time without an offset would be read as the client's local
    time (eight hours off in Beijing)."""
    feature = get_json(reader, "/collections/shelters/items?limit=1", viewer)["features"][0]
    for name in ("created_at", "updated_at"):
        moment = datetime.fromisoformat(feature["properties"][name])
        assert moment.utcoffset() == timedelta(0), (name, feature["properties"][name])
