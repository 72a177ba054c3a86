"""Every notebook (notebooks/**/*.ipynb, editions in subfolders included) runs ONCE, top to
bottom, with its worked solutions in place, and that one run gives all the evidence:

- no error, no stderr and no warning text in any output (read from the notebook as it would be
  saved after the run);
- each exercise cell as committed tells the learner "not yet" kindly, and the same cell with
  the worked solution from helpers/exercises/chNN.py passes its check (see notebook_checks.py);
- in JupyterLab in headless Chromium, the way a learner runs it: no "Javascript Error", no
  request leaving 127.0.0.1, every plotly figure drawn as SVG, every bertviz view drawn with its
  token labels, and what each notebook must show (EXPECTATIONS). A full-notebook screenshot of
  each lands in test-artifacts/browser/, plus the key views on their own.

Without a usable Chromium the same notebook runs headless (nbclient) instead, with the same
output and exercise checks: every notebook still runs once. LLMCLOCK_HEADLESS=1 runs them
headless even when there is a browser (quicker, without the browser's evidence). With a browser,
06_tick_by_tick runs (once, with the same checks) in test_clock_widget_in_browser.py, which then
clicks through its clock widget.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Callable

import nbformat
import pytest

from lab_driver import (
    assert_bertviz_drawn, assert_everything_drawn_clean, assert_plotly_drawn, bertviz_views,
    notebook_cells, open_notebook, plotly_figures, run_all_cells, screenshot_element,
    screenshot_notebook, slowest_cells,
)
from notebook_checks import (
    NOTEBOOKS, NOTEBOOKS_DIR, exercise_problems, notebook_id, output_problems, run_headless,
    with_worked_solutions,
)

pytestmark = [pytest.mark.slow]   # browser or not: the notebooks run either way

CLOCK_NOTEBOOK = "06_tick_by_tick"   # run by test_clock_widget_in_browser.py


# ------------------------------------------------------------------ per-notebook expectations
# Each takes the page after Run All and asserts what that notebook must show; the generic
# checks (clean outputs, offline, figures drawn) run for every notebook anyway.


def _figures_with(figures: list[dict], key: str) -> list[dict]:
    return [f for f in figures if f[key] > 0]


def _expect_the_clock(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=3)
    tick0 = _figure_titled(figures, "Tick 0: the next-token distribution")
    assert tick0["bars"] >= 10 and any("Paris" in t for t in tick0["yTicks"]), tick0
    assert _figures_with(figures, "heatmaps"), "attention over the ticks is a heatmap"
    bars = page.locator(".js-plotly-plot",
                        has=page.locator(".gtitle", has_text="Tick 0: the next-token")).first
    screenshot_element(bars, "distribution")


def _figure_titled(figures: list[dict], words: str) -> dict:
    found = [f for f in figures if words.lower() in f["title"].lower()]
    assert found, f"no figure titled like {words!r}; titles: {[f['title'] for f in figures]}"
    return found[0]


def _expect_tokenization(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=2)
    counts = _figure_titled(figures, "characters, bytes and tokens")
    assert counts["bars"] >= 3, counts
    # The token explorer, typed into: Chinese splits into byte fragments, grouping glues them
    # back.
    explorer = page.locator(".llmclock-token-explorer").first
    explorer.locator(".llmclock-token-text textarea").fill("我喜欢吃披萨")
    counts_line = explorer.locator(".llmclock-token-counts")
    page.wait_for_function("(el) => /6\\s*characters\\s*·\\s*18\\s*bytes/.test(el.innerText)",
                           arg=counts_line.element_handle())
    assert explorer.locator(".llmclock-token-view .llmclock-fragment").count() > 0, (
        "byte fragments outlined")
    explorer.locator(".llmclock-group-toggle").click()
    pieces = explorer.locator(".llmclock-token-view .llmclock-piece")
    pieces.first.wait_for()
    glued = "".join(pieces.all_inner_texts())
    assert all(ch in glued for ch in "我喜欢吃披萨"), glued
    screenshot_element(explorer, "token-explorer")


def _expect_embeddings(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=3)
    neighbours = [f for f in figures
                  if f["bars"] and any("Paris" in t for t in f["yTicks"] + f["xTicks"])]
    assert neighbours, "the nearest neighbours of ' Paris' are drawn as bars labelled with tokens"
    maps = [f for f in figures if any("Tokyo" in t for t in f["pointTexts"])]
    assert maps, "the 2-D map labels its points with the words"
    assert _figures_with(figures, "heatmaps"), "RoPE is drawn as a heatmap"


def _expect_forward_pass(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=2)
    assert _figures_with(figures, "heatmaps"), "the logit lens is a heatmap over layers"
    assert _figures_with(figures, "lines"), "the residual norm / target rank curves are lines"


def _expect_attention(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=2)
    assert _figures_with(figures, "heatmaps"), "03_attention draws attention heatmaps"
    views = bertviz_views(page)
    assert_bertviz_drawn(views, at_least=2)  # head view and model view
    head_view_labels = {t for v in views for t in v["texts"]}
    assert {"·cat", "·mat", "·tired"} <= head_view_labels, sorted(head_view_labels)[:40]
    # The attention explorer, driven: another head draws another heatmap (the explorer shows
    # its figures again after each change, so the image is looked up afresh each time).
    explorer = page.locator(".llmclock-attention-explorer").first
    image = ".llmclock-attention-explorer .js-plotly-plot .hm image"
    before = page.locator(image).first.get_attribute("href")
    assert before, "the heatmap is drawn as an image"
    head = explorer.locator("select").first
    head.select_option(index=3)
    page.wait_for_function("([sel, before]) => { const el = document.querySelector(sel);"
                           " return el !== null && el.getAttribute('href') !== before; }",
                           arg=[image, before], timeout=30_000)
    assert "head 2" in explorer.locator(".js-plotly-plot .gtitle").first.text_content()
    screenshot_element(explorer, "attention-explorer")
    screenshot_element(explorer.locator(".js-plotly-plot", has=page.locator(".hm image")).first,
                       "attention-heatmap")
    screenshot_element(page.locator('[id^="bertviz-"]').first, "attention-bertviz")


_BAR_GEOMETRY_JS = ("plot => plot === null ? null : "
                    "[...plot.querySelectorAll('.trace.bars .point path')]"
                    ".map(p => p.getAttribute('d')).join('|')")


def _expect_sampling(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=3)
    assert len(_figures_with(figures, "bars")) >= 3, (
        "raw vs filtered distributions and histograms as bars")
    # The sampling explorer, driven: temperature to 0 (Home key on the slider) makes the
    # filtered distribution greedy, so its bars are redrawn.
    explorer = page.locator(".llmclock-sampling-explorer").first
    plot = ".llmclock-sampling-explorer .js-plotly-plot"  # looked up afresh: redraws replace it
    before = page.locator(plot).first.evaluate(_BAR_GEOMETRY_JS)
    assert before, "the explorer shows its distribution"
    handle = explorer.locator(".llmclock-sampling-temperature .noUi-handle").first
    handle.focus()
    handle.press("Home")
    page.wait_for_function(f"([sel, before]) => {{ "
                           f"const got = ({_BAR_GEOMETRY_JS})(document.querySelector(sel));"
                           " return got !== null && got !== '' && got !== before; }",
                           arg=[plot, before], timeout=30_000)
    assert "0.00" in explorer.locator(".llmclock-sampling-temperature").inner_text()
    screenshot_element(explorer, "sampling-explorer")


def _expect_kv_cache(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=4)
    per_tick = _figure_titled(figures, "150 ticks with the KV cache")
    assert per_tick["bars"] >= 100, f"one bar per tick of the 150-tick run: {per_tick}"
    cost = _figure_titled(figures, "with and without the KV cache")
    assert cost["traces"] >= 2 and cost["lines"] >= 1, cost
    memory = _figure_titled(figures, "KV-cache memory")
    assert memory["traces"] >= 2, memory


def _expect_chat(page) -> None:
    # 08: the chat template drawn token by token (37 tokens for one short question).
    assert page.locator(".llmclock-token").count() >= 37, "the chat template's token boxes"


def _expect_decoding(page) -> None:
    figures = plotly_figures(page)
    assert_plotly_drawn(figures, at_least=2)
    assert _figure_titled(figures, "Induction score")["heatmaps"] >= 1
    tree = _figure_titled(figures, "Beam search")
    assert tree["traces"] >= 3, tree


EXPECTATIONS: dict[str, Callable] = {
    "00_the_clock": _expect_the_clock,
    "01_tokenization": _expect_tokenization,
    "02_embeddings": _expect_embeddings,
    "03_attention": _expect_attention,
    "04_forward_pass": _expect_forward_pass,
    "05_sampling": _expect_sampling,
    "07_kv_cache_and_speed": _expect_kv_cache,
    "08_chat_and_stopping": _expect_chat,
    "10_decoding_strategies": _expect_decoding,
}


# ------------------------------------------------------------------ the test


def _lab_or_none(request):
    """The JupyterLab page fixture, or None (with the reason printed) when there is no browser."""
    if os.environ.get("LLMCLOCK_HEADLESS") == "1":
        print("\nLLMCLOCK_HEADLESS=1: the notebook runs headless")
        return None
    try:
        return request.getfixturevalue("lab")
    except pytest.skip.Exception as reason:
        print(f"\nno browser ({reason}): the notebook runs headless instead")
        return None


def run_in_lab(lab, lab_root: Path, path: Path, prepared) -> list[tuple[str, list[dict]]]:
    """Run the prepared notebook once in JupyterLab (Run All); (source, outputs) per cell."""
    relative = path.relative_to(NOTEBOOKS_DIR)
    nbformat.write(prepared, lab_root / relative)   # the server's throwaway copy of notebooks/
    page = lab.page
    open_notebook(page, lab.server, relative.as_posix())
    try:
        seconds = run_all_cells(page, timeout_s=480)  # ~1 min on idle cores; generous when shared
        page.wait_for_timeout(1000)  # late renders: widgets, bertviz scripts, plotly layout
    finally:
        screenshot_notebook(page, notebook_id(path).replace("/", "-"))  # also after a timeout
    print(f"\n{relative}: Run All took {seconds:.1f} s in the browser; slowest cells:")
    for index, cell_seconds, first_line in slowest_cells(page):
        print(f"    cell {index:3d}  {cell_seconds:6.1f} s  {first_line}")
    return notebook_cells(page)


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[notebook_id(p) for p in NOTEBOOKS])
def test_notebook_runs_clean_with_its_worked_solutions(request, path: Path):
    name = notebook_id(path)
    prepared, exercises = with_worked_solutions(nbformat.read(path, as_version=4))
    lab = _lab_or_none(request)
    if lab is not None and name == CLOCK_NOTEBOOK:
        pytest.skip("runs once in test_clock_widget_in_browser.py, with these same checks")
    if lab is None:
        cells = run_headless(prepared, path.parent)
    else:
        cells = run_in_lab(lab, request.getfixturevalue("lab_root"), path, prepared)
    problems = output_problems(path.name, cells) + exercise_problems(cells, exercises)
    assert not problems, "\n".join(problems)
    if lab is not None:
        assert_everything_drawn_clean(lab.page)
        if name in EXPECTATIONS:
            EXPECTATIONS[name](lab.page)
        lab.guard.assert_clean()
