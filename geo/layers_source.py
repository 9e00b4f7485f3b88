"""Where the CLI analyses take their layers from: the registry database (``--db``)."""

from __future__ import annotations

import argparse

import geopandas as gpd

from geo.errors import ValidationError


def add_layer_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--db", default=None,
                        help="registry database, a path or URL (default $GEO_DB_URL, else "
                             "instance/registry.sqlite; build the demo with `registry demo`)")


def _registry(args):
    from geo.registry import Registry

    if getattr(args, "_registry", None) is None:
        args._registry = Registry(args.db)
    return args._registry


def read_layer(args, name: str, *, required: bool = True) -> gpd.GeoDataFrame | None:
    """Layer ``name`` of the registry (EPSG:4326, indexed by id); an empty optional layer is None."""
    frame = _registry(args).layer(name)
    if len(frame) == 0:
        if required:
            raise ValidationError(
                f"{name}: the registry has no {name}; build the demo registry with "
                "`python -m geo registry demo` or import a file with `python -m geo registry import`")
        return None
    return frame
