"""The clock widget as a teacher uses it at a 1280x720 projector: a cell with one line of code
above the widget, the Presenter button clicked, 30 ticks run. The prompt's first word and the
newest token are both in view in the text panel; the pickers under the charts are on screen;
the attention chart's title names the token read at this tick, which the text frames.

The notebook is written by the test into the server's throwaway copy of notebooks/.
"""

from __future__ import annotations

import pytest

from cjk import cjk_drawn
from lab_driver import ARTIFACTS, PageGuard, open_notebook, run_all_cells, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET = ".llmclock:has(.llmclock-step)"
SETUP = ("from helpers import load_model\nfrom helpers.widgets import ClockWidget\n\n"
         "lm = load_model()")
ONE_LINE = 'ClockWidget(lm, "The capital of France is", temperature=0.7, seed=0)'

# Where the widget's parts are on screen once its cell (one line of code) is scrolled to the
# top of the notebook area.
_PLACES_JS = ("""(selector) => {
    const panel = window.__nbPanel;
    const cell = panel.content.widgets.find("""
              """c => c.model.sharedModel.getSource().startsWith('ClockWidget('));
    cell.node.scrollIntoView({block: 'start'});
    const area = panel.node.querySelector('.jp-WindowedPanel-outer').getBoundingClientRect();
    const root = cell.node.querySelector(selector);
    const box = (el) => { if (!el) return null; const b = el.getBoundingClientRect();
                          return [b.top, b.bottom, b.left, b.right]; };
    const out = {area: [area.top, area.bottom, area.left, area.right], parts: {}};
    for (const name of ['step', 'presenter-toggle', 'status', 'text', 'force', 'force-choice',
                        'layer', 'head', 'hide-first'])
        out.parts[name] = box(root.querySelector('.llmclock-' + name));
    out.code = box(cell.node.querySelector('.jp-InputArea'));
    return out;
}""")

# The text panel: is the first prompt token / the newest token inside the panel's visible box?
_TEXT_JS = """(selector) => {
    const text = document.querySelector(selector + ' .llmclock-text');
    const shown = text.getBoundingClientRect();
    const inside = (el) => { if (!el) return false; const b = el.getBoundingClientRect();
        return b.height > 0 && b.top >= shown.top - 1 && b.bottom <= shown.bottom + 1
               && b.left >= shown.left - 1 && b.right <= shown.right + 1; };
    const first = text.querySelector('.llmclock-prompt-token');
    const newest = text.querySelector('.llmclock-new-token');
    const reading = text.querySelector('.llmclock-reading-token');
    return {first: first && first.innerText, firstVisible: inside(first),
            newest: newest && newest.innerText, newestVisible: inside(newest),
            reading: reading && reading.innerText, readingVisible: inside(reading),
            elided: !!text.querySelector('.llmclock-elided')};
}"""


@pytest.fixture(scope="module")
def teacher(browser, lab_server, lab_root):
    write_notebook(lab_root / "presenter_check.ipynb", [("code", SETUP), ("code", ONE_LINE)])
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_notebook(page, lab_server, "presenter_check.ipynb")
        run_all_cells(page, timeout_s=300)
        page.locator(f"{WIDGET} .llmclock-step").first.wait_for()
        yield page, guard
    finally:
        context.close()
        lab_server.shutdown_all_kernels()


def _in_view(places: dict, names) -> list[str]:
    top, bottom = places["area"][0], places["area"][1]
    return [f"{name} {places['parts'][name]}" for name in names
            if places["parts"][name] is None
            or not (places["parts"][name][0] >= top - 1 and places["parts"][name][1] <= bottom + 1)]


PICKERS = ["step", "presenter-toggle", "status", "text", "force", "force-choice", "layer", "head",
           "hide-first"]


def test_normal_mode_pickers_in_view_with_one_line_of_code_above(teacher):
    page, guard = teacher
    places = page.evaluate(_PLACES_JS, WIDGET)
    assert places["code"][1] - places["code"][0] < 60, (
        f"more than one line of code: {places['code']}")
    assert not _in_view(places, PICKERS), f"out of view at 1280x720: {_in_view(places, PICKERS)}"
    guard.assert_clean()


