"""The command line, ``python -m geo``: parse arguments, call the application layer, print.
``main`` is imported on first use (:mod:`geo.core.lazy`): the client of the CLI server
(:mod:`geo.cli.client`), which lives here too, passes a command on without it."""

from typing import TYPE_CHECKING

from geo.core.lazy import lazy_exports

if TYPE_CHECKING:
    from geo.cli.main import main

__all__ = ["main"]
__getattr__, __dir__ = lazy_exports(__name__, {"geo.cli.main": ["main"]})
