"""Shelter classes as data (``data/shelter_standards.yaml``): names, refuge duration, per-capita
effective area and service radius, with the source of each figure. Users override the table with
their own file."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from geo.core.resources import SHELTER_STANDARDS, data_path
from geo.errors import SourceError, ValidationError

STANDARDS_FILE = data_path(SHELTER_STANDARDS)
MAX_FILE_BYTES = 1_000_000  # the shipped table is a few kB
MIN_PER_CAPITA_AREA_M2 = 0.1  # standing room; less is a typo, and overflows the capacities
_NUMBERS = ("refuge_duration_days", "per_capita_area_m2", "service_radius_m", "walk_minutes")


@dataclass(frozen=True)
class ShelterClass:
    key: str
    name_zh: str
    name_en: str
    refuge_duration_days: float
    per_capita_area_m2: float
    service_radius_m: float
    walk_minutes: float
    confirmed: bool = False
    sources: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class ShelterStandards:
    classes: Mapping[str, ShelterClass]
    path: str

    def get(self, key: str) -> ShelterClass:
        if key not in self.classes:
            raise ValidationError(f"shelter_class: {key!r} is not one of {', '.join(self.classes)}")
        return self.classes[key]

    def capacity_people(self, effective_area_m2: float, shelter_class: str) -> int:
        """People a shelter of this class holds: effective area ÷ per-capita area, rounded down."""
        if not (math.isfinite(effective_area_m2) and effective_area_m2 >= 0):
            raise ValidationError(f"effective_area_m2: expected a non-negative number, got "
                                  f"{effective_area_m2!r}")
        return int(effective_area_m2 // self.get(shelter_class).per_capita_area_m2)


def load_standards(path: str | Path | None = None) -> ShelterStandards:
    """The standards table from ``path`` (default: the shipped GB 51143 / GB/T 44013 table).

    Every problem in a user's file is reported at once, naming the class and the field."""
    source = Path(path) if path is not None else STANDARDS_FILE
    text = _read_text(source)
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise SourceError(f"standards file {source}: not valid YAML ({_yaml_problem(exc)})") \
            from exc
    except RecursionError:
        raise SourceError(f"standards file {source}: not a standards table (nested too "
                          f"deeply)") from None
    classes = (data or {}).get("classes") if isinstance(data, dict) else None
    if not isinstance(classes, dict) or not classes:
        raise ValidationError(f"standards file {source}: expected a 'classes' mapping")
    problems, parsed = [], {}
    for key, entry in classes.items():
        entry = entry if isinstance(entry, dict) else {}
        values: dict[str, Any] = {}
        for name in _NUMBERS:
            value = entry.get(name)
            if not (isinstance(value, int | float) and math.isfinite(value) and value > 0):
                problems.append(f"{key}.{name}: expected a positive number, got {value!r}")
            elif name == "per_capita_area_m2" and value < MIN_PER_CAPITA_AREA_M2:
                problems.append(f"{key}.{name}: {value:g} m² is less than a person takes "
                                f"(at least {MIN_PER_CAPITA_AREA_M2:g})")
            values[name] = value
        sources = entry.get("sources") or {}
        if not isinstance(sources, dict):
            problems.append(f"{key}.sources: expected a mapping of field to source, got "
                            f"{type(sources).__name__}")
        if problems:
            continue
        parsed[str(key)] = ShelterClass(
            key=str(key), name_zh=str(entry.get("name_zh", "")),
            name_en=str(entry.get("name_en", "")),
            confirmed=bool(entry.get("confirmed", False)),
            sources={str(k): str(v) for k, v in sources.items()}, **values)
    if problems:
        raise ValidationError(f"standards file {source}: " + "; ".join(problems))
    return ShelterStandards(classes=parsed, path=str(source))


def _read_text(source: Path) -> str:
    """The file as UTF-8 text; a binary file, or one too large to be a table, is refused."""
    try:
        with source.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except OSError as exc:
        raise SourceError(f"standards file {source}: cannot read ({exc.strerror})") from exc
    if len(data) > MAX_FILE_BYTES:
        raise SourceError(f"standards file {source}: larger than {MAX_FILE_BYTES // 1000} kB, "
                          f"so not a standards table")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise SourceError(f"standards file {source}: not UTF-8 text (byte {exc.start}); a YAML "
                          f"table is expected, not a binary file") from None


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's message in one line: the problem and where."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}" if mark is not None else str(problem)
