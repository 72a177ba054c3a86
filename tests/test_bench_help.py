"""Every benchmark script under bench/ answers --help with its usage and exits at once, without
loading a model or starting the benchmark (a script that ignored --help would run for minutes)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
BENCHES = sorted((REPO / "bench").glob("bench_*.py"))

pytestmark = [pytest.mark.slow]   # each imports torch; all of them start at once


def test_every_bench_answers_help_at_once():
    assert len(BENCHES) >= 9, BENCHES
    started = time.monotonic()
    runs = {path.name: subprocess.Popen([sys.executable, str(path), "--help"], cwd=REPO,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for path in BENCHES}
    problems = []
    for name, process in runs.items():
        try:
            out, err = process.communicate(timeout=max(1.0, 120 - (time.monotonic() - started)))
        except subprocess.TimeoutExpired:
            process.kill()
            problems.append(f"{name} --help still running after 120 s: it ignores --help")
            continue
        if process.returncode != 0 or not out.startswith("usage:"):
            problems.append(f"{name} --help: exit {process.returncode}, {(out + err)[:300]!r}")
    assert not problems, "\n".join(problems)
