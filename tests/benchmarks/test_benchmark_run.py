"""`python benchmarks/run.py` end to end in its short form: the rows asked for, each a ratio
measured against a baseline of the same run, written as JSON. Never a time."""
import json
import os
import subprocess
import sys
from pathlib import Path

RUN = Path(__file__).resolve().parents[2] / "benchmarks" / "run.py"


def test_quick_run_writes_a_ratio_per_goal(sandbox_home, tmp_path):
    out = tmp_path / "results.json"
    done = subprocess.run(
        [sys.executable, str(RUN), "--quick", "--only", "P3,P7", "--home", sandbox_home.home,
         "--json", str(out)],
        capture_output=True, text=True, env={**os.environ, "SKIFF_HOME": sandbox_home.home}, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    header = done.stdout.splitlines()[0]
    assert [cell.strip() for cell in header.split("|")] == [
        "goal", "subject", "baseline", "median ratio", "target", "met?"]

    result = json.loads(out.read_text())
    assert result["quick"] is True and result["repeat"] == 1
    rows = {row["goal"]: row for row in result["rows"]}
    assert set(rows) == {"P3", "P7"}
    assert rows["P3"]["baseline"] == "`skiff --version`" and rows["P3"]["limit"] == 1.3
    assert rows["P7"]["baseline"] == "`pyflyte package` of its flytekit twin" and rows["P7"]["limit"] == 0.5
    for row in rows.values():
        assert row["status"] == "measured", row
        assert len(row["subject_s"]) == len(row["baseline_s"]) == 1
        (subject,), (baseline,) = row["subject_s"], row["baseline_s"]
        assert subject > 0 and baseline > 0
        assert abs(row["value"] - subject / baseline) < 1e-6  # the ratio of this run's own pair
        assert row["met"] is (row["value"] <= row["limit"])
        assert f"{row['value']:.2f}x" in done.stdout  # the printed table shows the same ratio


def test_unknown_goal_is_a_usage_error():
    done = subprocess.run([sys.executable, str(RUN), "--only", "P9"], capture_output=True, text=True)
    assert done.returncode == 2
    assert "unknown goal 'P9'" in done.stderr
