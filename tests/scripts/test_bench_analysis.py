"""The analysis benchmark script runs end to end and prints its table (timings are not checked)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_analysis.py"
GENERATOR = ROOT / "scripts" / "generate_road_network.py"


@pytest.mark.slow
def test_quick_run_prints_the_table(tmp_path):
    # --quick uses a small generated network (Liechtenstein only while the generator is missing).
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--nodes", "3000", "--cache-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    assert out.startswith("$ python scripts/bench_analysis.py --quick")
    assert "| analysis | network | method | time | ours vs this | notes |" in out
    for analysis in ("| dispatch:", "| coverage:", "| service areas:"):
        assert analysis in out
    for method in ("networkx", "pandana", "raw scipy", "osmnx example recipe"):
        assert method in out
    assert "| Liechtenstein |" in out
    if GENERATOR.exists():
        assert "| generated " in out
    assert "python 3." in out and "numpy" in out and "CPUs" in out
