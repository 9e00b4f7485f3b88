"""Rules per hazard type (impact radius, road effect, slow factor, safety distance), read from
``geo/data/hazard_rules.yaml``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import yaml

from geo.core.resources import HAZARD_RULES, data_path

RULES_FILE = data_path(HAZARD_RULES)
ROAD_EFFECTS = ("block", "slow")


@dataclass(frozen=True)
class HazardRules:
    default: Mapping[str, object]
    types: Mapping[str, Mapping[str, object]]

    def for_type(self, hazard_type: str) -> dict:
        return {**self.default, **self.types.get(hazard_type, {})}


def load_hazard_rules(path: str | Path | None = None) -> HazardRules:
    data = yaml.safe_load(Path(path or RULES_FILE).read_text(encoding="utf-8"))
    return HazardRules(default=data["default"], types=data.get("types") or {})
