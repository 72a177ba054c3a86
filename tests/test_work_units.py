"""./test.sh runs two pytest-xdist workers and tests/work_units.py decides what each unit of work
is. A file's tests must stay on one worker (module fixtures start a lab server, a classroom hub,
a demo app once) and the notebook runs must not (one worker running all of them alone was the
suite's longest path: 18 minutes, measured with whole files as units)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest

from work_units import LONGEST_FIRST, NOTEBOOK_RUNS, in_queue_order, make_scheduler, rank

REPO = Path(__file__).resolve().parent.parent


def test_test_sh_runs_two_workers_on_these_units_in_this_order():
    command = (REPO / "test.sh").read_text().splitlines()[-1]
    assert re.search(r"pytest -n 2 --dist loadfile --no-loadscope-reorder \"\$@\"$", command), (
        command)


def test_a_file_is_one_unit_and_each_notebook_run_is_its_own():
    pytest.importorskip("xdist")
    options = {"dist": "loadfile", "tx": ["2*popen"]}   # as -n 2 --dist loadfile sets them
    scheduler = make_scheduler(SimpleNamespace(getvalue=options.get), None)
    assert make_scheduler(SimpleNamespace(getvalue={**options, "dist": "load"}.get), None) is None
    split = scheduler._split_scope
    assert split("tests/test_sampling.py::test_a") == split("tests/test_sampling.py::test_b[1]")
    assert split("tests/test_sampling.py::test_a") != split("tests/test_tokens.py::test_a")
    runs = [f"{NOTEBOOK_RUNS}::test_notebook_runs_clean_with_its_worked_solutions[{name}]"
            for name in ("00_the_clock", "01_tokenization", "zh/00_the_clock")]
    assert len({split(nodeid) for nodeid in runs}) == 3


def test_the_longest_units_come_first_and_a_file_keeps_its_order():
    items = [SimpleNamespace(nodeid=nodeid) for nodeid in [
        "tests/test_sampling.py::a", f"{NOTEBOOK_RUNS}::t[00]",
        "tests/browser/test_demo_in_browser.py::b", "tests/test_sampling.py::b",
        f"{NOTEBOOK_RUNS}::t[zh/00]", "tests/test_existing_environment.py::c"]]
    in_queue_order(items)
    assert [item.nodeid.split("::")[1] for item in items] == [
        "c", "t[00]", "t[zh/00]", "b", "a", "b"]
    for prefix in LONGEST_FIRST:
        assert (REPO / prefix).exists(), f"{prefix} is ranked in work_units.py but is gone"
    assert rank("tests/test_tokens.py") == len(LONGEST_FIRST)


def test_the_real_collection_puts_the_longest_units_first():
    """The hook in tests/conftest.py, on a real collection of three files."""
    listing = subprocess.run(
        [sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
         "-o", "addopts=", "tests/test_tokens.py", NOTEBOOK_RUNS,
         "tests/test_existing_environment.py"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert listing.returncode == 0, listing.stdout[-2000:] + listing.stderr[-2000:]
    nodeids = [line for line in listing.stdout.splitlines() if "::" in line]
    assert nodeids[0].startswith("tests/test_existing_environment.py"), nodeids[:3]
    notebook_runs = [n for n in nodeids if n.startswith(NOTEBOOK_RUNS)]
    assert len(notebook_runs) >= 20, notebook_runs
    assert nodeids.index(notebook_runs[-1]) < nodeids.index(
        next(n for n in nodeids if n.startswith("tests/test_tokens.py")))
