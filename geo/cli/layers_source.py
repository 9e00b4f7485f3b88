"""Where the CLI analyses take their layers from: the registry database (``--db``).

Without ``--db`` (and without ``$GEO_DB_URL``) the analyses use the default registry file, and
when it does not exist yet they build the demo registry of the embedded Liechtenstein extract
into it first, so that every command works out of the box.
"""

from __future__ import annotations

import argparse
import os
import sys

import geopandas as gpd

from geo.errors import ValidationError


def add_layer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None,
                        help="registry database, a path or URL (default $GEO_DB_URL, else "
                             "instance/registry.sqlite, built as the demo registry if missing)")


def _registry(args):
    from geo.registry import database as db
    from geo.registry.registry import Registry

    if getattr(args, "_registry", None) is not None:
        return args._registry
    use_default = args.db is None and not os.environ.get(db.DB_URL_ENV)
    url = db.resolve_url(args.db)
    missing = url.startswith("sqlite:///") and not os.path.exists(url.removeprefix("sqlite:///"))
    if missing and use_default:
        from geo.registry.demo import build_demo

        print(f"note: no registry at {url}; building the demo registry of Liechtenstein there "
              "(real OSM features, demo team attributes)", file=sys.stderr)
        registry = Registry(args.db)
        build_demo(registry)
    else:
        registry = Registry(args.db, create=False)
    args._registry = registry
    return registry


def read_layer(args, name: str, *, required: bool = True) -> gpd.GeoDataFrame | None:
    """Layer ``name`` of the registry (EPSG:4326, indexed by id); None for an empty optional
    layer."""
    frame = _registry(args).layer(name)
    if len(frame) == 0:
        if required:
            raise ValidationError(
                f"{name}: the registry has no {name}; build the demo registry with "
                "`python -m geo registry demo` or import a file with "
                "`python -m geo registry import`")
        return None
    return frame
