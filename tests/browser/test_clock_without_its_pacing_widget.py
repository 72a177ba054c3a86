"""The clock in JupyterLab when its small pacing widget never loads, as in a VS Code or Colab
that cannot reach the CDN it fetches third-party widget code from: the anywidget front-end
module is blocked, and Step, Run N and Pause still work, the charts still draw, no error box
shows, and one line says that display pacing is off."""

from __future__ import annotations

import pytest

from lab_driver import PageGuard, open_notebook, run_all_cells, write_notebook

pytestmark = [pytest.mark.browser, pytest.mark.slow]

WIDGET = ".llmclock:has(.llmclock-step)"
SCREEN = {"width": 1280, "height": 720}
# The kernel's helpers.widgets.clock_widget.PACING_GRACE_S for this test: how long a screen has
# to answer a frame before the widget says pacing is off (waited out below).
GRACE_S = 1.0


def _tick(page) -> str:
    return page.locator(f"{WIDGET} .llmclock-status").first.inner_text()


def test_clock_steps_runs_and_pauses_without_its_pacing_widget(browser, lab_server, lab_root):
    write_notebook(lab_root / "no_pacing.ipynb", [
        ("code", "from helpers import load_model\nfrom helpers.widgets import ClockWidget\n"
                 "import helpers.widgets.clock_widget as clock_widget\n"
                 f"clock_widget.PACING_GRACE_S = {GRACE_S}  # 5 s in class: a shorter wait\n"
                 "lm = load_model()\n"
                 "widget = ClockWidget(lm, 'The capital of France is', temperature=0)\nwidget"),
    ])
    context = browser.new_context(viewport=SCREEN, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    blocked: list[str] = []

    def block(route) -> None:
        blocked.append(route.request.url)
        route.abort()

    # Registered after the guard, so it is asked first: anywidget's front end never loads.
    context.route("**/lab/extensions/anywidget/**", block)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        open_notebook(page, lab_server, "no_pacing.ipynb")
        run_all_cells(page, timeout_s=240)
        root = page.locator(WIDGET).first
        root.locator(".llmclock-step").wait_for()
        assert blocked, "the anywidget module was never requested, so nothing was blocked"

        root.locator(".llmclock-step").click()
        page.wait_for_function(
            f"() => /\\btick 0\\b/.test(document.querySelector('{WIDGET} .llmclock-status')"
            ".innerText)", timeout=120_000)
        page.wait_for_timeout(GRACE_S * 1000 + 500)  # past the grace the screen has to answer
        root.locator(".llmclock-step").click()
        page.wait_for_function(
            f"() => /\\btick 1\\b/.test(document.querySelector('{WIDGET} .llmclock-status')"
            ".innerText)", timeout=120_000)

        note = root.locator(".llmclock-pacing-note")
        note.wait_for(state="visible", timeout=30_000)
        assert "pacing is off" in note.inner_text()

        # Run N, then Pause: the run stops and the widget is usable again.
        root.locator(".llmclock-run").click()
        page.wait_for_function(
            f"() => /\\btick ([3-9]|\\d\\d+)\\b/.test(document.querySelector("
            f"'{WIDGET} .llmclock-status').innerText)", timeout=120_000)
        root.locator(".llmclock-pause").click()
        page.wait_for_function(
            f"() => {{ const r = document.querySelector('{WIDGET}');"
            " return r.querySelector('.llmclock-pause').disabled"
            " && !r.querySelector('.llmclock-step').disabled; }", timeout=120_000)
        paused_at = _tick(page)
        page.wait_for_timeout(1_500)
        assert _tick(page) == paused_at, "the clock kept ticking after Pause"

        # The charts still draw, and the unloaded widget leaves no error box on screen.
        assert root.locator("svg.llmclock-distribution-svg rect.llmclock-bar").count() >= 1
        # Its error placeholder sits in the zero-height box that holds the pacing widget.
        holder = root.locator(".llmclock-frame-ack").first.bounding_box()
        assert holder is not None and holder["height"] < 1
        errors = root.locator(".jupyter-widgets-error-widget, .widget-error").all()
        outside = [box.inner_text()[:80] for box in errors
                   if not box.evaluate("e => !!e.closest('.llmclock-frame-ack')")]
        assert outside == []
    finally:
        context.close()
        lab_server.shutdown_all_kernels()
