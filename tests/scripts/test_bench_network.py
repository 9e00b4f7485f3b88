"""Smoke run of the network benchmark on a small generated network (no timing is asserted)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_small_run_prints_the_table_and_agrees_with_networkx(tmp_path):
    done = subprocess.run(
        [sys.executable, "scripts/bench_network.py", "--nodes", "3000", "--sources", "3",
         "--rounds", "1", "--repeat", "1", "--cache-dir", str(tmp_path)],
        capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "| network | measure | ours |" in done.stdout
    assert done.stdout.count("distances equal networkx's within 1e-06 s") == 4
    assert "osmnx graph_from_xml" in done.stdout
