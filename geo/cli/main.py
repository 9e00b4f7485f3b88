"""Command line: ``python -m geo <command> ...``.

Each command group lives in its own ``geo/cli/*.py`` module exposing ``register(subparsers)``,
which adds its parsers and sets ``func(args) -> int``; a command parses its arguments, calls the
application layer (:mod:`geo.services`) and prints. Only the module of the command given is
imported (``--help`` and a mistyped command import them all), so that a command does not pay
for the others' imports. Errors the user caused (:class:`GeoError`)
become one line on stderr and exit status 2, never a traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import os
import re
import signal
import sys

from geo.errors import GeoError

# Each command and the module that registers it (a test holds this to what they register).
COMMANDS = {
    "network": "geo.cli.network", "route": "geo.cli.network",
    "service-area": "geo.cli.analysis", "coverage": "geo.cli.analysis",
    "dispatch": "geo.cli.analysis", "exposure": "geo.cli.analysis",
    "site": "geo.cli.siting", "evacuate": "geo.cli.evacuation", "registry": "geo.cli.registry",
}
COMMAND_MODULES = tuple(dict.fromkeys(COMMANDS.values()))


# A value that starts with a minus and a digit: a negative number or list of numbers, such as
# the point "-33.9,18.4" or the box "-74.1,40.6,-73.9,40.8".
NEGATIVE_NUMBERS = re.compile(r"^-\.?\d[\d.eE+\-_]*(\s*,\s*[+-]?\.?\d[\d.eE+\-_]*)*$")


class _Parser(argparse.ArgumentParser):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # argparse takes any token starting with "-" for an option, except a plain negative
        # number; so "--from -33.9,18.4" would fail with "expected one argument", and southern
        # and western points would need "--from=-33.9,18.4". No option here looks like a
        # number, so number lists are values too. (This is argparse's own switch for negative
        # numbers, widened to lists.)
        self._negative_number_matcher = NEGATIVE_NUMBERS

    def error(self, message: str):  # argparse's own errors: one line, exit 2
        self.exit(2, f"error: {_one_line(message)}\n")


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser of ``command`` (with every command's when it is None or not one of them)."""
    parser = _Parser(prog="python -m geo", description="GIS emergency resource planning")
    subparsers = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    module = COMMANDS.get(command or "")
    for name in (module,) if module else COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(argv[0] if argv else None).parse_args(argv)
        return int(args.func(args) or 0)
    except GeoError as exc:
        print(f"error: {_one_line(str(exc))}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _reader_gone()


def _one_line(message: str) -> str:
    """A message for one line of stderr (libraries' messages may span several)."""
    return " ".join(message.split())


def _reader_gone() -> int:
    """The reader of stdout went away (``registry list | head``): stop quietly, as Unix tools
    do. Python would otherwise complain again when it flushes stdout at exit."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return 128 + signal.SIGPIPE  # the status of a tool that SIGPIPE stopped
