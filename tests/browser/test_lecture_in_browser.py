"""The lecture's slides and worksheet (python -m helpers lecture) open from disk in headless
Chromium with every request off the machine refused: nothing is requested, no console error,
the analogy diagram and the charts are drawn, the arrow keys move one slide, and printing
puts one slide per page."""

from __future__ import annotations

import pytest

from disk_pages import open_file
from lab_driver import ARTIFACTS

from helpers.build.lecture import build

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def kit(embedded_lm, tmp_path_factory):
    return build(embedded_lm, tmp_path_factory.mktemp("lecture"))


def test_slides_open_offline_and_step_with_the_keys(browser, kit):
    context, page, guard = open_file(browser, kit[0])
    try:
        page.wait_for_load_state("load")
        assert page.locator("section").count() >= 10
        for svg in ("svg.analogy", "svg.llmclock-distribution-svg", "svg.llmclock-attention-svg"):
            box = page.locator(svg).first.bounding_box()
            assert box and box["width"] > 500, (svg, box)
        assert page.evaluate(
            "() => [...document.images].every(i => i.complete && i.naturalWidth > 0)")
        page.keyboard.press("ArrowRight")
        page.wait_for_timeout(300)
        second = page.evaluate("() => document.querySelectorAll('section')[1].offsetTop")
        assert abs(page.evaluate("() => window.scrollY") - second) < 2
        page.emulate_media(media="print")
        assert page.evaluate(
            "() => getComputedStyle(document.querySelector('section')).breakAfter") == "page"
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.emulate_media(media="screen")
        page.screenshot(path=str(ARTIFACTS / "lecture-slide-2.png"))
        guard.assert_clean()
    finally:
        context.close()


def test_worksheet_opens_offline_with_its_answer_sheet(browser, kit):
    context, page, guard = open_file(browser, kit[1])
    try:
        page.wait_for_load_state("load")
        text = page.inner_text("body")
        assert ("Predict the next token" in text and "Answer sheet" in text
                and "Exit questions" in text)
        assert page.locator("svg.llmclock-distribution-svg").first.bounding_box()["width"] > 500
        guard.assert_clean()
    finally:
        context.close()