def test_presenter_toggle_by_click_and_30_ticks_keep_start_and_end_in_view(teacher):
    page, guard = teacher
    root = page.locator(WIDGET).first
    root.locator(".llmclock-presenter-toggle").click()
    page.wait_for_selector(".llmclock-presenter .llmclock-step", timeout=30_000)
    size = root.locator(".llmclock-step").evaluate("b => parseFloat(getComputedStyle(b).fontSize)")
    assert size >= 19, size
    n_box = root.locator(".llmclock-n input")
    n_box.fill("30")
    n_box.press("Enter")
    root.locator(".llmclock-run").click()
    page.wait_for_function(
        "(selector) => { "
        """const s = document.querySelector(selector + ' .llmclock-status').innerText;
             return /\\btick 29\\b/.test(s) || /stopped/.test(s); }""", arg=WIDGET, timeout=240_000)
    page.wait_for_function(
        "(s) => document.querySelector(s + ' .llmclock-pause').disabled", arg=WIDGET,
        timeout=60_000)
    page.wait_for_timeout(800)
    page.evaluate(_PLACES_JS, WIDGET)  # the cell at the top, as the teacher sees it
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "clock-widget-presenter.png"))
    text = page.evaluate(_TEXT_JS, WIDGET)
    print(f"\nafter 30 ticks in presenter mode: {text}")
    assert text["first"] and text["first"].strip() == "The" and text["firstVisible"], text
    assert text["newest"] and text["newestVisible"], text
    assert text["elided"], (
        "30 ticks at projector size do not fit two lines: the middle is left out")
    places = page.evaluate(_PLACES_JS, WIDGET)
    assert not _in_view(places, PICKERS), (
        f"presenter mode, out of view: {_in_view(places, PICKERS)}")
    status = root.locator(".llmclock-status div").first
    assert status.evaluate("d => d.scrollWidth <= d.clientWidth + 1"), status.inner_text()
    assert " ms" in status.inner_text()
    guard.assert_clean()


def test_attention_title_names_the_token_the_text_frames(teacher):
    page, guard = teacher
    root = page.locator(WIDGET).first
    title = root.locator(
        "svg.llmclock-attention-svg .llmclock-attention-title").first.text_content()
    text = page.evaluate(_TEXT_JS, WIDGET)
    reading = text["reading"].strip().replace("\n", "")
    assert text["readingVisible"], text
    assert (title.startswith(f"Where '{reading[:13]}")
            and title.endswith("read at this tick, looked")), (title, reading)
    guard.assert_clean()


@pytest.fixture(scope="module")
def chinese(browser, lab_server, lab_root):
    one_line = 'ClockWidget(lm, "我喜欢吃", lang="zh", seed=0)'
    write_notebook(lab_root / "zh_clock_check.ipynb", [("code", SETUP), ("code", one_line)])
    context = browser.new_context(viewport={"width": 1280, "height": 720}, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_notebook(page, lab_server, "zh_clock_check.ipynb")
        run_all_cells(page, timeout_s=300)
        page.locator(f"{WIDGET} .llmclock-step").first.wait_for()
        yield page, guard
    finally:
        context.close()
        lab_server.shutdown_all_kernels()


def test_chinese_clock_widget_at_720p(chinese):
    """lang='zh': buttons, status, charts and legend in Chinese, drawn with a CJK font (not
    missing-glyph boxes), the pickers in view with one line of code above."""
    page, guard = chinese
    root = page.locator(WIDGET).first
    assert root.locator(".llmclock-step").inner_text().strip() == "单步"
    for _ in range(3):
        root.locator(".llmclock-step").click()
        page.wait_for_timeout(300)
    page.wait_for_function(
        "(s) => /第 2 拍/.test(document.querySelector(s + ' .llmclock-status').innerText)",
        arg=WIDGET, timeout=120_000)
    title = root.locator(
        "svg.llmclock-attention-svg .llmclock-attention-title").first.text_content()
    assert "这一拍读入的" in title, title
    assert "下一个词元的概率分布" in root.locator("svg.llmclock-distribution-svg").first.text_content()
    assert cjk_drawn(page, f"{WIDGET} .llmclock-status div"), "CJK drawn as missing-glyph boxes"
    places = page.evaluate(_PLACES_JS, WIDGET)
    assert not _in_view(places, PICKERS), f"zh, out of view: {_in_view(places, PICKERS)}"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "clock-widget-zh.png"))
    guard.assert_clean()
