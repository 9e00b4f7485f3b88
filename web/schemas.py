"""Request and response schemas of the API (pydantic v2): they validate the requests and are,
through :mod:`web.openapi`, the OpenAPI document. Parameters and defaults of the analyses are
the command line's (``python -m geo dispatch --help``); points are [lon, lat] (GeoJSON order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema, WrapValidator
from pydantic_core import PydanticCustomError
from werkzeug.datastructures import FileStorage

from geo.analysis.siting import PROBLEMS
from geo.network.osm_tags import MODES
from geo.registry.accounts import ROLES
from geo.registry.jobs import JOB_STATUSES
from geo.registry.schema import MAX_QUANTITY

Mode = Literal[MODES]  # type: ignore[valid-type]
Role = Literal[ROLES]  # type: ignore[valid-type]
Lon = Annotated[float, Field(ge=-180, le=180)]
Lat = Annotated[float, Field(ge=-90, le=90)]
LonLat = Annotated[tuple[Lon, Lat], Field(description="[lon, lat] in WGS84 (GeoJSON order)")]
Name = Annotated[str, Field(min_length=1, max_length=200)]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Open(BaseModel):
    """A response that may carry more members than the ones documented."""

    model_config = ConfigDict(extra="allow")


# ---- errors ----------------------------------------------------------------------------------


class ErrorDetail(Open):
    code: str
    message: str
    field: str | None = None


class ErrorBody(Strict):
    error: ErrorDetail


# ---- GeoJSON ---------------------------------------------------------------------------------


class Geometry(Open):
    type: Literal["Point", "MultiPoint", "LineString", "MultiLineString", "Polygon",
                  "MultiPolygon", "GeometryCollection"]


class FeatureIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["Feature"]
    geometry: Geometry | None
    properties: dict[str, Any] | None = None
    id: str | int | None = None


class FeatureCollectionIn(BaseModel):
    model_config = ConfigDict(extra="allow")
    type: Literal["FeatureCollection"]
    features: Annotated[list[FeatureIn], Field(max_length=100_000)]


class Feature(Open):
    type: Literal["Feature"]
    id: str | int | None = None
    geometry: dict | None
    properties: dict[str, Any] | None


class FeatureCollection(Open):
    type: Literal["FeatureCollection"]
    features: list[Feature]


# ---- analyses --------------------------------------------------------------------------------

Breaks = Annotated[list[Annotated[float, Field(gt=0, le=1e7)]],
                   Field(min_length=1, max_length=20)]
FacilityLayer = Literal["shelters", "teams", "depots"]


class HazardOptions(Strict):
    hazards: bool = Field(True, description="apply the registry's active hazards")
    barriers: FeatureCollectionIn | None = Field(
        None, description="extra barriers (closed roads as lines, flooded areas as polygons; "
                          "properties.factor > 1 slows instead of closing)")


class DispatchRequest(HazardOptions):
    at: LonLat
    k: Annotated[int, Field(ge=1, le=100)] = 5
    team_types: Annotated[list[Name], Field(max_length=20)] = Field(
        default_factory=list, description="English or Chinese, any case; the k nearest of "
                                          "each type (none: of any type)")
    min_headcount: Annotated[int, Field(ge=0, le=10_000)] = 0
    items: Annotated[dict[str, Annotated[float, Field(ge=0, le=MAX_QUANTITY)]],
                     Field(max_length=50)] = Field(
        default_factory=dict, description="supplies: catalogue item (or its Chinese or English "
                                          "name) → quantity")
    shelters: Annotated[int, Field(ge=0, le=50)] = Field(3, description="open shelters with "
                                                                       "room to list")


class AreaOptions(HazardOptions):
    layer: FacilityLayer = "shelters"
    facilities: FeatureCollectionIn | None = Field(
        None, description="facilities of that kind instead of the registry's")
    breaks: Breaks = Field(default_factory=lambda: [5.0, 10.0, 15.0])
    unit: Literal["min", "s", "m"] = "min"
    mode: Mode | None = Field(None, description="default: walk for shelters, drive for teams "
                                                "and depots")
    direction: Literal["to", "from"] | None = Field(
        None, description="default: to shelters, from teams and depots")


class ServiceAreaRequest(AreaOptions):
    shape: Literal["disks", "rings"] = "disks"
    overlap: Literal["overlap", "split", "dissolve"] = Field(
        "dissolve", description="dissolve: one area per break for all facilities (one search); "
                                "split: divided between the nearest facilities; overlap: one "
                                "per facility")
    form: Literal["band", "filled"] = Field(
        "band", description="band: the land within buffer_m of the reached roads; filled: also "
                            "the land between reached roads within fill_m of them")
    buffer_m: Annotated[float, Field(gt=0, le=1000)] | None = None
    fill_m: Annotated[float, Field(gt=0, le=5000)] | None = None


class CoverageRequest(AreaOptions):
    demand: FeatureCollectionIn | None = Field(
        None, description="demand points (default: the registry's population)")
    demand_column: Annotated[str, Field(min_length=1, max_length=100)] = "population"


MAX_TIME_LIMIT_S = 600.0  # a job must end: the solver stops there with its best and its gap
Minutes = Annotated[float, Field(gt=0, le=1440)]
Id = str | int
Finite = Annotated[float, Field(allow_inf_nan=False)]  # JSON has neither: null says unreachable


class CostMatrixIn(Strict):
    demand_ids: Annotated[list[Id], Field(min_length=1, max_length=100_000)]
    candidate_ids: Annotated[list[Id], Field(min_length=1, max_length=10_000)]
    costs: Annotated[list[list[Finite | None]], Field(min_length=1, max_length=100_000)] = Field(
        description="one row per demand id, one cost per candidate id in the rows; null: "
                    "unreachable")


CANDIDATE_SOURCES = ("osm", "shelters", "depots")


def _source_or_features(value, handler):
    """A name of :data:`CANDIDATE_SOURCES` as it is, anything else as a FeatureCollection: one
    error at the field for a wrong name, and a feature's own path for a wrong feature (a plain
    union would report both members' errors, each under the member's name)."""
    if not isinstance(value, str):
        return handler(value)
    if value in CANDIDATE_SOURCES:
        return value
    raise PydanticCustomError("literal_error", "Input should be {expected}, or a GeoJSON "
                              "FeatureCollection",
                              {"expected": "'osm', 'shelters' or 'depots'"})


# Documented (and validated) as either; typed as the collection the wrapper falls back to.
SourceOrFeatures = Annotated[FeatureCollectionIn, WrapValidator(
    _source_or_features,
    json_schema_input_type=Literal[CANDIDATE_SOURCES] | FeatureCollectionIn)]  # type: ignore[valid-type]


class SitingRequest(HazardOptions):
    """The road network's inputs, or a ``cost_matrix`` from another tool with its ``weights``
    (and ``cutoff`` in its units) and none of the network's inputs."""

    problem: Literal[PROBLEMS] = Field(  # type: ignore[valid-type]
        description="lscp: fewest sites covering all; mclp: p sites covering most; pmedian: p "
                    "sites, least total time; pcenter: p sites, least worst time")
    p: Annotated[int, Field(ge=1, le=10_000)] | None = Field(
        None, description="new sites to choose (mclp, pmedian, pcenter)")
    minutes: Minutes | None = Field(
        None, description="walking minutes counted as covered (lscp, mclp; default: the "
                          "shelter class's)")
    capacitated: bool = Field(False, description="no site takes more people than its "
                                                  "capacity (mclp, pmedian)")
    keep_existing: bool = Field(False, description="today's open shelters stay open")
    candidates: SourceOrFeatures = Field(
        "osm", description="the extract's own OSM sites (schools, halls, grounds ...), a "
                           "registry layer, or candidate points")
    shelter_class: Name | None = None
    demand: FeatureCollectionIn | None = Field(
        None, description="demand points (default: the registry's population)")
    demand_column: Annotated[str, Field(min_length=1, max_length=100)] = "population"
    time_limit_s: Annotated[float, Field(gt=0, le=MAX_TIME_LIMIT_S)] = Field(
        60.0, description="the solver's; past it the best solution found, with its gap")
    mode: Mode = "walk"
    cost_matrix: CostMatrixIn | None = Field(
        None, description="costs from another tool instead of the road network")
    weights: Annotated[list[Annotated[Finite, Field(ge=0)]],
                       Field(min_length=1, max_length=100_000)] | None = Field(
        None, description="with cost_matrix: the demand of each row")
    cutoff: Annotated[Finite, Field(gt=0)] | None = Field(
        None, description="with cost_matrix: the cost within which demand is covered, in the "
                          "matrix's units (lscp, mclp)")


