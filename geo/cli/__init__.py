"""The command line, ``python -m geo``: parse arguments, call the application layer, print."""

from geo.cli.main import main

__all__ = ["main"]
