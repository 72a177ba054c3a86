"""How ./test.sh shares the suite between its two pytest-xdist workers
(`-n 2 --dist loadfile --no-loadscope-reorder`; tests/conftest.py applies this).

Each notebook kernel keeps its one torch thread (helpers/threads.py), so a single pytest process
left the second core idle most of the time. A unit of work, which one worker runs from start to
end, is a whole test file (its tests share module fixtures: a lab server, a classroom hub, a demo
app), except the notebook runs, which are one unit each so that both workers take notebooks
(with whole files as units, one worker ran all 22 alone: 18 minutes, the suite's longest path).
Units are handed out in the order below, longest first, and the many short files of the fast
tier fill in at the end, so the two workers finish close together. Without xdist
(`./test.sh -n 0`, or plain pytest) only the order changes.

    in_queue_order(items)                # at collection: sorts the items in place
    make_scheduler(config, log)          # for xdist: the units above, for --dist loadfile
"""

from __future__ import annotations

NOTEBOOK_RUNS = "tests/browser/test_notebooks_run_clean.py"
LONGEST_FIRST = (
    "tests/test_existing_environment.py",   # one test of about 3 minutes: an install
    NOTEBOOK_RUNS,                          # 22 runs of 20-80 s each
    "tests/browser/",                       # a lab server, a demo app or a site per file
    "tests/test_classroom.py",              # a classroom hub
)


def file_of(nodeid: str) -> str:
    """'tests/test_x.py' for 'tests/test_x.py::test_a[1]' (pytest writes node ids relative to
    the checkout, where pyproject.toml is)."""
    return nodeid.split("::", 1)[0]


def work_unit(nodeid: str) -> str:
    """What runs on one worker together: the test's file, or the test alone for a notebook
    run."""
    return nodeid if file_of(nodeid) == NOTEBOOK_RUNS else file_of(nodeid)


def rank(path: str) -> int:
    """Where a file's tests go in the queue: 0 first; files not in LONGEST_FIRST come last."""
    for position, prefix in enumerate(LONGEST_FIRST):
        if path.startswith(prefix):
            return position
    return len(LONGEST_FIRST)


def in_queue_order(items: list) -> None:
    """Sort collected test items longest unit first; stable, so a file keeps its own order."""
    items.sort(key=lambda item: rank(file_of(item.nodeid)))


def make_scheduler(config, log):
    """For `--dist loadfile`: xdist's own scheduler for whole files, with work_unit() as the
    unit; None for any other --dist (xdist then uses its own)."""
    if config.getvalue("dist") != "loadfile":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class FilesAndNotebookRuns(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:   # the extension point LoadFile uses too
            return work_unit(nodeid)

    return FilesAndNotebookRuns(config, log)