class EvacuationRequest(Strict):
    hazards: Annotated[list[Name], Field(max_length=100)] = Field(
        default_factory=list, description="hazard ids to evacuate, active or not (none: every "
                                          "active hazard)")
    mode: Mode = "walk"
    barriers: FeatureCollectionIn | None = Field(
        None, description="extra barriers (closed roads as lines, flooded areas as polygons)")
    max_minutes: Minutes | None = Field(None, description="farther shelters are not used")


class CoordinatesQuery(Strict):
    lon: Lon
    lat: Lat
    crs: Literal["wgs84", "gcj02", "bd09"] = Field(
        "wgs84", description="of the point given: GCJ-02 (AutoNavi/Gaode, Tencent) or BD-09 "
                             "(Baidu), as copied from Chinese web maps, or WGS84")


class Coordinates(Strict):
    lon: float = Field(description="WGS84")
    lat: float = Field(description="WGS84")
    crs: Literal["wgs84"] = "wgs84"
    given: dict = Field(description="the point and CRS asked about")


class ExposureRequest(Strict):
    mode: Mode = "drive"


class AnalysisResult(Open):
    notes: list[str]
    attribution: str
    features: FeatureCollection


class DispatchResult(Open):
    notes: list[str]
    attribution: str
    incident: dict
    teams: list[dict]
    unreachable_teams: list[dict]


