"""Packages that export their modules' names without importing every module up front.

A command that uses one analysis should not pay for importing all of them (and scipy.optimize,
HiGHS, Pillow, … behind them). A package ``__init__`` lists which module holds each name it
exports, imports them under ``if TYPE_CHECKING:`` for type checkers and import-linter, and
leaves the importing itself to the first use::

    if TYPE_CHECKING:
        from geo.io.geojson import write_geojson

    __all__ = ["write_geojson"]
    __getattr__, __dir__ = lazy_exports(__name__, {
        "geo.io.geojson": ["write_geojson"],
    })

``from geo.io import write_geojson`` then imports :mod:`geo.io.geojson` only, once.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Mapping, Sequence
from typing import Any


def lazy_exports(package: str, modules: Mapping[str, Sequence[str]],
                 ) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, whose exports (its ``__all__``) are
    ``modules``' values, each found in the module of its key on first use."""
    home = {name: module for module, names in modules.items() for name in names}
    exported = vars(sys.modules[package]).get("__all__", ())
    if sorted(home) != sorted(exported):
        raise ImportError(f"{package}: __all__ {sorted(exported)} != lazy exports {sorted(home)}")
    sys.modules[package].__class__ = _LazyPackage

    def getattr_(name: str) -> Any:
        module = home.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(module), name)
        object.__setattr__(sys.modules[package], name, value)  # later lookups skip this
        return value

    def dir_() -> list[str]:
        return sorted(set(vars(sys.modules[package])) | set(home))

    return getattr_, dir_


class _LazyPackage(types.ModuleType):
    """A package whose exports load on first use. Importing a submodule sets the package's
    attribute of that name to the submodule; where the package exports a function of the same
    name (``geo.analysis.coverage``), the function keeps the name, as when the package imported
    it up front."""

    def __setattr__(self, name: str, value: Any) -> None:
        submodule = isinstance(value, types.ModuleType) \
            and value.__name__ == f"{self.__name__}.{name}"
        if submodule and name in vars(self).get("__all__", ()):
            return
        super().__setattr__(name, value)
