"""Every notebook (notebooks/**/*.ipynb, editions in subfolders included) as committed: clean,
readable on a projector, and its exercises wired to worked solutions that live in
helpers/exercises/ (fast tier).

Each notebook RUNS once, in tests/browser/test_notebooks_run_clean.py: in JupyterLab when a
browser is usable, headless otherwise, with its worked solutions in place.
"""

from __future__ import annotations

import ast
import importlib
import json
import re

import nbformat
import pytest

from notebook_checks import (
    CHECK_LINE, NOTEBOOKS, SHOW_SOLUTION, answered_source, exercise_cells, exercise_package,
    notebook_id, shown_solutions, with_worked_solutions, worked_solution,
)

OBJECTIVES = re.compile(r"learning objectives|you will learn|学习目标|你将学到", re.I)
RECAP = re.compile(r"recap|回顾|小结|总结", re.I)


def _ids(paths):
    return [notebook_id(p) for p in paths]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_committed_clean_and_complete(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            assert not cell.get("outputs") and cell.get("execution_count") is None, (
                f"{path.name} has outputs")
    assert "widgets" not in nb.get("metadata", {}), f"{path.name} carries saved widget state"
    markdown = [("".join(c["source"])) for c in nb["cells"] if c["cell_type"] == "markdown"]
    assert markdown and markdown[0].lstrip().startswith("# "), "a title first"
    assert OBJECTIVES.search(markdown[0]), "objectives at the top"
    assert RECAP.search("\n".join(markdown[-2:])), "a recap at the end"


MAX_CODE_LINE = 100  # code is read on a projector


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_code_lines_fit_a_projector(path):
    nb = json.loads(path.read_text(encoding="utf-8"))
    long = [(i, line) for i, cell in enumerate(nb["cells"]) if cell["cell_type"] == "code"
            for line in "".join(cell["source"]).splitlines() if len(line) > MAX_CODE_LINE]
    assert not long, (f"{path.name}: {len(long)} code lines longer than {MAX_CODE_LINE} "
                      f"characters, e.g. cell {long[0][0]}: {long[0][1][:120]!r}")



@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_every_exercise_has_a_hidden_worked_solution(path):
    """Each exercise cell's check has a worked solution in its module, revealed by a
    `chNN.show_solution("name")` cell after it; no solution source sits in the notebook."""
    nb = nbformat.read(path, as_version=4)
    exercises = exercise_cells(nb)
    shown = shown_solutions(nb)
    assert [(m, n) for _, m, n in exercises] == shown, (
        f"{path.name}: exercises {exercises} and show_solution cells {shown} differ")
    package = exercise_package(nb)
    for index, module, name in exercises:
        assert name in importlib.import_module(f"{package}.{module}").SOLUTIONS
        later = [c.source.strip() for c in nb.cells[index + 1:] if c.cell_type == "code"]
        assert later and SHOW_SOLUTION.match(later[0]), \
            f"{path.name}: the cell after {module}.check_{name} reveals its solution"
    sources = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    assert not re.search(r"\bsolution\((r|f)?('''|\"\"\"|'|\")", sources), \
        f"{path.name}: a worked solution's source is in plain sight; keep it in SOLUTIONS"


def test_every_worked_solution_is_used_by_a_notebook():
    english = [p for p in NOTEBOOKS if p.parent.name == "notebooks"]
    used = {(m, n) for p in english for _, m, n in exercise_cells(nbformat.read(p, 4))}
    for module in sorted({m for m, _ in used}):
        names = importlib.import_module(f"helpers.exercises.{module}").SOLUTIONS
        assert {(module, n) for n in names} <= used, f"{module}: a solution no notebook uses"
    assert len(used) >= 30


def test_worked_solutions_go_in_place_of_the_answer():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = 1"),
        nbformat.v4.new_code_cell("row = x\nanswer = ...   # your code here\n\n"
                                  "ch05.check_penalised_logit(answer);\nafter = 2"),
        nbformat.v4.new_code_cell('ch05.show_solution("penalised_logit")'),
    ])
    prepared, exercises = with_worked_solutions(nb)
    assert [c.source for c in prepared.cells[:2]] == [c.source for c in nb.cells[:2]]
    solved = prepared.cells[2].source
    solution = worked_solution("ch05", "penalised_logit").strip()
    assert solved.index("row = x") < solved.index(solution) < solved.index("ch05.check_")
    assert solved.endswith("after = 2") and solved == answered_source(nb.cells[1].source, solution)
    assert prepared.cells[3].source == nb.cells[2].source
    assert [(e.label, e.unanswered, e.answered) for e in exercises] == \
        [("ch05.penalised_logit", 1, 2)]


