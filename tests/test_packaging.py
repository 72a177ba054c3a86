"""The wheel that `pip install` (not -e) builds from a checkout holds the whole library.

pyproject.toml once listed only the top package, so a non-editable install had `helpers` without
`helpers.plots`, `helpers.widgets`, `helpers.exercises`, ... and without the site templates.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.slow
def test_the_wheel_holds_every_module_and_data_file_of_helpers(tmp_path):
    # Built from a copy of the tracked files: a build/ folder left in the checkout by an earlier
    # build would otherwise lend the wheel files that the configuration leaves out.
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True,
                             check=True).stdout.splitlines()
    source = tmp_path / "source"
    for name in tracked:
        if (ROOT / name).is_file():
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
    built = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(tmp_path), str(source)],
        capture_output=True, text=True, timeout=600)
    assert built.returncode == 0, built.stderr[-2000:]
    (wheel,) = tmp_path.glob("llm_clock-*.whl")
    inside = set(zipfile.ZipFile(wheel).namelist())
    wanted = {name for name in tracked if name.startswith("helpers/")}
    missing = sorted(wanted - inside)
    assert not missing, f"the wheel leaves out {missing[:10]} ({len(missing)} files)"
