"""Every notebook: committed clean, and runs top to bottom in a fresh kernel with no error
and no warning text in its outputs (slow tier)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parent.parent / "notebooks").glob("*.ipynb"))
WARNING_TEXT = re.compile(r"warning|traceback|deprecat", re.I)


def _ids(paths):
    return [p.stem for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_clean_and_complete(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, f"{path.name} has outputs"
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} carries saved widget state"
    markdown = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert markdown and markdown[0].lstrip().startswith("# "), "a title first"
    assert re.search(r"learning objectives|you will learn", markdown[0], re.I), "objectives at the top"
    assert re.search(r"recap", "\n".join(markdown[-2:]), re.I), "a recap at the end"


MAX_CODE_LINE = 100  # code is read on a projector


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_code_lines_fit_a_projector(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    long = [(i, line) for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines() if len(line) > MAX_CODE_LINE]
    assert not long, (f"{path.name}: {len(long)} code lines longer than {MAX_CODE_LINE} "
                      f"characters, e.g. cell {long[0][0]}: {long[0][1][:120]!r}")


def _output_texts(nb):
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            if out.output_type == "stream":
                yield cell, out.name, out.text
            elif out.output_type == "error":
                yield cell, "error", f"{out.ename}: {out.evalue}"
            else:
                for mime in ("text/plain", "text/html"):
                    if mime in out.get("data", {}):
                        yield cell, mime, out["data"][mime]


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_clean_in_a_fresh_kernel(path):
    import nbformat
    from nbclient import NotebookClient

    from helpers.site import private_kernel_manager

    nb = nbformat.read(path, as_version=4)
    with private_kernel_manager() as km:  # Unix sockets, as ./lab.sh's kernels: no TCP warning
        NotebookClient(nb, km=km, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(path.parent)}}).execute()
    for cell, kind, text in _output_texts(nb):
        where = f"{path.name}, cell starting {''.join(cell.source)[:60]!r}"
        assert kind not in ("stderr", "error"), f"{where}: {kind}: {text[:500]}"
        assert not WARNING_TEXT.search(text), f"{where}: warning text in output: {text[:500]}"
