"""GET /api/coordinates: points copied from Chinese web maps (GCJ-02, BD-09) as WGS84, checked
against the published reference values of the coordtransform library (wandergis/coordtransform,
README: wgs84togcj02(116.404, 39.915) and gcj02tobd09(116.404, 39.915)); outside China GCJ-02 is
WGS84; bad input names the field."""

from __future__ import annotations

import pytest

# Published pairs (coordtransform's README): WGS84 (116.404, 39.915) is GCJ-02
# (116.41024449916938, 39.91640428150164); GCJ-02 (116.404, 39.915) is BD-09
# (116.41036949371029, 39.92133699351021) and, by its approximate inverse, WGS84
# (116.39775550083061, 39.91359571849836) (that inverse is good to about 1e-6 degrees).
BEIJING_WGS84 = (116.404, 39.915)
BEIJING_GCJ02 = (116.41024449916938, 39.91640428150164)
GCJ02_POINT = (116.404, 39.915)
GCJ02_POINT_AS_BD09 = (116.41036949371029, 39.92133699351021)
GCJ02_POINT_AS_WGS84 = (116.39775550083061, 39.91359571849836)
VADUZ = (9.5209, 47.1410)


def _get(client, headers, **params):
    return client.get("/api/coordinates", query_string=params, headers=headers("viewer"))


def test_gcj02_inside_china_matches_the_published_pair(client, headers):
    answer = _get(client, headers, lon=BEIJING_GCJ02[0], lat=BEIJING_GCJ02[1], crs="gcj02")
    assert answer.status_code == 200
    assert (answer.json["lon"], answer.json["lat"]) == pytest.approx(BEIJING_WGS84, abs=1e-8)
    assert answer.json["crs"] == "wgs84"
    assert answer.json["given"] == {"lon": BEIJING_GCJ02[0], "lat": BEIJING_GCJ02[1],
                                    "crs": "gcj02"}


def test_bd09_inside_china_matches_the_published_pair(client, headers):
    answer = _get(client, headers, lon=GCJ02_POINT_AS_BD09[0], lat=GCJ02_POINT_AS_BD09[1],
                  crs="bd09")
    assert answer.status_code == 200
    assert (answer.json["lon"], answer.json["lat"]) == pytest.approx(GCJ02_POINT_AS_WGS84,
                                                                     abs=2e-6)
    # The shift is real (hundreds of metres): the answer is not the input handed back.
    assert abs(answer.json["lon"] - GCJ02_POINT_AS_BD09[0]) > 0.005


@pytest.mark.parametrize("crs", ["gcj02", "bd09", "wgs84"])
def test_outside_china_gcj02_is_wgs84_and_bd09_keeps_only_its_own_shift(client, headers, crs):
    answer = _get(client, headers, lon=VADUZ[0], lat=VADUZ[1], crs=crs)
    assert answer.status_code == 200
    if crs == "bd09":  # Baidu's polar shift applies everywhere: about 0.006° away from the input
        assert abs(answer.json["lon"] - VADUZ[0]) > 0.003
    else:
        assert (answer.json["lon"], answer.json["lat"]) == pytest.approx(VADUZ, abs=1e-12)


def test_wgs84_is_the_default(client, headers):
    answer = _get(client, headers, lon=BEIJING_GCJ02[0], lat=BEIJING_GCJ02[1])
    assert answer.status_code == 200
    assert (answer.json["lon"], answer.json["lat"]) == BEIJING_GCJ02


@pytest.mark.parametrize(("params", "field"), [
    ({"lon": 200, "lat": 40}, "lon"),
    ({"lon": 116, "lat": -95}, "lat"),
    ({"lon": "east", "lat": 40}, "lon"),
    ({"lat": 40}, "lon"),
    ({"lon": 116, "lat": 40, "crs": "mars-ish"}, "crs"),
])
def test_bad_input_names_the_field(client, headers, params, field):
    answer = _get(client, headers, **params)
    assert answer.status_code == 400
    assert answer.json["error"]["field"] == field
    assert field in answer.json["error"]["message"]


def test_needs_reading_rights(client):
    assert client.get("/api/coordinates", query_string={"lon": 1, "lat": 2}).status_code == 401


def test_the_service_function_accepts_common_spellings_and_names_a_bad_crs():
    from geo.errors import ValidationError
    from geo.services.coordinates import to_wgs84

    assert to_wgs84(*BEIJING_GCJ02, "GCJ-02") == pytest.approx(BEIJING_WGS84, abs=1e-8)
    assert to_wgs84(*VADUZ, "EPSG:4326") == VADUZ
    with pytest.raises(ValidationError, match="^crs: "):
        to_wgs84(*VADUZ, "UTM")
    with pytest.raises(ValidationError, match="^lat: "):
        to_wgs84(9.5, float("nan"))
