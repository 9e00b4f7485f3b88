"""The web benchmark script starts the real service, loads it and prints its table (timings are
not checked: only that requests were answered and none failed)."""

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_web.py"
HEADER = ("| scenario | requests/s | p50 | p90 | p99 | max | requests | 2xx | non-2xx by status "
          "| socket errors | failed | server CPU per request |")


def run_bench(*args: str) -> str:
    env = {k: v for k, v in os.environ.items() if k != "GEO_CACHE_DIR"}  # the service builds
    result = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True,
                            text=True, timeout=600, cwd=ROOT, env=env, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    return result.stdout


def row(out: str, scenario: str) -> list[str]:
    lines = [line for line in out.splitlines() if line.startswith(f"| {scenario}:")]
    assert len(lines) == 1, out
    return [cell.strip() for cell in lines[0].strip("|").split("|")]


def count(cell: str) -> int:
    return int(cell.replace(",", ""))


def check_dispatch(out: str) -> None:
    cells = row(out, "dispatch")
    requests, ok, non_2xx, sockets, failed = cells[6:11]
    assert count(requests) > 0
    assert count(ok) == count(requests)
    assert (non_2xx, sockets, failed) == ("none", "none", "0")
    assert re.search(r"target for dispatch .*\*\*(PASS|FAIL)\*\*", out)


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("wrk") is None, reason="wrk is not installed")
def test_wrk_run_prints_every_scenario():
    out = run_bench("--duration", "2s", "--warmup", "1s")
    assert out.startswith("$ python scripts/bench_web.py --duration 2s")
    assert HEADER in out
    assert "load generator: wrk" in out and "CPUs" in out and "code: commit" in out
    assert re.search(r"gunicorn: \d+ workers", out)
    check_dispatch(out)
    for scenario in ("teams", "mix"):
        cells = row(out, scenario)
        assert count(cells[6]) > 0 and cells[10] == "0", cells
    assert "total run time" in out


@pytest.mark.slow
def test_python_fallback_loads_dispatch():
    out = run_bench("--duration", "2s", "--warmup", "0.5s", "--scenarios", "dispatch",
                    "--load", "python", "--connections", "4")
    assert "load generator: Python fallback" in out
    assert HEADER in out
    check_dispatch(out)
    assert "| teams:" not in out
