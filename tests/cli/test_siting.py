"""``python -m geo site``: on a cost matrix from another tool (objectives against a brute force
over every choice of sites) and on the road network of the demo registry."""

import itertools
import json
import shutil

import geopandas as gpd
import numpy as np
import pytest

from geo.cli.main import main
from geo.registry import Registry

N_DEMAND, N_CANDIDATES = 12, 6
CANDIDATES = [f"c{j + 1}" for j in range(N_CANDIDATES)]


@pytest.fixture
def run(capsys):
    def invoke(*argv):
        try:
            code = main(["site", *argv])
        except SystemExit as exc:  # argparse's own usage errors
            code = exc.code
        out, err = capsys.readouterr()
        return code, out, err
    return invoke


# ---- a cost matrix from another tool ------------------------------------------------------


@pytest.fixture
def instance(tmp_path):
    """12 demand points × 6 candidates, integer costs with some cells empty (unreachable), and
    the weights by id, in another order than the matrix, under a header row."""
    rng = np.random.default_rng(7)
    costs = rng.integers(40, 600, (N_DEMAND, N_CANDIDATES)).astype(float)
    costs[rng.random(costs.shape) < 0.2] = np.inf
    costs[0] = np.inf  # a demand point nothing reaches
    weights = rng.integers(1, 40, N_DEMAND).astype(float)
    ids = [f"d{i + 1}" for i in range(N_DEMAND)]
    matrix = tmp_path / "matrix.csv"
    matrix.write_text("demand," + ",".join(CANDIDATES) + "\n" + "".join(
        f"{ids[i]}," + ",".join("" if np.isinf(v) else f"{v:.0f}" for v in costs[i]) + "\n"
        for i in range(N_DEMAND)))
    shuffled = rng.permutation(N_DEMAND)
    weights_file = tmp_path / "weights.csv"
    weights_file.write_text("id,people\n" + "".join(f"{ids[i]},{weights[i]:.0f}\n"
                                                    for i in shuffled))
    return costs, weights, ["--cost-matrix", str(matrix), "--weights", str(weights_file)]


def nearest(costs, sites):
    return costs[:, list(sites)].min(axis=1)


def objective(problem, costs, weights, sites, cutoff=None):
    """The model's objective for ``sites``; demand that no candidate reaches (within the
    cutoff) is left out, as the models do. inf: the sites leave served demand without a site."""
    near = nearest(costs, sites)
    if problem == "mclp":
        return float(weights[near <= cutoff].sum())
    served = np.isfinite(costs).any(axis=1) & (weights > 0)
    if problem == "lscp":
        reached = (costs <= cutoff).any(axis=1) & (weights > 0)
        return len(sites) if (near[reached] <= cutoff).all() else np.inf
    if problem == "pmedian":
        return float((weights[served] * near[served]).sum())
    return float(near[served].max())  # pcenter


def brute_force(problem, costs, weights, p=None, cutoff=None):
    sizes = [p] if p is not None else range(1, N_CANDIDATES + 1)
    values = [objective(problem, costs, weights, sites, cutoff)
              for size in sizes for sites in itertools.combinations(range(N_CANDIDATES), size)]
    return max(values) if problem == "mclp" else min(values)


@pytest.mark.parametrize("problem, argv", [
    ("mclp", ("--p", "2", "--cutoff", "300")),
    ("pmedian", ("--p", "2")),
    ("pcenter", ("--p", "2")),
    ("lscp", ("--cutoff", "300")),
])
def test_matrix_objective_is_the_brute_force_optimum(run, instance, tmp_path, problem, argv):
    costs, weights, files = instance
    out = tmp_path / "result.json"
    code, stdout, stderr = run("--problem", problem, *argv, *files, "--json", "--out", str(out))
    assert code == 0 and stderr == ""
    result = json.loads(stdout)
    p = 2 if problem != "lscp" else None
    cutoff = 300.0 if problem in ("mclp", "lscp") else None
    best = brute_force(problem, costs, weights, p=p, cutoff=cutoff)
    assert result["status"] == "optimal" and result["optimal"] is True and result["gap"] == 0
    assert result["objective"] == pytest.approx(best)
    assert set(result["sites"]) <= set(CANDIDATES) and len(set(result["sites"])) == len(
        result["sites"])
    if p is not None:
        assert len(result["sites"]) == p
    chosen = [CANDIDATES.index(site) for site in result["sites"]]
    assert objective(problem, costs, weights, chosen, cutoff) == pytest.approx(best)
    assert result["total_demand"] == pytest.approx(weights.sum())
    assert result["unreachable_points"] >= 1  # d1
    assert json.loads(out.read_text(encoding="utf-8")) == result


