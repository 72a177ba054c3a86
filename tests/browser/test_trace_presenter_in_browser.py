"""The recorded clock as a teacher projects it: percentages of at least 14 px on screen, the two
panels side by side also at 150 % browser zoom, a Presenter button that enlarges everything,
and the widget's defaults (temperature 0.7, the attention head that reads content)."""

from __future__ import annotations

import pytest

from cjk import cjk_drawn
from disk_pages import open_file
from lab_driver import ARTIFACTS

from helpers.clock import Clock
from helpers.sampling import CLOCK_TEMPERATURE, SamplingConfig
from helpers.trace import save_trace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

# On-screen size of the chart texts: the SVG's font-size times the scale of its viewBox.
_SIZES_JS = (
    "(cls) => [...document.querySelectorAll('svg.' + cls + ' text')].map(t => {\n"
    "    const svg = t.ownerSVGElement, "
    "scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;\n"
    "    return [t.textContent, parseFloat(t.getAttribute('font-size')) * scale]; })"
)


@pytest.fixture(scope="module")
def trace_file(embedded_lm, tmp_path_factory):
    clock = Clock(embedded_lm, "The capital of France is",
                  SamplingConfig(temperature=CLOCK_TEMPERATURE))
    clock.run(6)
    return save_trace(clock, tmp_path_factory.mktemp("trace") / "paris.html")


def _percent_sizes(page) -> list:
    return [(text, px) for text, px in page.evaluate(_SIZES_JS, "trace-distribution-svg")
            if "%" in text]


def test_percentages_are_14px_and_presenter_button_enlarges(browser, trace_file):
    context, page, guard = open_file(browser, trace_file)
    try:
        page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
        sizes = _percent_sizes(page)
        assert sizes and min(px for _, px in sizes) >= 13.9, sizes
        page.locator(".trace-presenter").click()
        assert "presenter" in page.locator(".llmclock-trace").get_attribute("class")
        big = _percent_sizes(page)
        assert min(px for _, px in big) >= 17, big
        status_px = page.locator(".trace-status").evaluate(
            "e => parseFloat(getComputedStyle(e).fontSize)")
        assert status_px >= 19
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "trace-player-presenter.png"))
        guard.assert_clean()
    finally:
        context.close()


def test_panels_stay_side_by_side_at_150_percent_zoom(browser, trace_file):
    # 150 % zoom of a 1280x720 window: 853x480 CSS pixels at 1.5 device pixels each.
    context = browser.new_context(viewport={"width": 853, "height": 480}, device_scale_factor=1.5)
    try:
        from disk_pages import DiskGuard

        guard = DiskGuard()
        guard.attach(context)
        page = context.new_page()
        page.goto(trace_file.resolve().as_uri())
        page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
        boxes = page.evaluate("""() => [...document.querySelectorAll('.trace-panel')].map(p => {
            const b = p.getBoundingClientRect(); return [b.top, b.left, b.width]; })""")
        assert (len(boxes) == 2 and abs(boxes[0][0] - boxes[1][0]) < 2
                and boxes[1][1] > boxes[0][1]), boxes
        guard.assert_clean()
    finally:
        context.close()


def test_chinese_player_at_720p_renders_cjk_glyphs(browser, embedded_lm, tmp_path):
    """python -m helpers trace --lang zh: every label in Chinese, drawn with a CJK font (a glyph
    of its own, not the box of a missing one), at 1280x720."""

    clock = Clock(embedded_lm, "我喜欢吃", SamplingConfig(temperature=CLOCK_TEMPERATURE), seed=1)
    clock.run(6)
    path = save_trace(clock, tmp_path / "zh.html", lang="zh")
    context, page, guard = open_file(browser, path)
    try:
        page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
        assert page.locator(".trace-step").inner_text().startswith("单步")
        assert "拍" in page.locator(".trace-status").inner_text()
        assert "看向了哪里" in page.locator(".trace-attention-title").text_content()
        assert cjk_drawn(page, ".trace-status"), "CJK drawn as missing-glyph boxes (no CJK font)"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "trace-player-zh.png"))
        guard.assert_clean()
    finally:
        context.close()
