"""Every notebook, run top to bottom in JupyterLab in headless Chromium, the way a learner runs
it: no error or stderr output, no "Javascript Error", no request leaving 127.0.0.1, every
plotly figure drawn as SVG, every bertviz view drawn with its token labels. A full-notebook
screenshot of each lands in test-artifacts/browser/, plus the key views on their own."""

from __future__ import annotations

from pathlib import Path
from typing import Callable

import pytest

from lab_driver import (
    REPO, assert_bertviz_drawn, assert_notebook_clean, assert_plotly_drawn, bertviz_views, open_notebook,
    plotly_figures, run_all_cells, screenshot_element, screenshot_notebook,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]

NOTEBOOKS = sorted((REPO / "notebooks").glob("*.ipynb"))


# ------------------------------------------------------------------ per-notebook expectations
# Each takes the page after Run All and asserts what that notebook must show; the generic
# checks (clean outputs, offline, figures drawn) run for every notebook anyway.


def _figures_with(figures: list[dict], key: str) -> list[dict]:
    return [f for f in figures if f[key] > 0]


def _expect_the_clock(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=1)
    assert _figures_with(figures, "bars"), "00_the_clock shows a next-token distribution as bars"


def _expect_attention(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=1)
    heatmaps = _figures_with(figures, "heatmaps")
    assert heatmaps, "03_attention draws attention heatmaps"
    assert_bertviz_drawn(bertviz_views(page), at_least=1)
    heatmap = page.locator(".js-plotly-plot", has=page.locator(".hm image")).first
    screenshot_element(heatmap, "attention-heatmap")
    bertviz = page.locator('[id^="bertviz-"]').first
    screenshot_element(bertviz, "attention-bertviz")


def _expect_sampling(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=1)
    bars = _figures_with(figures, "bars")
    assert bars, "05_sampling draws distributions as bars"
    distribution = page.locator(".js-plotly-plot", has=page.locator(".trace.bars")).first
    screenshot_element(distribution, "distribution")


EXPECTATIONS: dict[str, Callable] = {
    "00_the_clock": _expect_the_clock,
    "03_attention": _expect_attention,
    "05_sampling": _expect_sampling,
}


# ------------------------------------------------------------------ the test


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_runs_clean_in_jupyterlab(lab, path: Path):
    page = lab.page
    open_notebook(page, lab.server, path.name)
    seconds = run_all_cells(page, timeout_s=300)
    page.wait_for_timeout(1000)  # late renders: widgets, bertviz scripts, plotly layout
    screenshot_notebook(page, path.stem)
    print(f"\n{path.name}: Run All took {seconds:.1f} s in the browser")
    assert_notebook_clean(page)
    figures = plotly_figures(page)
    if figures:
        assert_plotly_drawn(figures)
    views = bertviz_views(page)
    if views:
        assert_bertviz_drawn(views)
    if path.stem in EXPECTATIONS:
        EXPECTATIONS[path.stem](page)
    lab.guard.assert_clean()
