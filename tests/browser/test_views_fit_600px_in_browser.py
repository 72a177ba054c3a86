"""The big interactive views fit one 1280x720 screen with their controls: notebook 03's
attention explorer and its induction-head heatmap are at most 600 px tall, and notebook 05's
temperature slider is long enough to drag (and dragging it changes the temperature).

The cells are those of the notebooks (same calls, same arguments), in a notebook the test
writes into the server's throwaway copy of notebooks/.
"""

from __future__ import annotations

import pytest

from lab_driver import ARTIFACTS, PageGuard, open_notebook, run_all_cells, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

SETUP = (
    "from helpers import load_model\n"
    "from helpers.attention import attention_weights, induction_scores, repeated_random_tokens, "
    "token_labels\n"
    "from helpers.plots.attention import attention_heatmap\n"
    "from helpers.widgets import AttentionExplorer, SamplingExplorer\n"
    "\n"
    "lm = load_model()"
)
EXPLORER = ('AttentionExplorer(lm, "The capital of France is Paris. The capital of Italy is", '
            'layer=2, head=1)')
INDUCTION = """length = 20
sequence = repeated_random_tokens(lm, length)
W_repeat = attention_weights(lm, sequence)
best_layer, best_head = divmod(int(induction_scores(W_repeat, length).argmax()), lm.n_heads)
attention_heatmap(W_repeat[best_layer, best_head], token_labels(lm, sequence),
                  title=f"Layer {best_layer}, head {best_head} on a repeated random sequence")"""
SAMPLING = 'SamplingExplorer(lm, "Once upon a time, there was a")'

_SCROLL_JS = """(n) => window.__nbPanel.content.widgets.filter(c => c.model.type === 'code')[n]
    .node.scrollIntoView({block: 'start'})"""
_OUTPUT_BOX_JS = """(n) => {
    const cell = window.__nbPanel.content.widgets.filter(c => c.model.type === 'code')[n];
    const out = cell.node.querySelector('.jp-Cell-outputArea');
    const b = out.getBoundingClientRect();
    const plots = [...out.querySelectorAll('.js-plotly-plot')].map(p => {
        const r = p.getBoundingClientRect(); return [r.top, r.bottom, r.left, r.right]; });
    const kinds = [...out.querySelectorAll('.jp-OutputArea-output')].map(o => o.className);
    return {top: b.top, bottom: b.bottom, height: b.height, plots, kinds};
}"""


@pytest.fixture(scope="module")
def views(browser, lab_server, lab_root):
    write_notebook(lab_root / "fit_check.ipynb",
                   [("code", SETUP), ("code", EXPLORER), ("code", INDUCTION), ("code", SAMPLING)])
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_notebook(page, lab_server, "fit_check.ipynb")
        run_all_cells(page, timeout_s=300)
        page.wait_for_timeout(1000)
        yield page, guard
    finally:
        context.close()
        lab_server.shutdown_all_kernels()


def _output_box(page, n: int) -> dict:
    """Cell n's output, scrolled into view (JupyterLab draws a plotly output once it is seen)."""
    page.evaluate(_SCROLL_JS, n)
    page.wait_for_function(
        "(n) => window.__nbPanel.content.widgets.filter(c => c.model.type === 'code')[n]"
        ".node.querySelector('.js-plotly-plot .main-svg') !== null", arg=n, timeout=30_000)
    page.wait_for_timeout(500)
    return page.evaluate(_OUTPUT_BOX_JS, n)


def test_attention_explorer_fits_600px_with_its_controls(views):
    page, guard = views
    box = _output_box(page, 1)
    print(f"\nattention explorer: {box['height']:.0f} px tall, figures {box['plots']}")
    assert len(box["plots"]) == 2, box
    assert box["height"] <= 600, f"the attention explorer is {box['height']:.0f} px tall"
    for top, bottom, left, right in box["plots"]:  # drawn, side by side, not squashed
        assert bottom - top >= 380 and right - left >= 420, box["plots"]
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "attention-explorer-720p.png"))
    guard.assert_clean()


def test_induction_heatmap_fits_600px(views):
    page, guard = views
    box = _output_box(page, 2)
    print(f"\ninduction heatmap: {box['height']:.0f} px tall")
    assert len(box["plots"]) == 1 and box["height"] <= 600, box
    labels = page.evaluate("""() => {
        const cell = window.__nbPanel.content.widgets.filter(c => c.model.type === 'code')[2];
        return [...cell.node.querySelectorAll('.yaxislayer-above .ytick text')].map(t =>
            parseFloat(getComputedStyle(t).fontSize)); }""")
    assert labels and len(labels) <= 24 and min(labels) >= 12, labels
    guard.assert_clean()


def test_temperature_slider_is_long_enough_to_drag(views):
    page, guard = views
    cell = page.locator(".jp-Notebook .jp-CodeCell").nth(3)
    cell.evaluate("c => c.scrollIntoView({block: 'start'})")
    track = cell.locator(".llmclock-sampling-temperature .noUi-target").first
    box = track.bounding_box()
    print(f"\ntemperature slider track: {box['width']:.0f} px")
    assert box["width"] >= 300, box
    readout = cell.locator(".llmclock-sampling-temperature .widget-readout").first
    before = readout.inner_text()
    handle = cell.locator(".llmclock-sampling-temperature .noUi-handle").first.bounding_box()
    page.mouse.move(handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.25, handle["y"] + handle["height"] / 2, steps=10)
    page.mouse.up()
    page.wait_for_timeout(500)
    after = readout.inner_text()
    assert after != before and 0.3 <= float(after) <= 0.7, (before, after)
    guard.assert_clean()