def test_an_edition_uses_its_own_worked_solutions():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("from helpers.exercises.zh import ch00"),
        nbformat.v4.new_code_cell("my_ids = ...\nch00.check_three_ticks(my_ids, beijing, lm);"),
    ])
    assert exercise_package(nb) == "helpers.exercises.zh"
    prepared, _ = with_worked_solutions(nb)
    assert worked_solution("ch00", "three_ticks", "helpers.exercises.zh").strip() \
        in prepared.cells[2].source
    assert "beijing" in prepared.cells[2].source.split("ch00.check_")[0]


def _bound(source: str) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
    return names


def _read(source: str) -> set[str]:
    return {node.id for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load)}


def answer_names_read_later(nb) -> list[str]:
    """Names that only an exercise's answer binds (its worked solution, or the lines after its
    check) and that a later ordinary cell reads: that cell would break for a learner who has
    not answered yet."""
    found, ordinary, from_answers = [], set(), {}
    package = exercise_package(nb)
    for cell in nb.cells:
        if cell.cell_type != "code" or SHOW_SOLUTION.match(cell.source.strip()):
            continue
        source = "\n".join(line for line in cell.source.splitlines()
                           if not line.lstrip().startswith(("%", "!")))
        match = CHECK_LINE.search(source)
        if match:
            after = source[match.start():]
            for name in _bound(worked_solution(match[1], match[2], package)) | _bound(after):
                if name not in ordinary:
                    from_answers[name] = f"{match[1]}.{match[2]}"
            continue
        found += [f"{name} (from {from_answers[name]}) in {cell.source[:60]!r}"
                  for name in sorted(_read(source) & set(from_answers))]
        for name in _bound(source):
            ordinary.add(name)
            from_answers.pop(name, None)
    return found


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_cells_after_an_exercise_do_not_need_its_answer(path):
    """A learner may leave an exercise for later: the rest of the notebook must still run. (The
    test run of each notebook has every answer filled in, so this is checked statically.)"""
    assert answer_names_read_later(nbformat.read(path, as_version=4)) == []


def test_answer_names_read_later_finds_a_dependency():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("x = ...\nch05.check_penalised_logit(x);"),
        nbformat.v4.new_code_cell('ch05.show_solution("penalised_logit")'),
        nbformat.v4.new_code_cell("print(penalised_logit)"),
    ])
    assert [m.split(" ")[0] for m in answer_names_read_later(nb)] == ["penalised_logit"]
    nb.cells.insert(1, nbformat.v4.new_code_cell("penalised_logit = 0"))
    assert answer_names_read_later(nb) == []


def _shown(verdict: str, text: str) -> dict:
    return {"output_type": "display_data", "metadata": {},
            "data": {"text/html": f'<div data-check="{verdict}">{text}</div>'}}


def test_the_run_checks_catch_what_they_must():
    from notebook_checks import Exercise, exercise_problems, output_problems

    not_yet = _shown("fail", "✘ x: not yet. It is still empty: replace the ... with your code.")
    correct = _shown("pass", "✔ x: correct.")
    ex = [Exercise("ch05", "x", 0, 1)]
    assert exercise_problems([("a", [not_yet]), ("b", [correct])], ex) == []
    error = {"output_type": "error", "ename": "NameError", "evalue": "x", "traceback": []}
    unkind = _shown("fail", "✘ x: not yet. Wrong for ...")
    for cells, words in [([("a", [error]), ("b", [correct])], "raised"),
                         ([("a", [correct]), ("b", [correct])], "'not yet'"),
                         ([("a", [unkind]), ("b", [correct])], "replace the ..."),
                         ([("a", [not_yet]), ("b", [not_yet])], "does not pass"),
                         ([("a", [not_yet]), ("b", [])], "does not pass")]:
        problems = exercise_problems(cells, ex)
        assert len(problems) == 1 and words in problems[0], (words, problems)
    stderr = {"output_type": "stream", "name": "stderr", "text": "oops"}
    warned = {"output_type": "stream", "name": "stdout", "text": "UserWarning: careful"}
    assert output_problems("nb", [("a", [correct, not_yet])]) == []
    assert len(output_problems("nb", [("a", [stderr]), ("b", [warned, error])])) == 3
