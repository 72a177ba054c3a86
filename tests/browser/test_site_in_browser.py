"""The offline HTML edition (python -m helpers site), opened from disk in headless Chromium with
every request off the machine refused: each page draws as many plots as its notebook has figures
(plotly outputs and FigureWidgets inside widgets, counted from the executed notebook), each clock
widget is a playable recording, math is MathML, and no page shows error text or "Loading widget".

Building a real notebook runs it, and the test suite runs each notebook once (in
test_notebooks_run_clean.py), so the test builds one page by default: a small notebook written
here (a tiny random model; a plotly figure, a FigureWidget in a box changed after display, a clock
widget, math). LLMCLOCK_SITE_NOTEBOOKS="00_the_clock 06_tick_by_tick" adds real notebooks.
"""

from __future__ import annotations

import json
import os
import re

import nbformat
import pytest

from disk_pages import open_file
from lab_driver import ARTIFACTS, BROKEN_RENDER, assert_plotly_drawn, plotly_figures

from helpers.build.site import build_site

pytestmark = [pytest.mark.browser, pytest.mark.slow]

REAL = os.environ.get("LLMCLOCK_SITE_NOTEBOOKS", "").split()
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
BAD_TEXT = re.compile(
    r"Loading widget|could not be shown|needs assets/plotly|Error displaying|Traceback", re.I
)


def _synthetic_notebook(path, model_dir) -> None:
    cells = [
        nbformat.v4.new_markdown_cell(
            "# A page built for the test\n\n"
            "Softmax: $p_i = \\frac{e^{z_i}}{\\sum_j e^{z_j}}$, and as a block\n"
            "$$\\sum_j p_j = 1$$\nA dollar in code stays: `echo $HOME`. "
            "Next: [the clock](00_the_clock.ipynb)."
        ),
        nbformat.v4.new_code_cell(
            "import ipywidgets as w\nimport plotly.graph_objects as go\n"
            "from helpers import load_model\n"
            f"from helpers.widgets import ClockWidget\nlm = load_model({str(model_dir)!r})"
        ),
        nbformat.v4.new_code_cell("go.Figure(go.Bar(x=[1, 2, 3], y=[3, 1, 2]))"),
        nbformat.v4.new_code_cell(
            "fig = go.FigureWidget(go.Scatter(y=[1, 3, 2]))\n"
            "box = w.VBox([w.HTML('<b>hello box</b>'), w.IntSlider(3, description='n'), fig])\nbox"
        ),
        nbformat.v4.new_code_cell(
            "fig.data[0].y = [5, 6, 7]  # changed after display: the snapshot shows this"
        ),
        nbformat.v4.new_code_cell(
            "clock_widget = ClockWidget(lm, 'The capital of France is', temperature=0)\n"
            "clock_widget"
        ),
        nbformat.v4.new_code_cell("clock_widget.clock.run(4);"),
    ]
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(nb, path)


def _expected(executed: nbformat.NotebookNode) -> tuple[int, int]:
    """(plotly figures, clock recordings) the page must show, counted from the executed notebook."""
    state = executed.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})

    def subtree(model_id: str):
        model = state[model_id]["state"]
        yield model
        for child in model.get("children", []):
            yield from subtree(child.removeprefix("IPY_MODEL_"))

    plots = clocks = 0
    for cell in executed.cells:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            plots += "application/vnd.plotly.v1+json" in data
            view = data.get("application/vnd.jupyter.widget-view+json")
            if view:
                models = list(subtree(view["model_id"]))
                if any("llmclock-step" in m.get("_dom_classes", ()) for m in models):
                    clocks += 1  # a clock widget: its panels are the recording's, not plotly
                else:
                    plots += sum("_widget_data" in m for m in models)  # FigureWidgets
    return plots, clocks


@pytest.fixture(scope="module")
def site(tmp_path_factory, tiny_llama_dir):
    folder = tmp_path_factory.mktemp("site-src")
    synthetic = folder / "test_page.ipynb"
    _synthetic_notebook(synthetic, tiny_llama_dir)
    out = tmp_path_factory.mktemp("site")
    pages = build_site([str(synthetic), *REAL], out, timeout=600)
    return out, pages


def test_every_page_draws_its_figures_offline(browser, site):
    out, pages = site
    assert [p["name"] for p in pages] == ["test_page", *REAL]
    for index, page_info in enumerate(pages):
        executed = nbformat.read(out / "executed" / f"{page_info['name']}.ipynb", as_version=4)
        want_plots, want_clocks = _expected(executed)
        context, page, guard = open_file(browser, out / page_info["file"])
        try:
            page.wait_for_load_state("load")
            page.wait_for_function(
                f"() => document.querySelectorAll('.js-plotly-plot .main-svg').length >= "
                f"{want_plots} && document.querySelectorAll("
                f"'.llmclock-trace[data-mounted=ready]').length >= {want_clocks}"
            )
            plots = plotly_figures(page)
            assert len(plots) == want_plots, (page_info["name"], plots)
            if plots:
                assert_plotly_drawn(plots)  # each drawn, with traces or a heatmap in it
            assert page.locator(".llmclock-trace[data-mounted=ready]").count() == want_clocks
            text = page.locator("body").inner_text()
            for pattern in (BAD_TEXT, BROKEN_RENDER):
                match = pattern.search(text)
                assert not match, f"{page_info['name']}: {match.group(0)!r} on the page"
            # Previous / contents / next links lead to pages that exist.
            hrefs = page.eval_on_selector_all(
                ".llmclock-nav a", "links => links.map(a => a.getAttribute('href'))"
            )
            assert "index.html" in hrefs
            if index + 1 < len(pages):
                assert pages[index + 1]["file"] in hrefs
            assert all((out / h).exists() for h in hrefs), hrefs
            guard.assert_clean()
        finally:
            context.close()


def test_widgets_and_math_on_the_test_page(browser, site):
    out, _ = site
    context, page, guard = open_file(browser, out / "test_page.html")
    try:
        page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
        # Math as MathML, not as TeX; the dollar in code is left alone.
        assert page.locator("math").count() == 2
        assert page.locator("math[display=block]").count() == 1
        text = page.locator("body").inner_text()
        assert "\\frac" not in text and "echo $HOME" in text
        assert page.locator(".jp-RenderedMarkdown a[href='00_the_clock.html']").count() == 1
        # The FigureWidget as it was at the end of the run, in its box with the other widgets.
        specs = [
            json.loads(s)
            for s in page.eval_on_selector_all(
                ".llmclock-plot-spec", "nodes => nodes.map(n => n.textContent)"
            )
        ]
        assert [5, 6, 7] in [list(t.get("y", [])) for s in specs for t in s["data"]]
        assert "hello box" in text and page.locator("input[type=range][disabled]").count() >= 1
        # The clock widget: a recording of its four ticks that steps.
        player = page.locator(".llmclock-trace")
        assert (
            player.locator(".trace-position").inner_text() == "tick 3 / 3"
        )  # opens at the newest tick
        player.locator(".trace-back").click()
        assert player.locator(".trace-status").inner_text().startswith("tick 2 · decode")
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "site-test-page.png"), full_page=True)
        guard.assert_clean()
    finally:
        context.close()


def test_index_lists_every_page(browser, site):
    out, pages = site
    context, page, guard = open_file(browser, out / "index.html")
    try:
        hrefs = page.eval_on_selector_all("a", "links => links.map(a => a.getAttribute('href'))")
        assert hrefs == [p["file"] for p in pages]
        guard.assert_clean()
    finally:
        context.close()
