"""Keeps the benchmark scripts from rotting: the push benchmark's quick path runs and writes JSON.

No timing is asserted; the figures of a quick run mean nothing.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)


def test_the_push_benchmark_runs_and_writes_its_results(tmp_path):
    env = {**os.environ, "BENCH_RESULTS_DIR": str(tmp_path), "DATABASE_URL": ""}  # SQLite, its own emulator
    answer = subprocess.run(
        [sys.executable, "bench/bench_push.py", "--quick"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert answer.returncode == 0, answer.stdout[-3000:] + answer.stderr[-3000:]
    result = json.loads((tmp_path / "push.json").read_text())
    assert result["name"] == "push" and result["quick"] is True
    figures = {f["figure"]: f for f in result["figures"]}
    assert any(name.startswith("(a)") for name in figures)
    assert any(name.startswith("(b)") for name in figures)
    assert any(name.startswith("(c)") for name in figures)
