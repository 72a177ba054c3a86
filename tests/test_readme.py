"""Every Python example in the README runs, and prints what its comments say.

A line ending in `# prints: X` must print exactly X (its stripped output). The examples use
the embedded model, so this is the slow tier.
"""

from __future__ import annotations

import ast
import contextlib
import io
import re
from pathlib import Path

import pytest

README = Path(__file__).resolve().parent.parent / "README.md"
PRINTS = re.compile(r"#\s*prints:\s*(.+?)\s*$")


def python_blocks(markdown: str) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", markdown, flags=re.S | re.M)


def claims(block: str) -> dict[int, str]:
    """Line number (1-based) -> the output its `# prints:` comment claims."""
    found = {}
    for number, line in enumerate(block.splitlines(), start=1):
        match = PRINTS.search(line)
        if match:
            found[number] = match.group(1)
    return found


def run_and_check(block: str) -> int:
    """Run the block statement by statement; assert each claimed output. Returns the number
    of claims checked."""
    claimed = claims(block)
    namespace: dict = {"__name__": "__readme__"}
    checked = 0
    for statement in ast.parse(block).body:
        code = compile(ast.Module([statement], type_ignores=[]), "README.md", "exec")
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(code, namespace)  # noqa: S102 - our own README's example
        line = statement.end_lineno
        if line in claimed:
            printed = out.getvalue().strip()
            assert printed == claimed[line], (
                f"README line {line} of its example: claims {claimed[line]!r}, printed {printed!r}")
            checked += 1
    assert checked == len(claimed), "a `# prints:` comment sits on a line that ends no statement"
    return checked


def test_the_checker_catches_a_wrong_claim():
    block = "x = 0.5\nprint(x)   # prints: 0.5\nprint(x * 2)   # prints: 0.77\n"
    with pytest.raises(AssertionError, match="claims '0.77', printed '1.0'"):
        run_and_check(block)
    assert run_and_check("print(1 + 1)   # prints: 2\n") == 1
    markdown = "text\n```python\nprint(1)\n```\nmore\n```bash\nls\n```\n"
    assert python_blocks(markdown) == ["print(1)\n"]


def test_the_readme_has_python_examples_with_claims():
    blocks = python_blocks(README.read_text(encoding="utf-8"))
    assert blocks, "the README has no ```python example"
    assert sum(len(claims(b)) for b in blocks) >= 3


@pytest.mark.slow
@pytest.mark.parametrize("index", range(len(python_blocks(README.read_text(encoding="utf-8")))))
def test_readme_example_runs_and_prints_what_it_claims(index):
    block = python_blocks(README.read_text(encoding="utf-8"))[index]
    run_and_check(block)
