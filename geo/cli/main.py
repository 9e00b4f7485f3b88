"""Command line: ``python -m geo <command> ...``.

Each command group lives in its own ``geo/cli/*.py`` module exposing ``register(subparsers)``,
which adds its parsers and sets ``func(args) -> int``; a command parses its arguments, calls the
application layer (:mod:`geo.services`) and prints. Errors the user caused (:class:`GeoError`)
become one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from geo.errors import GeoError

COMMAND_MODULES = ("geo.cli.network", "geo.cli.analysis", "geo.cli.registry")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(2, f"error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m geo", description="GIS emergency resource planning")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except GeoError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
