"""The browser harness checks itself on small notebooks written on the spot: a clean one must
pass with its figures drawn, and each kind of defect (a CDN load, a hot-linked image, an
exception, stderr, a JavaScript error) must be caught. A guard that cannot fail is no guard."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from lab_driver import (
    assert_notebook_clean, assert_plotly_drawn, open_notebook, output_problems, plotly_figures,
    run_all_cells, screenshot_notebook, write_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

CLEAN = [
    ("markdown", "# Harness check\n"
                 "A clean notebook: text, a plotly figure, a FigureWidget, a button."),
    ("code", "print('hello from the kernel')"),
    ("code", "import plotly.graph_objects as go\n"
             "fig = go.Figure(go.Bar(x=['a', 'b', 'c'], y=[3, 1, 2]))\n"
             "fig.update_layout(title='three bars')\nfig.show()"),
    ("code", "widget = go.FigureWidget(go.Scatter(y=[1, 3, 2], mode='lines+markers'))\n"
             "widget.update_layout(title='a figure widget')\nwidget"),
    ("code", "import ipywidgets as w\nw.Button(description='Press me')"),
]

DEFECTS = [
    ("markdown", "A hot-linked image: ![remote](https://example.com/hotlinked.png)"),
    ("code", "from IPython.display import HTML, Javascript, display\n"
             "display(HTML('<script src=\"https://cdn.example.org/lib.js\"></script><p>cdn</p>'))"),
    ("code", "display(Javascript('throw new Error(\"deliberate\")'))"),
    ("code", "display(Javascript("
             "'setTimeout(() => { throw new Error(\"uncaught deliberate\") }, 0)'))"),
    ("code", "import sys\nprint('careful', file=sys.stderr)"),
    ("code", "raise ValueError('deliberate failure')"),
    ("code", "print('never reached')"),
]


def test_clean_notebook_runs_and_draws(lab, lab_root):
    write_notebook(lab_root / "_harness_clean.ipynb", CLEAN)
    open_notebook(lab.page, lab.server, "_harness_clean.ipynb")
    run_all_cells(lab.page, timeout_s=60)
    lab.page.get_by_role("button", name="Press me").wait_for()
    # The FigureWidget draws after its comm opens: wait for its line rather than guess a time.
    lab.page.wait_for_function("() => [...document.querySelectorAll('.js-plotly-plot')]"
                               ".filter(p => p.querySelector('.trace.scatter .js-line')).length")
    screenshot_notebook(lab.page, "_harness_clean")
    assert_notebook_clean(lab.page)
    figures = plotly_figures(lab.page)
    assert_plotly_drawn(figures, at_least=2)
    bars = next(f for f in figures if f["title"] == "three bars")
    assert bars["bars"] == 3 and bars["xTicks"] == ["a", "b", "c"], bars
    line = next(f for f in figures if f["title"] == "a figure widget")
    assert line["lines"] == 1 and line["scatterPoints"] == 3, line
    assert "hello from the kernel" in lab.page.locator(".jp-OutputArea-output").first.inner_text()
    lab.guard.assert_clean()


def test_every_kind_of_defect_is_caught(lab, lab_root):
    write_notebook(lab_root / "_harness_defects.ipynb", DEFECTS)
    open_notebook(lab.page, lab.server, "_harness_defects.ipynb")
    run_all_cells(lab.page, timeout_s=60)
    # The blocked requests, the JS errors and their rendering arrive asynchronously: wait for
    # all of them (a busy machine can take seconds), then assert each, naming what is missing.
    _wait_until(lab.page, lambda: (
        len(lab.guard.blocked) >= 2
        and any("uncaught deliberate" in e for e in lab.guard.page_errors)
        and "Javascript Error" in "\n".join(output_problems(lab.page))))
    problems = "\n".join(output_problems(lab.page))
    assert "ValueError: deliberate failure" in problems
    assert "stderr: careful" in problems
    assert "not run: print('never reached')" in problems
    assert "Javascript Error" in problems
    assert "https://example.com/hotlinked.png" in lab.guard.blocked
    assert "https://cdn.example.org/lib.js" in lab.guard.blocked
    assert any("uncaught deliberate" in e for e in lab.guard.page_errors), lab.guard.page_errors
    with pytest.raises(AssertionError, match="another host"):
        lab.guard.assert_clean()


def _wait_until(page, condition, timeout_s: float = 20.0) -> None:
    """Let the page's events arrive until condition() holds or the time is up."""
    deadline = time.monotonic() + timeout_s
    while not condition() and time.monotonic() < deadline:
        page.wait_for_timeout(250)


def test_missing_chromium_names_the_fix(monkeypatch):
    """Without Chromium the browser tests skip with a reason that says what to install."""
    import lab_driver

    monkeypatch.setattr(lab_driver, "CHROMIUM", Path("/nonexistent/chromium"))
    problem = lab_driver.chromium_problem()
    assert problem and "/nonexistent/chromium" in problem and "install-browser.sh" in problem
