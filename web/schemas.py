"""Request and response schemas of the API (pydantic v2): they validate the requests and are,
through :mod:`web.openapi`, the OpenAPI document. Parameters and defaults of the analyses are
the command line's (``python -m geo dispatch --help``); points are [lon, lat] (GeoJSON order).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, WithJsonSchema
from werkzeug.datastructures import FileStorage

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
    overlap: Literal["overlap", "split", "dissolve"] = "overlap"


class CoverageRequest(AreaOptions):
    demand: FeatureCollectionIn | None = Field(
        None, description="demand points (default: the registry's population)")
    demand_column: Annotated[str, Field(min_length=1, max_length=100)] = "population"


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
