"""The index in helpers/__init__.py is where a learner looks for a module: it must list every
module of the package, and nothing that is not there."""

from __future__ import annotations

import re
from pathlib import Path

import helpers

PACKAGE = Path(helpers.__file__).resolve().parent


def test_the_index_lists_every_module_and_package():
    listed = set(re.findall(r"^    (\w+) ", helpers.__doc__, re.M))
    modules = {p.stem for p in PACKAGE.glob("*.py") if not p.stem.startswith("_")}
    packages = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert modules | packages <= listed, f"not in the index: {sorted(modules | packages - listed)}"
    assert listed <= modules | packages, (
        f"listed but missing: {sorted(listed - modules - packages)}")
