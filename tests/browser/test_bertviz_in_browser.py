"""bertviz's model view at a projector's 1280x720: it draws 970 px wide, so in a narrower
notebook column it must scale down (or scroll) with every head and layer still visible.
Uses the session's Chromium (a second Playwright in the same thread would clash with it)."""

from __future__ import annotations

import pytest

from helpers.bertviz_offline import model_view

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_model_view_fits_1280x720(browser, tiny_lm, tmp_path):
    view = model_view(tiny_lm, "The clock ticks once for every token", include_layers=[0, 1])
    page_file = tmp_path / "view.html"
    page_file.write_text(f'<html><body><div id="column" style="width:700px">{view.data}</div>'
                         "</body></html>", encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        page.goto(page_file.as_uri())
        page.wait_for_selector("#vis svg")
        box = page.evaluate("""() => {
            const svg = document.querySelector('#vis svg').getBoundingClientRect();
            const cells = [...document.querySelectorAll('.attn_background')]
                .map(r => r.getBoundingClientRect());
            return {svg_right: svg.right, svg_bottom: svg.bottom, n: cells.length,
                    right: Math.max(...cells.map(c => c.right)),
                    bottom: Math.max(...cells.map(c => c.bottom)),
                    column: document.getElementById('column').getBoundingClientRect().right};
        }""")
    finally:
        context.close()
    assert box["n"] == 2 * tiny_lm.n_heads
    assert box["svg_right"] <= box["column"] + 1, "the drawing fits the column"
    assert box["right"] <= box["svg_right"] + 1 and box["bottom"] <= box["svg_bottom"] + 1


def test_hostile_token_text_draws_as_text(browser, tiny_lm, tmp_path):
    """Issue 24 item 7: a '<!--<script>' token label inside bertviz's inline script."""
    from helpers.bertviz_offline import head_view

    view = head_view(tiny_lm, "<!--<script>x</script>")
    page_file = tmp_path / "hostile.html"
    page_file.write_text(f"<html><body>{view.data}<p id='after'>after</p></body></html>",
                         encoding="utf-8")
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    try:
        page = context.new_page()
        errors = []
        page.on("pageerror", lambda e: errors.append(str(e)))
        page.goto(page_file.as_uri())
        page.wait_for_selector("#vis svg")
        labels = "".join(page.locator("#vis svg text").all_text_contents())
        assert "script" in labels and page.locator("#after").inner_text() == "after"
        assert not errors, errors
    finally:
        context.close()
