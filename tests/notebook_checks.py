"""What every notebook run must show, whoever runs it (JupyterLab in the browser, or nbclient
headless when there is no browser), and the worked solutions put in place of the answers.

    prepared, exercises = with_worked_solutions(nbformat.read(path, as_version=4))
    ... run `prepared` once, in the browser or headless ...
    problems = output_problems(cells) + exercise_problems(cells, exercises)

An exercise cell is a code cell with a line `chNN.check_<name>(...)`: the lines above it are the
learner's answer (`...` until they write it). The worked solution is
helpers.exercises.chNN.SOLUTIONS[<name>] (helpers.exercises.zh.chNN for a notebook that imports
its exercises from there), the very source `chNN.show_solution("<name>")` reveals in the
notebook. In the prepared notebook each exercise cell runs twice in a row: first as
committed, where its check must tell the learner "not yet" (never raise an error), then with the
worked solution inserted just above the check line, where every check must pass. The cells
after it then see the worked solution's values, so the notebook runs once for both.
"""

from __future__ import annotations

import copy
import importlib
import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
NOTEBOOKS_DIR = REPO / "notebooks"
# Every notebook, editions in subfolders (notebooks/zh/) included.
NOTEBOOKS = sorted(p for p in NOTEBOOKS_DIR.glob("**/*.ipynb")
                   if ".ipynb_checkpoints" not in p.parts)
WARNING_TEXT = re.compile(r"warning|traceback|deprecat", re.I)
CHECK_LINE = re.compile(r"^(ch\d\d)\.check_(\w+)\(", re.M)
SHOW_SOLUTION = re.compile(r"^(ch\d\d)\.show_solution\(\"(\w+)\"\)\s*$")
VERDICT = re.compile(r'data-check="(pass|fail)"')


def notebook_id(path: Path) -> str:
    """'05_sampling', or 'zh/05_sampling' for an edition in a subfolder."""
    return path.relative_to(NOTEBOOKS_DIR).with_suffix("").as_posix()


@dataclass(frozen=True)
class Exercise:
    module: str       # "ch05"
    name: str         # "softmax_t": check_softmax_t, SOLUTIONS["softmax_t"]
    unanswered: int   # index of the committed cell in the prepared notebook
    answered: int     # index of the cell with the worked solution in place
    lang: str = "en"  # the language its check speaks (helpers.exercises.zh: "zh")

    @property
    def label(self) -> str:
        return f"{self.module}.{self.name}"


EXERCISES_IMPORT = re.compile(r"^from (helpers\.exercises(?:\.\w+)?) import ", re.M)


def exercise_package(nb) -> str:
    """Where a notebook's chNN modules come from: `from helpers.exercises import ch05`, or an
    edition's own (`from helpers.exercises.zh import ch05`: the same checks, its own solutions
    in its own variable names)."""
    for cell in nb.cells:
        if cell.cell_type == "code":
            match = EXERCISES_IMPORT.search(cell.source)
            if match:
                return match[1]
    return "helpers.exercises"


def worked_solution(module: str, name: str, package: str = "helpers.exercises") -> str:
    return importlib.import_module(f"{package}.{module}").SOLUTIONS[name]


def exercise_cells(nb) -> list[tuple[int, str, str]]:
    """(cell index, chNN, name) of every exercise cell of a notebook."""
    found = []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            match = CHECK_LINE.search(cell.source)
            if match:
                found.append((index, match[1], match[2]))
    return found


def answered_source(source: str, solution: str) -> str:
    """The exercise cell with the worked solution inserted just above its check line."""
    lines = source.splitlines()
    at = next(i for i, line in enumerate(lines) if CHECK_LINE.match(line))
    return "\n".join(lines[:at] + ["", solution.strip("\n"), ""] + lines[at:])


def with_worked_solutions(nb):
    """A copy of `nb` in which each exercise cell is followed by the same cell answered with its
    worked solution; and the list of Exercises (cell indices in the copy)."""
    import nbformat

    prepared = copy.deepcopy(nb)
    package = exercise_package(nb)
    cells, exercises = [], []
    for index, cell in enumerate(nb.cells):
        cells.append(copy.deepcopy(cell))
        match = CHECK_LINE.search(cell.source) if cell.cell_type == "code" else None
        if match:
            source = answered_source(cell.source,
                                     worked_solution(match[1], match[2], package))
            answered = nbformat.v4.new_code_cell(source)
            answered.id = f"{cell.get('id', index)}-solved"[:64]
            cells.append(answered)
            exercises.append(Exercise(match[1], match[2], len(cells) - 2, len(cells) - 1,
                                      "zh" if package.endswith(".zh") else "en"))
    prepared.cells = cells
    return prepared, exercises


