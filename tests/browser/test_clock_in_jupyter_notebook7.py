"""Jupyter Notebook 7 as a second front end: a notebook with the clock widget runs top to bottom
in it (headless Chromium, nothing requested off the machine, no error output) and the clock steps.

The notebook is written here (a tiny random Llama, the clock widget, a plotly figure): the test
is about the front end, and every real notebook already runs once in JupyterLab
(test_notebooks_run_clean.py; 06's clock widget in test_clock_widget_in_browser.py).

Notebook 7 is served by the same Jupyter server as JupyterLab (the `notebook` package is a
server extension) at /notebooks/<path>; it is built from JupyterLab's parts, so the harness of
lab_driver drives it once Notebook 7 exposes its app object (window.jupyterapp) too.
"""

from __future__ import annotations

import json
import re

import pytest

from lab_driver import (
    PageGuard,
    assert_notebook_clean,
    run_all_cells,
    screenshot_notebook,
    start_lab,
    stop_lab,
    write_notebook,
)

NOTEBOOK = "clock_widget_in_notebook7.ipynb"
pytestmark = [pytest.mark.browser, pytest.mark.slow]
WIDGET = ".llmclock:has(.llmclock-step)"
# Two page errors that are not ours, each excused by its exact text (any other error fails):
# Notebook 7.6.5's keyboard-shortcut settings plugin throws this while the page loads, with no
# notebook open and no user settings (its pluginChanged handler reads the schema of a plugin it
# does not know); nothing visible breaks.
NOTEBOOK7_SHORTCUTS_BUG = "Cannot read properties of undefined (reading 'schema')"
# anywidget gives a widget's front end 2 s to load its module. The clock's only anywidget is its
# tiny frame-ack (run pacing; the run goes on unpaced without it); its charts are plain SVG.
ANYWIDGET_TIMEOUT = "[anywidget] Failed to initialize model."


@pytest.fixture(scope="module")
def notebook7_server(browser, tmp_path_factory, tiny_llama_dir):
    root = tmp_path_factory.mktemp("nb7")
    write_notebook(root / NOTEBOOK, [
        ("markdown", "# The clock widget in Notebook 7"),
        ("code", "import plotly.graph_objects as go\n\nfrom helpers import load_model\n"
                 "from helpers.widgets import ClockWidget\n\n"
                 f"lm = load_model({str(tiny_llama_dir)!r})"),
        ("code", "go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2]))"),
        ("code", "clock_widget = ClockWidget(lm, 'The capital of France is', temperature=0)\n"
                 "clock_widget"),
    ])
    work = tmp_path_factory.mktemp("nb7-state")
    config = work / "jupyter-config"  # start_lab points JUPYTER_CONFIG_DIR here
    config.mkdir(parents=True)
    expose = json.dumps({"JupyterNotebookApp": {"expose_app_in_browser": True}})
    for name in ("jupyter_server_config.json", "jupyter_notebook_config.json"):
        (config / name).write_text(expose)
    server = start_lab(root, work)
    yield server
    stop_lab(server)


def test_a_clock_notebook_runs_and_the_clock_steps_in_notebook7(browser, notebook7_server):
    server = notebook7_server
    context = browser.new_context(viewport={"width": 1280, "height": 900}, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    page = context.new_page()
    page.set_default_timeout(30_000)
    try:
        page.goto(server.url(f"notebooks/{NOTEBOOK}"), wait_until="domcontentloaded")
        assert "/notebooks/" in page.url  # Notebook 7's page, not JupyterLab's
        page.wait_for_function(
            """(path) => {
                const w = window.jupyterapp && window.jupyterapp.shell.currentWidget;
                return !!(w && w.context && w.context.path === path && w.context.isReady
                          && w.sessionContext
                          && w.sessionContext.session && w.sessionContext.session.kernel
                          && w.sessionContext.session.kernel.status === 'idle');
            }""",
            arg=NOTEBOOK,
            timeout=90_000,
        )
        assert page.evaluate("() => window.jupyterapp.name") == "Jupyter Notebook"
        page.evaluate("() => { window.__nbPanel = window.jupyterapp.shell.currentWidget; }")
        try:
            run_all_cells(page, timeout_s=300)
        finally:
            screenshot_notebook(page, "notebook7-clock-widget")
        assert_notebook_clean(page)
        widget = page.locator(WIDGET).first
        status = widget.locator(".llmclock-status").first
        widget.scroll_into_view_if_needed()
        before = status.inner_text()
        widget.locator(".llmclock-step").first.click()
        page.wait_for_function(
            "([sel, s]) => document.querySelector(sel + ' .llmclock-status').innerText !== s",
            arg=[WIDGET, before],
            timeout=120_000,
        )
        after = status.inner_text()
        ticks = [
            int(m) if m.isdigit() else -1
            for m in re.findall(r"\btick (\d+|–)", before + "\n" + after)
        ]
        assert len(ticks) == 2 and ticks[1] == ticks[0] + 1, (before, after)
        # The widget's two charts are inline SVG (no front-end module): drawn in Notebook 7 too.
        charts = widget.locator("svg.llmclock-distribution-svg, svg.llmclock-attention-svg")
        assert charts.count() == 2
        assert widget.locator("svg.llmclock-distribution-svg rect.llmclock-bar").count() > 0
        problems = guard.problems()
        excused = [p for p in problems if NOTEBOOK7_SHORTCUTS_BUG in p or ANYWIDGET_TIMEOUT in p]
        if excused:
            print("NOTE: excused page errors:", *excused, sep="\n  ")
        assert [p for p in problems if p not in excused] == []
    finally:
        context.close()
        server.shutdown_all_kernels()
