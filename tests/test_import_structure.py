"""The library's import structure, read statically (ast, nothing imported): no import cycle among
the helpers modules, function-level imports included, and no module, notebook or bench that
imports another module's private (_name) name. A private name is the defining module's own
business; a name another module needs is made public (and documented) where it is defined.
Tests may reach into the module they test; everything else goes through public names.

The notebooks, the demo app and the README/docs examples use one import style,
`from helpers.<module> import name` from the module that defines the name (not a package that
re-exports it), so the import line says which file to open to read the function.
"""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

from conftest import REPO

HELPERS = REPO / "helpers"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(REPO).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module_name(p): p for p in sorted(HELPERS.rglob("*.py")) if "vendor" not in p.parts}


def _notebook_code(path: Path) -> str:
    """The code cells of a notebook as one Python source (IPython magics and shell lines out)."""
    cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
    lines = []
    for cell in cells:
        if cell["cell_type"] == "code":
            source = "".join(cell["source"])
            lines += ["" if line.lstrip().startswith(("%", "!")) else line
                      for line in source.splitlines()]
    return "\n".join(lines)


def _imports(tree: ast.AST, module: str | None, is_package: bool = False):
    """(imported module, imported name or None, line) for every import anywhere in `tree`,
    relative imports resolved against `module` (a dotted helpers module, or None outside)."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                yield alias.name, None, node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module.split(".") if is_package else module.split(".")[:-1]
                base = base[:len(base) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module
            for alias in node.names:
                yield target, alias.name, node.lineno


def _dependencies(module: str) -> dict[str, int]:
    """The helpers modules `module` imports (anywhere in it), with the line of the first import."""
    path = MODULES[module]
    found: dict[str, int] = {}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for target, name, line in _imports(tree, module, path.name == "__init__.py"):
        submodule = f"{target}.{name}" if name else None
        dest = submodule if submodule in MODULES else target
        if dest in MODULES and dest != module:
            found.setdefault(dest, line)
    return found


def _cycles(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Every strongly connected group of more than one module (Tarjan), each sorted."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    groups: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for dest in graph.get(node, {}):
            if dest not in index:
                visit(dest)
                low[node] = min(low[node], low[dest])
            elif dest in on_stack:
                low[node] = min(low[node], index[dest])
        if low[node] == index[node]:
            group = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                group.append(member)
                if member == node:
                    break
            if len(group) > 1:
                groups.append(sorted(group))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return groups


def test_the_helpers_modules_import_each_other_without_cycles():
    graph = {module: _dependencies(module) for module in MODULES}
    assert graph["helpers.clock"], "the scan found no imports at all: it is broken"
    problems = []
    for group in _cycles(graph):
        edges = [f"{a} -> {b} (line {graph[a][b]})" for a in group for b in group
                 if b in graph[a]]
        problems.append(f"{' / '.join(group)}: " + "; ".join(edges))
    assert not problems, ("import cycles (move the shared part into its own module, or let the "
                          "caller pass what is needed):\n" + "\n".join(problems))


def test_the_cycle_finder_finds_a_function_level_cycle():
    graph = {"a": {"b": 1}, "b": {"c": 3}, "c": {"a": 9}, "d": {"a": 1}}
    assert _cycles(graph) == [["a", "b", "c"]]
    tree = ast.parse("def f():\n    from .trace import save_trace\n")
    assert list(_imports(tree, "helpers.clock")) == [("helpers.trace", "save_trace", 2)]
    tree = ast.parse("from ..plots import style\nfrom . import svg\n")
    assert list(_imports(tree, "helpers.widgets.clock_view")) == [
        ("helpers.plots", "style", 1), ("helpers.widgets", "svg", 2)]


def _sources():
    """(label, the module it is, or None, whether a package, source) of what may not reach in."""
    for module, path in MODULES.items():
        yield str(path.relative_to(REPO)), module, path.name == "__init__.py", path.read_text(
            encoding="utf-8")
    for path in sorted((REPO / "bench").glob("*.py")):
        yield str(path.relative_to(REPO)), None, False, path.read_text(encoding="utf-8")
    for path in sorted((REPO / "notebooks").glob("**/*.ipynb")):
        yield str(path.relative_to(REPO)), None, False, _notebook_code(path)


def _is_private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def _outside_private_module(target: str, module: str | None) -> bool:
    """`target` is (inside) a private module, e.g. helpers.exercises.zh._solutions, and `module`
    is not in the package that holds it: a private module belongs to its package."""
    parts = target.split(".")
    for i, part in enumerate(parts):
        if _is_private(part):
            package = ".".join(parts[:i])
            return not (module and (module + ".").startswith(package + "."))
    return False


def _private_reaches(source: str, module: str | None, is_package: bool) -> list[str]:
    tree = ast.parse(source)
    found = []
    aliases: dict[str, str] = {}  # local name -> helpers module it is bound to
    for target, name, line in _imports(tree, module, is_package):
        if not target or not (target == "helpers" or target.startswith("helpers.")):
            continue
        if name is None:
            if _outside_private_module(target, module):
                found.append(f"line {line}: import {target}")
            continue
        if (target != module and _is_private(name)) or _outside_private_module(target, module):
            found.append(f"line {line}: from {target} import {name}")
        if f"{target}.{name}" in MODULES:
            aliases[name] = f"{target}.{name}"
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name == "helpers" or alias.name.startswith("helpers."):
                    aliases[alias.asname or alias.name.split(".")[0]] = (
                        alias.name if alias.asname else "helpers")
    for node in ast.walk(tree):
        # helpers.x._name, or m._name where m is an imported helpers module
        if isinstance(node, ast.Attribute) and _is_private(node.attr):
            chain, value = [], node.value
            while isinstance(value, ast.Attribute):
                chain.insert(0, value.attr)
                value = value.value
            if isinstance(value, ast.Name) and value.id in aliases:
                owner = ".".join([aliases[value.id]] + chain)
                if owner in MODULES and owner != module:
                    found.append(f"line {node.lineno}: {owner}.{node.attr}")
    return found


def test_no_module_notebook_or_bench_uses_another_modules_private_names():
    problems = []
    for label, module, is_package, source in _sources():
        problems += [f"{label} {where}" for where in _private_reaches(source, module, is_package)]
    assert not problems, ("private names used outside their module (make the name public where "
                          "it is defined, with a docstring, or use a public one):\n"
                          + "\n".join(problems))


def test_the_private_name_check_sees_each_form():
    source = ("import helpers.clock as c\nfrom helpers.trace import _prob\nfrom .. import tokens\n"
              "def f():\n    from ..plots.text import _pieces\n    return c._lock, tokens._x\n")
    assert _private_reaches(source, "helpers.widgets.clock_widget", False) == [
        "line 2: from helpers.trace import _prob",
        "line 5: from helpers.plots.text import _pieces",
        "line 6: helpers.clock._lock",
        "line 6: helpers.tokens._x",
    ]
    assert _private_reaches("from .clock import _nbytes\n", "helpers.clock", False) == []
    # a private module belongs to its package: siblings may use it, nobody else
    assert _private_reaches("from ._solutions import show\n", "helpers.exercises.zh.ch01",
                            False) == []
    assert _private_reaches("from helpers.exercises.zh._solutions import show\n", None,
                            False) == ["line 1: from helpers.exercises.zh._solutions import show"]
    assert _private_reaches("import helpers.clock\nhelpers.clock._mb(1)\n", None, False) == [
        "line 2: helpers.clock._mb"]


# ------------------------------------------------------------------ one import style for learners

def _defined_names(module: str) -> set[str]:
    """The names a helpers module defines itself (def, class, assignment), not those it imports."""
    names: set[str] = set()
    for node in ast.parse(MODULES[module].read_text(encoding="utf-8")).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names |= {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
    return names


def _style_problems(source: str) -> list[str]:
    """Imports of helpers not in the one style: `from helpers.<module> import name`, where the
    module is the one that defines `name` (or `name` is a submodule, e.g. exercises.ch05)."""
    problems = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            problems += [f"line {node.lineno}: import {a.name} (write from helpers.<module> "
                         f"import name)" for a in node.names
                         if a.name == "helpers" or a.name.startswith("helpers.")]
        elif isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "helpers":
            for alias in node.names:
                if f"{node.module}.{alias.name}" in MODULES:
                    continue
                if node.module not in MODULES or alias.name not in _defined_names(node.module):
                    home = [m for m in MODULES if alias.name in _defined_names(m)]
                    problems.append(f"line {node.lineno}: from {node.module} import {alias.name}"
                                    f" (defined in {', '.join(home) or 'no helpers module'})")
    return problems


def _learner_sources():
    for path in [*sorted((REPO / "notebooks").glob("**/*.ipynb")), REPO / "demo/clock_app.ipynb"]:
        yield str(path.relative_to(REPO)), _notebook_code(path)
    for path in [REPO / "README.md", *sorted((REPO / "docs").glob("**/*.md"))]:
        blocks = re.findall(r"^```python\n(.*?)^```", path.read_text(encoding="utf-8"),
                            flags=re.S | re.M)
        for number, block in enumerate(blocks, start=1):
            yield f"{path.relative_to(REPO)} (python example {number})", block


def test_notebooks_and_examples_import_each_name_from_the_module_that_defines_it():
    problems = [f"{label} {p}" for label, source in _learner_sources()
                for p in _style_problems(source)]
    assert not problems, ("one import style in the notebooks, the demo and the README/docs "
                          "examples: `from helpers.<module> import name`, the module that defines "
                          "the name, so a learner knows which file to open:\n"
                          + "\n".join(problems))


def test_the_style_check_names_the_defining_module():
    assert _style_problems("from helpers.models import load_model\n"
                           "from helpers.exercises import ch05\n") == []
    assert _style_problems("from helpers import load_model\nimport helpers.clock\n") == [
        "line 1: from helpers import load_model (defined in helpers.models)",
        "line 2: import helpers.clock (write from helpers.<module> import name)"]