# ------------------------------------------------------------------ reading the outputs


def _text(value) -> str:
    return "".join(value) if isinstance(value, list) else (value or "")


def output_texts(outputs: list[dict]):
    """(kind, text) of each output: stream name, 'error', or the mime type of a rich output."""
    for out in outputs:
        kind = out.get("output_type")
        if kind == "stream":
            yield out.get("name", "stdout"), _text(out.get("text"))
        elif kind == "error":
            yield "error", f"{out.get('ename')}: {out.get('evalue')}"
        else:
            data = out.get("data", {})
            for mime in ("text/plain", "text/html"):
                if mime in data:
                    yield mime, _text(data[mime])


def output_problems(name: str, cells: list[tuple[str, list[dict]]]) -> list[str]:
    """No error, no stderr, no warning text in any output. cells: (source, outputs) per cell."""
    problems = []
    for source, outputs in cells:
        where = f"{name}, cell starting {source[:60]!r}"
        for kind, text in output_texts(outputs):
            if kind in ("stderr", "error"):
                problems.append(f"{where}: {kind}: {text[:500]}")
            elif WARNING_TEXT.search(text):
                problems.append(f"{where}: warning text in output: {text[:500]}")
    return problems


def verdicts(outputs: list[dict]) -> tuple[list[str], str]:
    """The check results a cell displayed ('pass'/'fail'), and their text."""
    html = "".join(text for kind, text in output_texts(outputs) if kind == "text/html")
    return VERDICT.findall(html), re.sub(r"<[^>]+>", " ", html)


# What a committed exercise cell's check says, in its language (helpers/messages/exercises_*.py:
# check.not_yet and check.empty; tests/test_exercise_messages.py keeps these in step).
NOT_YET = {"en": ("not yet", "your code"), "zh": ("还不对", "你的代码")}


def exercise_problems(cells: list[tuple[str, list[dict]]],
                      exercises: list[Exercise]) -> list[str]:
    """Committed exercise cells say 'not yet' kindly; with the worked solution every check
    passes."""
    problems = []
    for ex in exercises:
        not_yet, your_code = NOT_YET[ex.lang]
        outputs = cells[ex.unanswered][1]
        errors = [t for kind, t in output_texts(outputs) if kind in ("error", "stderr")]
        found, text = verdicts(outputs)
        if errors:
            problems.append(f"{ex.label} as committed raised instead of saying 'not yet': "
                            f"{errors[0][:300]}")
        elif not found or set(found) != {"fail"} or not_yet not in text:
            problems.append(f"{ex.label} as committed: expected a 'not yet' check, got {found} "
                            f"{text[:300]!r}")
        elif your_code not in text:
            problems.append(f"{ex.label} as committed: the 'not yet' does not tell the learner to "
                            f"replace the ... with their code: {text[:300]!r}")
        found, text = verdicts(cells[ex.answered][1])
        if not found or set(found) != {"pass"}:
            problems.append(f"{ex.label}: the worked solution does not pass its check: {found} "
                            f"{text[:400]!r}")
    return problems


def shown_solutions(nb) -> list[tuple[str, str]]:
    """(chNN, name) of every `chNN.show_solution("name")` cell."""
    return [(m[1], m[2]) for cell in nb.cells if cell.cell_type == "code"
            for m in [SHOW_SOLUTION.match(cell.source.strip())] if m]


# ------------------------------------------------------------------ the headless run


def run_headless(prepared, folder: Path) -> list[tuple[str, list[dict]]]:
    """Run a notebook top to bottom in a fresh kernel (nbclient); (source, outputs) per cell."""
    from nbclient import NotebookClient

    from helpers.build.site import private_kernel_manager

    with private_kernel_manager() as km:  # Unix sockets, as ./lab.sh's kernels: no TCP warning
        NotebookClient(prepared, km=km, timeout=600, kernel_name="python3",
                       resources={"metadata": {"path": str(folder)}}).execute()
    return [(cell.source, [dict(out) for out in cell.get("outputs", [])])
            for cell in prepared.cells]
