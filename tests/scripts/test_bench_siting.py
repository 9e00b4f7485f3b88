"""The siting benchmark script runs end to end and prints its table (timings are not checked)."""

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "bench_siting.py"
HEADER = ("| case | size | spopt (PuLP+CBC) | of which model build | ours (HiGHS) | ratio "
          "| objective spopt / ours | status ours |")
CASES = ("| MCLP, p = 5, cutoff 600 s | 400 × 60 |", "| p-median, p = 5 | 200 × 30 |",
         "| p-median, p = 5 | 300 × 40 |", "| LSCP, cutoff 900 s | 150 × 20 |",
         "| p-center, p = 3 | 150 × 20 |")


@pytest.mark.slow
def test_quick_run_prints_the_table(tmp_path):
    pytest.importorskip("spopt")
    result = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick", "--cache-dir", str(tmp_path)],
        capture_output=True, text=True, timeout=900, cwd=ROOT, check=False)
    assert result.returncode == 0, result.stderr[-4000:]
    out = result.stdout
    assert out.startswith(f"$ python scripts/bench_siting.py --quick --cache-dir {tmp_path}\n")
    assert "python 3." in out and "CPUs" in out and "spopt 0.7.0" in out and "CBC " in out
    assert "code: commit" in out or "code: not a git checkout" in out
    assert HEADER in out
    rows = [line for line in out.splitlines() if line.startswith("| ") and " × " in line]
    assert len(rows) == len(CASES)
    for case, row in zip(CASES, rows, strict=True):
        assert row.startswith(case), row
        cells = [cell.strip() for cell in row.strip("|").split("|")]
        assert cells[6].startswith("same: "), row  # the two objectives agree
        assert cells[7] == "optimal", row
        assert re.fullmatch(r"[\d.]+ m?s", cells[4]), row  # ours was timed
    # Each tool's sites give the objective it reported, on the same matrix.
    assert out.count("recomputed from the matrix agrees") == 2 * len(CASES)
    assert "differs" not in out
    assert "total run time" in out
