"""Packages that import each exported name on first use (geo/core/lazy.py)."""

import importlib
import types

import pytest

import geo.analysis.coverage  # noqa: F401 (the submodule named like the function it holds)

LAZY_PACKAGES = ["geo.analysis", "geo.core", "geo.io", "geo.network", "geo.registry",
                 "geo.routing", "geo.services"]


@pytest.mark.parametrize("name", LAZY_PACKAGES)
def test_every_export_loads_and_is_listed(name):
    package = importlib.import_module(name)
    for export in package.__all__:
        assert not isinstance(getattr(package, export), types.ModuleType), export
    assert set(package.__all__) <= set(dir(package))
    assert not hasattr(package, "nothing_of_that_name")


def test_a_function_keeps_its_name_after_its_module_of_the_same_name_is_imported():
    from geo.analysis import coverage, evacuation

    assert callable(coverage) and callable(evacuation)
    assert geo.analysis.coverage is coverage
