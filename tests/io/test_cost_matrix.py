"""Cost matrices and demand weights from other tools, as CSV files written in each test."""

import re

import numpy as np
import pytest

from geo.errors import SourceError, ValidationError
from geo.io.cost_matrix import read_cost_matrix, read_weights

IDS = ["d1", "d2", "d3"]


def write(tmp_path, text, name="matrix.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def refused(path, match, **kwargs):
    """The error of reading ``path``, which must name the field and the file."""
    with pytest.raises(ValidationError, match=match) as info:
        read_cost_matrix(path, field="--cost-matrix", **kwargs)
    assert str(info.value).startswith(f"--cost-matrix: {path}: ")
    return str(info.value)


def weights_refused(path, match, ids=IDS):
    with pytest.raises(ValidationError, match=match) as info:
        read_weights(path, ids=ids, field="--weights")
    assert str(info.value).startswith(f"--weights: {path}: ")
    return str(info.value)


# ---- the matrix ---------------------------------------------------------------------------


def test_ids_values_and_unreachable_cells(tmp_path):
    path = write(tmp_path, "id,c1,c2,c3\n"
                           "d1,10,,2.5\n"
                           "d2,inf,-,0\n"
                           "d3, 7 ,INF,Infinity\n")
    costs = read_cost_matrix(path)
    assert list(costs.index) == IDS and costs.index.name == "demand"
    assert list(costs.columns) == ["c1", "c2", "c3"]
    np.testing.assert_array_equal(costs.to_numpy(), [[10, np.inf, 2.5],
                                                     [np.inf, np.inf, 0],
                                                     [7, np.inf, np.inf]])


def test_a_matrix_of_numbers_only(tmp_path):
    # every cell a number: nothing to mark unreachable (pandas 3 once gave a read-only array)
    costs = read_cost_matrix(write(tmp_path, "id,c1,c2\nd1,1,2\nd2,3,4\n"))
    np.testing.assert_array_equal(costs.to_numpy(), [[1, 2], [3, 4]])


def test_ids_stay_text(tmp_path):
    costs = read_cost_matrix(write(tmp_path, "id,01,2\n007,1,2\n8,3,4\n"))
    assert list(costs.columns) == ["01", "2"] and list(costs.index) == ["007", "8"]


@pytest.mark.parametrize("delimiter", [";", "\t"])
def test_semicolon_and_tab(tmp_path, delimiter):
    text = "\n".join(delimiter.join(row) for row in
                     (["id", "c,1", "c2"], ["d1", "1.5", ""], ["d2", "3", "4"])) + "\n"
    costs = read_cost_matrix(write(tmp_path, text))
    assert list(costs.columns) == ["c,1", "c2"]  # a comma is no delimiter here
    np.testing.assert_array_equal(costs.to_numpy(), [[1.5, np.inf], [3, 4]])


def test_quoted_ids_and_windows_line_ends(tmp_path):
    costs = read_cost_matrix(write(tmp_path, 'id,"Schule, Vaduz",c2\r\nd1,1,2\r\n\r\nd2,3,4\r\n'))
    assert list(costs.columns) == ["Schule, Vaduz", "c2"] and list(costs.index) == ["d1", "d2"]


GBK_TEXT = ("社区编号,第一中学操场,人民广场,体育中心\n"
            "城北社区,120,,340\n"
            "城南社区,30,45,\n"
            "河西新村,,80,95\n")


@pytest.mark.parametrize("encoding", [None, "gbk", "GB18030"])
def test_gbk_with_chinese_ids(tmp_path, encoding):
    path = write(tmp_path, GBK_TEXT, encoding="gbk")
    costs = read_cost_matrix(path, encoding=encoding)
    assert list(costs.columns) == ["第一中学操场", "人民广场", "体育中心"]
    assert list(costs.index) == ["城北社区", "城南社区", "河西新村"]
    np.testing.assert_array_equal(costs.to_numpy(), [[120, np.inf, 340], [30, 45, np.inf],
                                                     [np.inf, 80, 95]])


def test_utf8_byte_order_mark(tmp_path):
    path = write(tmp_path, "\ufeffid,c1,c2\nd1,1,2\nd2,3,\n")
    costs = read_cost_matrix(path)
    assert list(costs.columns) == ["c1", "c2"] and list(costs.index) == ["d1", "d2"]
    assert costs.index[0] == "d1"  # not "\ufeffd1" or an id column named so


@pytest.mark.parametrize("cell, shown", [("far", "'far'"), ("1,5", "'1,5'"), ("12 km", "'12 km'")])
def test_a_cell_that_is_not_a_number_is_named(tmp_path, cell, shown):
    path = write(tmp_path, f"id;c1;c2\nd1;1;2\nd2;3;{cell}\n")
    message = refused(path, "is not a non-negative number")
    assert f"line 3, demand 'd2', candidate 'c2': {shown}" in message


def test_negative_cost(tmp_path):
    message = refused(write(tmp_path, "id,c1,c2\nd1,1,-4\nd2,-1,2\n"), "non-negative")
    assert "demand 'd1', candidate 'c2': '-4'" in message and "(2 such cells)" in message


@pytest.mark.parametrize("cell", ["nan", "NaN", "-inf"])
def test_nan_text_is_an_error_not_unreachable(tmp_path, cell):
    message = refused(write(tmp_path, f"id,c1,c2\nd1,1,2\nd2,{cell},4\n"), "non-negative")
    assert f"demand 'd2', candidate 'c1': '{cell}'" in message


@pytest.mark.parametrize("row, count", [("d1,1", 1), ("d1,1,2,3", 3)])
def test_a_row_with_more_or_fewer_cells_than_the_header(tmp_path, row, count):
    # a short row was once padded with empty cells, that is read as unreachable
    path = write(tmp_path, f"id,c1,c2\n{row}\nd2,3,4\n")
    message = refused(path, re.escape(f"line 2 (demand 'd1') has {count} costs for the 2 "
                                      "candidates of the header row"))
    assert message.count("line") == 1


def test_duplicate_candidate_ids(tmp_path):
    refused(write(tmp_path, "id,c1,c2,c1\nd1,1,2,3\n"), "duplicate candidate ids: 'c1'$")


def test_duplicate_demand_ids(tmp_path):
    refused(write(tmp_path, "id,c1\nd1,1\nd2,2\nd1,3\n"), "duplicate demand ids: 'd1'$")


def test_empty_ids(tmp_path):
    refused(write(tmp_path, "id,c1,,c3\nd1,1,2,3\n"), "line 1, column 3: the candidate id is empty")
    refused(write(tmp_path, "id,c1\nd1,1\n ,2\n"), "line 3: the demand id .* is empty")


@pytest.mark.parametrize("text", ["id,c1,c2\n", "id,c1,c2\n\n \n", "", "id\nd1\nd2\n"])
def test_header_only_or_no_table(tmp_path, text):
    refused(write(tmp_path, text), "expected a header row of candidate ids and at least one "
                                   "demand row")


def test_missing_file(tmp_path):
    with pytest.raises(SourceError, match="--cost-matrix: .*nowhere.csv: no such file"):
        read_cost_matrix(tmp_path / "nowhere.csv", field="--cost-matrix")


# ---- the weights --------------------------------------------------------------------------


def test_weights_by_id_in_another_order(tmp_path):
    path = write(tmp_path, "d3,30\nd1,10\nd2,20.5\n", "w.csv")
    np.testing.assert_array_equal(read_weights(path, ids=IDS), [10, 20.5, 30])


@pytest.mark.parametrize("text", ["id,weight\nd2,20.5\nd3,30\nd1,10\n",
                                  "\ufeffid;weight\nd2;20.5\nd3;30\nd1;10\n",
                                  "id\tweight\n\nd2\t20.5\nd3\t30\nd1\t10\n"])
def test_weights_with_a_header_row(tmp_path, text):
    np.testing.assert_array_equal(read_weights(write(tmp_path, text, "w.csv"), ids=IDS),
                                  [10, 20.5, 30])


@pytest.mark.parametrize("text", ["10\n20.5\n30\n", "weight\n10\n20.5\n30\n", "10\n\n20.5\n30"])
def test_one_column_weights_in_row_order(tmp_path, text):
    np.testing.assert_array_equal(read_weights(write(tmp_path, text, "w.csv"), ids=IDS),
                                  [10, 20.5, 30])


def test_weights_with_chinese_ids_in_gbk(tmp_path):
    path = write(tmp_path, "社区编号,人口\n河西新村,300\n城北社区,1200\n城南社区,800\n", "w.csv",
                 encoding="gbk")
    ids = ["城北社区", "城南社区", "河西新村"]
    np.testing.assert_array_equal(read_weights(path, ids=ids, encoding="gbk"), [1200, 800, 300])


def test_one_column_count_mismatch(tmp_path):
    path = write(tmp_path, "10\n20\n", "w.csv")
    message = weights_refused(path, "the shapes do not match")
    assert "2 weights for the 3 demand rows of the cost matrix" in message


def test_missing_id(tmp_path):
    message = weights_refused(write(tmp_path, "d1,1\nd3,3\n", "w.csv"),
                              "the shapes do not match")
    assert "no weight for 1 demand ids of the matrix (e.g. 'd2')" in message


def test_extra_id(tmp_path):
    message = weights_refused(write(tmp_path, "d1,1\nd2,2\nd3,3\nd9,9\n", "w.csv"),
                              "the shapes do not match")
    assert "1 ids not in the matrix (e.g. 'd9')" in message


def test_missing_and_extra_ids_both_said(tmp_path):
    message = weights_refused(write(tmp_path, "d1,1\nd2,2\nD3,3\n", "w.csv"),
                              "the shapes do not match")
    assert "(e.g. 'd3')" in message and "(e.g. 'D3')" in message


def test_duplicate_id(tmp_path):
    weights_refused(write(tmp_path, "d1,1\nd2,2\nd2,5\nd3,3\n", "w.csv"),
                    "line 3: duplicate demand id 'd2'")


@pytest.mark.parametrize("cell, match", [
    ("-2", "line 2, demand 'd2': weights must be finite, non-negative numbers, got '-2'"),
    ("nan", "line 2, demand 'd2': weights must be finite, non-negative numbers, got 'nan'"),
    ("inf", "line 2, demand 'd2': weights must be finite, non-negative numbers, got 'inf'"),
    ("many", "line 2, demand 'd2': 'many' is not a number"),
    ("", "line 2, demand 'd2': '' is not a number"),
])
def test_bad_weight(tmp_path, cell, match):
    weights_refused(write(tmp_path, f"d1,1\nd2,{cell}\nd3,3\n", "w.csv"), re.escape(match))


def test_bad_weight_in_one_column(tmp_path):
    weights_refused(write(tmp_path, "weight\n1\nlots\n3\n", "w.csv"),
                    re.escape("line 3: 'lots' is not a number"))


@pytest.mark.parametrize("text", ["", "id,weight\n", "\n\n"])
def test_no_weights(tmp_path, text):
    weights_refused(write(tmp_path, text, "w.csv"), "no weights$")