class JobAccepted(Strict):
    job: str
    status: str
    href: str


class JobState(Strict):
    id: str
    kind: str
    status: Literal[JOB_STATUSES]  # type: ignore[valid-type]
    progress: float
    message: str
    created_at: str
    finished_at: str | None
    result: dict | None
    error: dict | None


# ---- teams, incidents, inventory ---------------------------------------------------------


class AssignRequest(Strict):
    team: Name


class ReleaseRequest(Strict):
    status: str = Field("available", description="the team's status after release")


class TeamStatusRequest(Strict):
    status: Name
    expected: Annotated[list[Name], Field(min_length=1, max_length=10)] = Field(
        description="the status(es) the team must be in now; otherwise 409 with its status")


class PositionRequest(Strict):
    at: LonLat


class TeamState(Strict):
    id: str
    name: str
    type: str
    status: str
    lon: float
    lat: float


class Assignment(Strict):
    assignment: int
    incident: str
    team: TeamState


class StockRequest(Strict):
    quantity: Annotated[float, Field(ge=0, le=MAX_QUANTITY)]
    unit: Annotated[str, Field(max_length=32)] | None = None


class Stock(Strict):
    depot: str
    stock: dict[str, float]


# ---- imports and exports ---------------------------------------------------------------------


class ImportForm(BaseModel):
    """The multipart form of an import: the ``file`` and how to read it."""

    model_config = ConfigDict(arbitrary_types_allowed=True)
    file: Annotated[FileStorage, WithJsonSchema({
        "type": "string", "format": "binary",
        "description": "GeoJSON, CSV, GeoPackage or zipped Shapefile"})]
    crs: str | None = Field(None, description="EPSG code, GCJ-02 or BD-09 (default: the "
                                              "file's, else WGS84)")
    encoding: str | None = Field(None, description="of a CSV file (default: detected)")


class ImportResult(Strict):
    layer: str
    imported: int
    ids: list[str]


class ExportQuery(Strict):
    format: Literal["geojson", "csv", "gpkg", "shp"] = "geojson"
    crs: Annotated[str, Field(max_length=100)] | None = None
    encoding: Annotated[str, Field(max_length=40)] = "utf-8"


# ---- sessions, users, tokens -----------------------------------------------------------------


class LoginRequest(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100)]
    password: Annotated[str, Field(min_length=1, max_length=1000)]


class PasswordRequest(Strict):
    current: Annotated[str, Field(min_length=1, max_length=1000)]
    new: Annotated[str, Field(min_length=10, max_length=1000)]


class SessionState(Strict):
    user: str | None
    role: str | None
    must_change_password: bool
    permissions: list[str]
    csrf_token: str


class UserRequest(Strict):
    name: Annotated[str, Field(min_length=1, max_length=100, pattern=r"^\S+$")]
    role: Role
    password: Annotated[str, Field(min_length=10, max_length=1000)]


class UserChange(Strict):
    role: Role | None = None
    disabled: bool | None = None


class User(Strict):
    name: str
    role: str
    disabled: bool
    must_change_password: bool


class Users(Strict):
    users: list[User]


class TokenRequest(Strict):
    user: Annotated[str, Field(min_length=1, max_length=100)]
    label: Annotated[str, Field(max_length=200)] = ""
    expires_days: Annotated[float, Field(gt=0, le=3650)] | None = 365


class TokenInfo(Strict):
    id: int
    user: str
    prefix: str
    label: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None


class NewToken(TokenInfo):
    token: str = Field(description="shown this once; only its hash is kept")


class Tokens(Strict):
    tokens: list[TokenInfo]


class Revisions(Strict):
    revisions: dict[str, int]


class LayerSchemas(Open):
    layers: dict[str, dict]
    shelter_classes: dict[str, dict]
    items: dict[str, dict]


class Health(Open):
    status: Literal["ready", "not ready"]
    problem: str | None
    schema_version: int
    database: str
    networks: dict[str, bool]
