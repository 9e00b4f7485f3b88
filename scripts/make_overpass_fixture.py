"""Write a response in the Overpass API's JSON format from the real Monaco extract.

This machine has no internet, so the online path (osmnx queries) is tested against this file:
the highway ways inside a bounding box with all their nodes, exactly the shape of what
``[out:json]`` returns. The data is OpenStreetMap's (© OpenStreetMap contributors, ODbL).

    python scripts/make_overpass_fixture.py geo/data/monaco.osm.gz tests/data/overpass_monaco.json
"""

from __future__ import annotations

import argparse
import json

import osmium

# Monaco-Ville and Fontvieille: (west, south, east, north)
BBOX = (7.4130, 43.7260, 7.4260, 43.7340)


def collect(path: str, bbox) -> dict:
    west, south, east, north = bbox
    ways, needed = [], set()
    for way in osmium.FileProcessor(path).with_locations().with_filter(
            osmium.filter.KeyFilter("highway")):
        if not way.is_way():
            continue
        inside = [n.location.valid() and west <= n.lon <= east and south <= n.lat <= north
                  for n in way.nodes]
        if any(inside):
            refs = [n.ref for n in way.nodes]
            ways.append({"type": "way", "id": way.id, "nodes": refs, "tags": dict(way.tags)})
            needed.update(refs)
    nodes = [
        {"type": "node", "id": node.id, "lat": node.lat, "lon": node.lon}
        for node in osmium.FileProcessor(path, osmium.osm.NODE) if node.id in needed
    ]
    return {"version": 0.6, "generator": "made from the Monaco OSM extract by "
            "scripts/make_overpass_fixture.py", "elements": nodes + ways}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("source")
    parser.add_argument("out")
    args = parser.parse_args()
    with open(args.out, "w") as handle:
        json.dump(collect(args.source, BBOX), handle, separators=(",", ":"))


if __name__ == "__main__":
    main()
