"""The widgets rendered without JupyterLab: saved with `ipywidgets.embed` and drawn by
`@jupyter-widgets/html-manager`, the standalone renderer that other front ends build on. It is
the closest offline stand-in for VS Code and Colab, which render widgets with their own managers
and load third-party widget modules (anywidget's) from a CDN.

The renderer comes from the npm registry (scripts/install-widget-renderer.sh) and is read from
this machine; every request that leaves the machine is refused. The clock's small pacing
widget (an anywidget) cannot load here, as in a CDN-less VS Code or Colab: the rest of the clock
must still draw. JupyterLab's stylesheet is absent, so nothing may rely on its CSS variables."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from disk_pages import open_file
from lab_driver import ARTIFACTS

from helpers.widgets import AttentionExplorer, ClockWidget, SamplingExplorer, TokenExplorer

pytestmark = [pytest.mark.browser]

RENDERER = Path(__file__).resolve().parent / "html_manager" / "dist" / "embed.js"


@pytest.fixture(scope="module")
def renderer() -> Path:
    if not RENDERER.is_file():
        pytest.skip("the standalone widget renderer is not installed: "
                    "run scripts/install-widget-renderer.sh (needs npm)")
    return RENDERER


def _script_json(value) -> str:
    """JSON that cannot end or comment out its <script> block, whatever text it holds."""
    text = json.dumps(value)
    for char in "<>&\u2028\u2029":
        text = text.replace(char, f"\\u{ord(char):04x}")
    return text


def _save_page(folder: Path, renderer: Path, widget) -> Path:
    """`widget` saved as ipywidgets' embed format, in a page that loads the local renderer."""
    from ipywidgets.embed import dependency_state, embed_data

    # Only this widget's own tree (by default every widget alive in the process is saved).
    data = embed_data(views=[widget], state=dependency_state([widget]))
    state, view = (_script_json(x) for x in (data["manager_state"], data["view_specs"][0]))
    for asset in renderer.parent.iterdir():  # embed.js and the icon fonts it loads
        shutil.copy(asset, folder / asset.name)
    page = folder / "page.html"
    page.write_text(
        "<!doctype html><html><head><meta charset='utf-8'><title>widget</title>"
        "<script src='embed.js'></script></head><body>"
        f"<script type='application/vnd.jupyter.widget-state+json'>{state}</script>"
        f"<div id='view'><script type='application/vnd.jupyter.widget-view+json'>{view}"
        "</script></div></body></html>",
        encoding="utf-8",
    )
    return page


def _render(browser, page_path: Path):
    context, page, guard = open_file(browser, page_path)
    page.wait_for_selector("#view .widget-vbox, #view .jupyter-widgets", timeout=30_000)
    page.wait_for_timeout(500)  # the renderer builds children asynchronously
    return context, page, guard


def _anywidget_errors_only(guard) -> list[str]:
    """Every console error except the one expected here: the anywidget module cannot load."""
    return [e for e in guard.problems() if "anywidget" not in e.lower()]


def _no_jupyterlab_variables(page) -> None:
    # A style that names a JupyterLab variable without a fallback draws nothing outside Lab.
    inline = page.evaluate(
        "() => [...document.querySelectorAll('#view [style]')]"
        ".map(e => e.getAttribute('style')).filter(s => s.includes('var(--jp-'))"
    )
    assert inline == [], inline[:3]


def test_clock_widget_draws_without_jupyterlab_and_without_its_pacing_widget(
    browser, renderer, tiny_llama, tmp_path
):
    clock = ClockWidget(tiny_llama, "The capital of France is", temperature=0)
    for _ in range(3):
        assert clock.step()
    context, page, guard = _render(browser, _save_page(tmp_path, renderer, clock.ui))
    try:
        labels = page.locator("#view button").all_inner_texts()
        for label in ("Step", "Run", "Pause", "Rewind", "Reset"):
            assert any(label in text for text in labels), (label, labels)
        # The text panel holds the clock's text after three ticks (the newest token marked).
        shown = page.locator("#view").inner_text()
        newest = tiny_llama.tokenizer.decode([clock.clock.history[-1].token_id]).strip()
        assert "capital" in shown and newest in shown
        # Both charts are inline SVG with drawn bars.
        svgs = page.locator("#view svg")
        assert svgs.count() >= 2
        assert page.locator("#view svg rect").count() >= 5
        box = page.locator("#view svg").first.bounding_box()
        assert box and box["width"] > 100 and box["height"] > 50
        _no_jupyterlab_variables(page)
        assert _anywidget_errors_only(guard) == []
        page.screenshot(path=str(ARTIFACTS / "clock-widget-html-manager.png"))
    finally:
        context.close()
        clock.close()


@pytest.mark.parametrize("explorer", ["token", "sampling", "attention"])
def test_explorers_draw_their_controls_without_jupyterlab(
    browser, renderer, tiny_llama, tmp_path, explorer
):
    widget = {
        "token": lambda: TokenExplorer(tiny_llama, "The clock ticks once."),
        "sampling": lambda: SamplingExplorer(tiny_llama, "The capital of France is"),
        "attention": lambda: AttentionExplorer(tiny_llama, "The clock ticks once."),
    }[explorer]()
    context, page, guard = _render(browser, _save_page(tmp_path, renderer, widget.ui))
    try:
        controls = page.locator(
            "#view .widget-dropdown, #view .widget-slider, #view .widget-text, "
            "#view .widget-textarea, #view .widget-toggle-buttons, #view button, #view select"
        )
        assert controls.count() >= 1
        assert page.locator("#view").inner_text().strip()
        _no_jupyterlab_variables(page)
        assert guard.problems() == []
    finally:
        context.close()


def test_hostile_text_stays_text_in_the_saved_widget(browser, renderer, tiny_llama, tmp_path):
    prompt = "</script><script>window.__pwned = 1</script><!--<script>"
    widget = TokenExplorer(tiny_llama, prompt)
    context, page, guard = _render(browser, _save_page(tmp_path, renderer, widget.ui))
    try:
        assert page.evaluate("() => window.__pwned === undefined")
        assert page.locator("#view textarea").input_value() == prompt  # intact, as text
        # No element was made from the text: the only <script> in the view is its spec.
        assert page.locator("#view script").count() == 1
        assert guard.problems() == []
    finally:
        context.close()
