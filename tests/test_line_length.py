"""Every line of the project's own source (Python, shell, JavaScript; vendored libraries aside)
is at most 100 characters, counted in characters: code is read on a projector and side by side,
as the notebooks' code cells are (tests/test_notebooks.py holds those to the same limit)."""

from __future__ import annotations

import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
MAX_LINE = 100
SOURCES = ("*.py", "*.sh", "*.js", ".ci/run", "postBuild")
VENDORED = "helpers/vendor/"


def tracked_sources() -> list[str]:
    listing = subprocess.run(["git", "ls-files", "--", *SOURCES], cwd=REPO, capture_output=True,
                             text=True, check=True)
    return [path for path in listing.stdout.splitlines() if not path.startswith(VENDORED)]


def test_the_sources_are_found():
    paths = tracked_sources()
    assert {"helpers/clock.py", "test.sh", "helpers/trace_player/player.js",
            "tests/test_line_length.py"} <= set(paths), paths[:10]


def test_no_source_line_is_longer_than_100_characters():
    long = [f"{path}:{number}: {len(line)} characters"
            for path in tracked_sources()
            for number, line in enumerate((REPO / path).read_text(encoding="utf-8").splitlines(),
                                          start=1)
            if len(line) > MAX_LINE]
    assert not long, f"{len(long)} lines over {MAX_LINE} characters:\n" + "\n".join(long[:40])
