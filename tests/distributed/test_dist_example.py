"""examples/ddp_digits.py on 2 processes: the same loss curve as one process."""
import re

import pytest

from mpi_jobs import ROOT, launch, output

pytest.importorskip("sklearn")


def test_digits_on_two_processes_follow_the_single_process_loss_curve():
    result = launch(ROOT / "examples" / "ddp_digits.py", "--epochs", 2, timeout=60)
    assert result.returncode == 0, output(result)
    assert "2 process(es), batch 32 each, vs 1 process, batch 64: 42 steps" in result.stdout
    match = re.search(r"largest loss difference (\S+), largest parameter difference (\S+)",
                      result.stdout)
    assert match, output(result)
    assert float(match[1]) < 1e-9 and float(match[2]) < 1e-9
    rows = re.findall(r"^\s*\d+\s+(\d\.\d+)\s+(\d\.\d+)$", result.stdout, re.M)
    assert len(rows) >= 8 and all(a == b for a, b in rows), rows   # 12 digits agree
    assert float(rows[-1][0]) < float(rows[0][0]) - 1.0               # and it learns