def test_matrix_text_output(run, instance):
    _, _, files = instance
    code, stdout, _ = run("--problem", "mclp", "--p", "2", "--cutoff", "300", *files)
    lines = stdout.splitlines()
    assert code == 0
    assert lines[0].startswith("mclp (proven optimal): 2 new site(s), covered ")
    assert lines[1].startswith("covered: ")
    assert sum(line.startswith("site c") and line.endswith(" assigned") for line in lines) == 2
    assert any(line.startswith("note: ") and "not reachable from any allowed candidate" in line
               for line in lines)


def test_matrix_out_cannot_be_written(run, instance, tmp_path):
    _, _, files = instance
    folder = tmp_path / "a-file"
    folder.write_text("")
    code, stdout, stderr = run("--problem", "pmedian", "--p", "2", *files,
                               "--out", str(folder / "result.json"))
    assert code == 2 and stdout == "" and stderr.count("\n") == 1
    assert stderr.startswith(f"error: --out: {folder / 'result.json'}: cannot write")


def matrix_file(tmp_path, text, name="bad.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return str(path)


@pytest.mark.parametrize("argv, message", [
    (("--problem", "mclp", "--p", "0", "--cutoff", "300"),
     "error: --p: expected at least 1 new site, got 0"),
    (("--problem", "pmedian", "--p", "7"),
     "error: p: 7 new sites asked for, but only 6 candidates can be chosen"),
    (("--problem", "lscp", "--p", "2", "--cutoff", "300"),
     "error: --p: lscp finds the number of sites itself; give no --p"),
    (("--problem", "pmedian"), "error: --p: pmedian needs the number of new sites"),
    (("--problem", "mclp", "--p", "2"), "error: --cutoff: mclp on a cost matrix needs a cutoff"),
    (("--problem", "lscp",), "error: --cutoff: lscp on a cost matrix needs a cutoff"),
    (("--problem", "mclp", "--p", "2", "--cutoff", "0"),
     "error: --cutoff: expected a positive number (in the cost matrix's units), got 0"),
    (("--problem", "pmedian", "--p", "2", "--minutes", "10"),
     "error: --minutes: not used with --cost-matrix"),
    (("--problem", "pmedian", "--p", "2", "--capacitated"),
     "error: --capacitated: not used with --cost-matrix"),
    (("--problem", "pmedian", "--p", "2", "--keep-existing"),
     "error: --keep-existing: not used with --cost-matrix"),
    (("--problem", "pmedian", "--p", "2", "--candidates", "X"),
     "error: --candidates: not used with --cost-matrix"),
    (("--problem", "mclp", "--p", "2", "--cutoff", "10"),
     "error: cutoff: no candidate is within 10 of any demand point (the nearest pair is "),
    (("--problem", "lscp", "--cutoff", "10"),
     "error: cutoff: no candidate is within 10 of any demand point"),
    (("--problem", "pmedian", "--p", "2", "--time-limit", "0"),
     "error: --time-limit: expected a positive number (seconds), got 0"),
    (("--problem", "pmedien", "--p", "2"),
     "error: argument --problem: invalid choice: 'pmedien' (choose from 'lscp', 'mclp', "),
])
def test_matrix_bad_options(run, instance, argv, message):
    code, stdout, stderr = run(*argv, *instance[2])
    assert code == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1


@pytest.mark.parametrize("matrix, weights, message", [
    ("id,c1,c2\nd1,1,2\nd2,3,4\n", "5\n",
     "error: --weights: {weights}: 1 weights for the 2 demand rows of the cost matrix; the "
     "shapes do not match"),
    ("id,c1,c2\nd1,1,2\nd2,3,4\n", "d1,5\nd3,6\n", "error: --weights: {weights}: the shapes do "
                                                   "not match: no weight for 1 demand ids"),
    ("id,c1,c2\nd1,1,2\nd2,3,4\n", "d1,0\nd2,0\n",
     "error: weights: the total demand is zero; there is nothing to serve"),
    ("id,c1,c2\nd1,1,-2\nd2,3,4\n", "5\n6\n", "error: --cost-matrix: {matrix}: line 2, demand "
                                              "'d1', candidate 'c2': '-2' is not a non-negative"),
    ("id,c1,c2\nd1,1,2\nd2,3,n/c\n", "5\n6\n", "error: --cost-matrix: {matrix}: line 3, demand "
                                               "'d2', candidate 'c2': 'n/c' is not a non-negative"),
    ("id,c1,c2\nd1,1,2\nd2,nan,4\n", "5\n6\n", "error: --cost-matrix: {matrix}: line 3, demand "
                                               "'d2', candidate 'c1': 'nan' is not a non-negative"),
    ("id,c1,c1\nd1,1,2\nd2,3,4\n", "5\n6\n",
     "error: --cost-matrix: {matrix}: duplicate candidate ids: 'c1'"),
    ("id,c1,c2\nd1,1\nd2,3,4\n", "5\n6\n",
     "error: --cost-matrix: {matrix}: line 2 (demand 'd1') has 1 costs for the 2 candidates"),
])
def test_matrix_bad_files(run, tmp_path, matrix, weights, message):
    matrix_path = matrix_file(tmp_path, matrix)
    weights_path = matrix_file(tmp_path, weights, "w.csv")
    code, stdout, stderr = run("--problem", "pmedian", "--p", "1", "--cost-matrix", matrix_path,
                               "--weights", weights_path)
    assert code == 2 and stdout == ""
    assert stderr.startswith(message.format(matrix=matrix_path, weights=weights_path))
    assert stderr.count("\n") == 1


@pytest.mark.parametrize("argv, message", [
    (("--weights", "w.csv"), "error: --weights: only with --cost-matrix (on the network, give "
                             "--minutes)"),
    (("--cutoff", "300"), "error: --cutoff: only with --cost-matrix (on the network, give "
                          "--minutes)"),
    (("--cost-matrix", "m.csv"), "error: --weights: a cost matrix needs the demand weights"),
])
def test_matrix_options_without_a_matrix_or_weights(run, argv, message):
    code, stdout, stderr = run("--problem", "mclp", "--p", "2", *argv)
    assert code == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1


def test_time_limit_is_never_called_optimal(run, tmp_path):
    """A random Euclidean MCLP that HiGHS does not prove within 0.01 s: the best found with its
    gap, or no solution at all; both said as such, never "optimal"."""
    rng = np.random.default_rng(0)
    demand, sites = rng.random((1000, 2)), rng.random((150, 2))
    costs = np.hypot(*(demand[:, None] - sites[None]).transpose(2, 0, 1))
    matrix = tmp_path / "matrix.csv"
    matrix.write_text("id," + ",".join(f"s{j}" for j in range(150)) + "\n" + "".join(
        f"p{i}," + ",".join(f"{v:.4f}" for v in row) + "\n" for i, row in enumerate(costs)))
    weights = tmp_path / "weights.csv"
    weights.write_text("".join(f"{w}\n" for w in rng.integers(1, 100, 1000)))
    argv = ("--problem", "mclp", "--p", "10", "--cutoff", "0.08", "--cost-matrix", str(matrix),
            "--weights", str(weights), "--time-limit", "0.01")
    for extra in ("--json", None):  # each run may or may not find a solution in time
        code, stdout, stderr = run(*argv, *([extra] if extra else []))
        if code != 0:
            assert code == 2 and stdout == ""
            assert stderr.startswith("error: time_limit_s: the solver found no solution "
                                     "within the time limit")
        elif extra:
            result = json.loads(stdout)
            assert result["status"] == "time_limit" and result["optimal"] is False
            assert result["gap"] > 0 and len(result["sites"]) == 10
        else:
            assert stdout.startswith("mclp (time limit reached: best found, gap ")
            assert "optimal" not in stdout


# ---- on the road network of the demo registry ---------------------------------------------


@pytest.fixture(scope="module")
def demo_copy(demo_file, tmp_path_factory):
    path = tmp_path_factory.mktemp("site") / "demo.sqlite"
    shutil.copy(demo_file, path)
    return path


@pytest.fixture
def run_demo(run, demo_copy, cache_dir):
    def invoke(*argv):
        return run(*argv, "--db", str(demo_copy), "--cache-dir", str(cache_dir))
    return invoke


@pytest.mark.slow
def test_network_mclp_keeping_the_open_shelters(run_demo, demo_copy, tmp_path):
    out = tmp_path / "sites.geojson"
    code, stdout, stderr = run_demo("--problem", "mclp", "--p", "2", "--keep-existing", "--json",
                                    "--out", str(out))
    assert code == 0 and stderr == ""
    result = json.loads(stdout)
    assert result["status"] == "optimal" and result["gap"] == 0
    assert len(result["sites"]) == 2 == len(result["new_sites"])
    assert {s["id"] for s in result["new_sites"]} == set(result["sites"])
    excluded = {row["candidate"] for row in result["excluded_candidates"]}
    assert excluded and not excluded & set(result["sites"])
    with Registry(str(demo_copy)) as registry:
        shelters = registry.layer("shelters")
    open_shelters = set(shelters.index[shelters["status"] == "open"])
    assert set(result["kept"]) == open_shelters == {s["id"] for s in result["kept_sites"]}
    assert not set(result["sites"]) & open_shelters

    rows = result["before_after"]
    breaks = sorted({row["break"] for row in rows})
    assert result["cutoff"] == 600.0 and 600.0 in breaks  # 10 minutes for emergency shelters
    by = {(row["scenario"], row["break"]): row for row in rows}
    assert set(by) == {(s, b) for s in ("before", "after") for b in breaks} and len(rows) == len(by)
    assert by["before", 600.0]["sites"] == len(open_shelters)
    assert by["after", 600.0]["sites"] == len(open_shelters) + 2
    for b in breaks:
        assert by["after", b]["covered"] >= by["before", b]["covered"] - 1e-6
    assert by["after", 600.0]["covered"] == pytest.approx(result["covered_demand"])
    assert result["objective"] == pytest.approx(result["covered_demand"])

    collection = json.loads(out.read_text(encoding="utf-8"))
    assert collection["type"] == "FeatureCollection"
    assert {f["geometry"]["type"] for f in collection["features"]} == {"Point"}
    new = [f["properties"]["id"] for f in collection["features"] if f["properties"]["new"]]
    assert all(f["id"] == f["properties"]["id"] for f in collection["features"])
    assert sorted(new) == sorted(result["sites"])
    assert len(collection["features"]) == len(open_shelters) + 2


@pytest.mark.slow
def test_network_text_output(run_demo):
    code, stdout, _ = run_demo("--problem", "mclp", "--p", "2", "--keep-existing")
    lines = stdout.splitlines()
    assert code == 0
    assert lines[0].startswith("mclp (proven optimal): 2 new site(s), covered ")
    assert sum(line.startswith("new site ") for line in lines) == 2
    assert any(line.startswith("kept open: ") and line.endswith(" shelters") for line in lines)
    assert any(line.startswith("excluded as unsafe: ") for line in lines)
    header = lines.index(next(line for line in lines if line.startswith("before → after (")))
    assert lines[header + 1].startswith("  within 5 min: ") and "% → " in lines[header + 1]
    assert lines[header + 2].startswith("  within 10 min: ")
    assert any(line.startswith("  mean trip ") and " → " in line for line in lines)
    assert lines[-1] == "Road data © OpenStreetMap contributors"


@pytest.mark.slow
def test_network_registry_shelters_as_candidates(run_demo):
    code, stdout, _ = run_demo("--problem", "mclp", "--p", "2", "--candidates", "shelters",
                               "--json")
    result = json.loads(stdout)
    assert code == 0 and result["status"] == "optimal" and len(result["sites"]) == 2
    assert all(site.startswith("S-") for site in result["sites"])
    assert result["kept"] == []


@pytest.mark.slow
def test_network_candidates_from_a_file(run_demo, demo_copy, tmp_path):
    """The three depots nearest Vaduz town hall as a GeoJSON file with ids of its own."""
    with Registry(str(demo_copy)) as registry:
        depots = registry.layer("depots")
    metric = depots.to_crs(32632)
    vaduz = gpd.GeoSeries.from_xy([9.5209], [47.1410], crs=4326).to_crs(32632).iloc[0]
    near = depots.loc[metric.distance(vaduz).sort_values().index[:3], ["name", "geometry"]]
    path = tmp_path / "candidates.geojson"
    near.assign(id=["V1", "V2", "V3"]).reset_index(drop=True).to_file(path, driver="GeoJSON")
    code, stdout, stderr = run_demo("--problem", "mclp", "--p", "2", "--candidates", str(path),
                                    "--json")
    assert code == 0, stderr
    result = json.loads(stdout)
    assert result["status"] == "optimal" and len(result["sites"]) == 2
    assert set(result["sites"]) <= {"V1", "V2", "V3"}
    names = {s["name"] for s in result["new_sites"]}
    assert names <= set(near["name"])


@pytest.mark.parametrize("argv, message", [
    (("--problem", "mclp", "--p", "2", "--shelter-class", "bunker"),
     "error: shelter_class: 'bunker' is not one of emergency, "),
    (("--problem", "mclp", "--p", "2", "--candidates", "scools"),
     "error: --candidates: expected osm, a registry layer (shelters, depots) or a file; "
     "'scools' is none of them (no such file)"),
    (("--problem", "mclp", "--p", "2", "--minutes", "-5"),
     "error: --minutes: expected a positive number (minutes), got -5"),
    (("--problem", "pcenter", "--p", "0"), "error: --p: expected at least 1 new site, got 0"),
])
def test_network_bad_options(run_demo, argv, message):
    code, stdout, stderr = run_demo(*argv)
    assert code == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1


@pytest.mark.slow
@pytest.mark.parametrize("argv, message", [
    (("--problem", "pmedian", "--p", "1", "--capacitated"),
     "error: capacities: the kept sites and the 1 largest candidates hold at most "),
    (("--problem", "mclp", "--p", "5000"),
     "error: p: 5000 new sites asked for, but only "),
])
def test_network_refusals_after_the_travel_times(run_demo, argv, message):
    code, stdout, stderr = run_demo(*argv)
    assert code == 2 and stdout == ""
    assert stderr.startswith(message) and stderr.count("\n") == 1
