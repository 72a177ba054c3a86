"""The clock widget of 06_tick_by_tick, clicked in a real browser: Step advances the tick
counter, the text and the distribution bars; Run N runs until Pause stops it; Rewind goes back
and replaying gives the same token; Force swaps in another candidate; the scrubber re-shows a
past tick. Each Step's click-to-screen time is measured and printed next to the kernel-side
tick time the widget reports.

The widget's controls carry CSS classes (llmclock-step, llmclock-status, ...) set in
helpers/widgets/clock_widget.py; the tests find them by those classes.
"""

from __future__ import annotations

import re
import statistics

import pytest

from lab_driver import (
    REPO, PageGuard, assert_everything_drawn_clean, assert_plotly_drawn, open_notebook, plotly_figures,
    run_all_cells, screenshot_element, screenshot_notebook, slowest_cells,
)

CLOCK_NOTEBOOK = REPO / "notebooks" / "06_tick_by_tick.ipynb"
pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not CLOCK_NOTEBOOK.exists(), reason="06_tick_by_tick.ipynb not present yet"),
]
WIDGET = ".llmclock:has(.llmclock-step)"  # the token explorer is an .llmclock too
TICK = re.compile(r"\btick (\d+)\b")
KERNEL_MS = re.compile(r"([\d.]+) ms forward \+ ([\d.]+) ms sampling")
COUNTING_PROMPT = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"


class ClockView:
    """Reads and clicks the first clock widget on the page."""

    def __init__(self, page):
        self.page = page
        self.root = page.locator(WIDGET).first

    def control(self, name: str):
        return self.root.locator(f".llmclock-{name}").first

    def status(self) -> str:
        return self.control("status").inner_text().strip()

    def message(self) -> str:
        return self.control("message").inner_text().strip()

    def text(self) -> str:
        return self.control("text").inner_text().strip()

    def tick(self) -> int | None:
        match = TICK.search(self.status())
        return int(match.group(1)) if match else None

    def bars(self) -> tuple[tuple[str, ...], tuple[str, ...]]:
        """What the distribution figure draws: its row labels and the geometry of its bars."""
        labels, paths = self.root.locator(".js-plotly-plot").first.evaluate(
            """plot => [[...plot.querySelectorAll('.ytick text')].map(t => t.textContent),
                        [...plot.querySelectorAll('.trace.bars .point path')].map(p => p.getAttribute('d'))]"""
        )
        return tuple(labels), tuple(paths)

    def click_and_time(self, name: str, timeout_ms: int = 60_000) -> tuple[float, str]:
        """Click a control; return (ms until the status line changed on screen, the new status).

        Timed inside the page: a MutationObserver sees the new status text, then one
        animation frame lets the browser paint it.
        """
        result = self.page.evaluate(
            """([selector, name, timeout]) => new Promise((resolve, reject) => {
                const root = document.querySelector(selector);
                const status = root.querySelector('.llmclock-status');
                const before = status.innerText;
                const timer = setTimeout(() => reject(new Error('status did not change within ' + timeout + ' ms')), timeout);
                const observer = new MutationObserver(() => {
                    if (status.innerText === before) return;
                    observer.disconnect(); clearTimeout(timer);
                    requestAnimationFrame(() => resolve([performance.now() - t0, status.innerText]));
                });
                observer.observe(status, {subtree: true, childList: true, characterData: true});
                const t0 = performance.now();
                root.querySelector('.llmclock-' + name).click();
            })""",
            [WIDGET, name, timeout_ms],
        )
        return float(result[0]), result[1].strip()

    def figures_overflowing(self) -> list[str]:
        """Titles of the widget's figures that stick out of the widget (cut off on screen)."""
        return self.root.evaluate(
            """root => { const box = root.getBoundingClientRect();
                return [...root.querySelectorAll('.js-plotly-plot')].filter(plot => {
                    const b = plot.querySelector('.main-svg').getBoundingClientRect();
                    return b.left < box.left - 1 || b.right > box.right + 1; })
                  .map(plot => (plot.querySelector('.gtitle') || {}).textContent || '(untitled)'); }"""
        )

    def wait_for_tick(self, n: int, timeout_ms: int = 60_000) -> None:
        self.page.wait_for_function(
            r"""([selector, n]) => {
                const m = document.querySelector(selector + ' .llmclock-status').innerText.match(/\btick (\d+)\b/);
                return m !== null && Number(m[1]) === n; }""",
            arg=[WIDGET, n], timeout=timeout_ms,
        )

    def wait_until_idle(self, timeout_ms: int = 60_000) -> None:
        """A run is over when Pause is disabled and Step enabled again."""
        self.page.wait_for_function(
            """(selector) => { const root = document.querySelector(selector);
                 return root.querySelector('.llmclock-pause').disabled && !root.querySelector('.llmclock-step').disabled; }""",
            arg=WIDGET, timeout=timeout_ms,
        )


@pytest.fixture(scope="module")
def clock(browser, lab_server):
    """06_tick_by_tick run top to bottom once; the tests below then click its widget in order."""
    context = browser.new_context(viewport={"width": 1400, "height": 1000}, device_scale_factor=1)
    guard = PageGuard()
    guard.attach(context)
    try:
        page = context.new_page()
        page.set_default_timeout(30_000)
        open_notebook(page, lab_server, CLOCK_NOTEBOOK.name)
        try:
            seconds = run_all_cells(page, timeout_s=480)
            page.wait_for_timeout(1000)
        finally:
            screenshot_notebook(page, CLOCK_NOTEBOOK.stem)
        print(f"\n{CLOCK_NOTEBOOK.name}: Run All took {seconds:.1f} s in the browser; slowest cells:")
        for index, cell_seconds, first_line in slowest_cells(page):
            print(f"    cell {index:3d}  {cell_seconds:6.1f} s  {first_line}")
        view = ClockView(page)
        view.control("step").wait_for()
        view.root.scroll_into_view_if_needed()
        yield view, guard
    finally:  # also when the run failed: no kernel left holding the model
        context.close()
        lab_server.shutdown_all_kernels()


def test_notebook_ran_clean_and_widget_shows(clock):
    view, guard = clock
    assert_everything_drawn_clean(view.page)  # the same checks as every other notebook
    outside = [f for f in plotly_figures(view.page) if not f["inWidget"]]
    assert_plotly_drawn(outside, at_least=1)
    assert view.root.locator(".js-plotly-plot .main-svg").count() >= 2, "distribution and attention figures drawn"
    assert "not started" in view.status(), view.status()
    screenshot_element(view.root, "clock-widget-start")
    guard.assert_clean()


def test_step_advances_tick_text_and_bars(clock):
    view, guard = clock
    rows = []
    for _ in range(4):
        tick_before, text_before, bars_before = view.tick(), view.text(), view.bars()
        screen_ms, status = view.click_and_time("step")
        view.page.wait_for_timeout(300)  # plotly redraws the bars right after the status changes
        expected = 0 if tick_before is None else tick_before + 1
        assert TICK.search(status) and int(TICK.search(status).group(1)) == expected, status
        assert view.text() != text_before and len(view.text()) >= len(text_before.rstrip()), "text advanced"
        assert view.bars() != bars_before, "the distribution bars changed"
        forward_ms, sampling_ms = map(float, KERNEL_MS.search(status).groups())
        rows.append((expected, screen_ms, forward_ms, sampling_ms))
    print("\ntick  click-to-screen  kernel forward + sampling")
    for tick, screen_ms, forward_ms, sampling_ms in rows:
        print(f"{tick:4d}  {screen_ms:10.0f} ms   {forward_ms:8.1f} ms + {sampling_ms:.1f} ms")
    overhead = statistics.median(s - f - m for _, s, f, m in rows)
    print(f"median browser + comm overhead per Step: {overhead:.0f} ms")
    assert not view.message().startswith("⚠"), view.message()
    assert not view.figures_overflowing(), f"figures cut off at the widget's edge: {view.figures_overflowing()}"
    screenshot_element(view.root, "clock-widget")
    guard.assert_clean()


def test_run_n_then_pause_stops(clock):
    view, guard = clock
    # A counting prompt keeps going for hundreds of tokens: the run cannot end at end-of-text
    # before Pause lands. (Run status is pushed faster than the browser draws it, so Pause is
    # clicked on a timer, not on what the screen shows.)
    view.control("prompt").locator("textarea").fill(COUNTING_PROMPT)
    view.click_and_time("reset")
    assert view.tick() is None and "not started" in view.status(), view.status()
    n_box = view.control("n").locator("input")
    n_box.fill("200")
    n_box.press("Enter")
    view.control("run").click()
    view.page.wait_for_function(
        f"() => document.querySelector('{WIDGET} .llmclock-step').disabled", timeout=10_000)
    view.page.wait_for_timeout(1500)
    view.control("pause").click()
    view.wait_until_idle()
    stopped_at = view.tick()
    assert "Paused after" in view.message(), view.message()
    view.page.wait_for_timeout(2000)
    assert view.tick() == stopped_at, "no tick after Pause"
    assert stopped_at is not None and 1 <= stopped_at < 199, stopped_at
    ran = int(re.search(r"Paused after (\d+) tick", view.message()).group(1))
    assert ran == stopped_at + 1, (ran, stopped_at)  # ticks 0..stopped_at
    guard.assert_clean()


def test_rewind_goes_back_and_replay_is_identical(clock):
    view, guard = clock
    tick, text = view.tick(), view.text()
    _, status = view.click_and_time("rewind")
    assert int(TICK.search(status).group(1)) == tick - 1, status
    assert view.text() != text and "Rewound 1 tick" in view.message()
    _, status = view.click_and_time("step")
    assert int(TICK.search(status).group(1)) == tick
    assert view.text() == text, "replaying a rewound tick gives the same token"
    guard.assert_clean()


def test_force_takes_another_candidate(clock):
    view, guard = clock
    tick = view.tick()
    choice = view.control("force-choice").locator("select")
    options = choice.locator("option")
    sampled = choice.input_value()
    other = next(i for i in range(options.count()) if options.nth(i).get_attribute("value") != sampled)
    label = options.nth(other).inner_text()
    choice.select_option(index=other)
    forced_token = re.split(r"\s{2,}raw\s", label)[0].strip()  # "·The   raw 8.8% · filtered 7.0%"
    _, status = view.click_and_time("force")
    assert "FORCED" in status and f"chose '{forced_token}'" in status, (forced_token, status)
    assert int(TICK.search(status).group(1)) == tick
    guard.assert_clean()


def test_scrubber_reshows_a_past_tick(clock):
    view, guard = clock
    newest = view.tick()
    handle = view.control("scrubber").locator(".noUi-handle").first
    handle.focus()
    handle.press("Home")
    view.wait_for_tick(0)
    status = view.status()
    assert f"showing 1 of {newest + 1} ticks" in status and "prefill" in status, status
    # Back to the newest tick by dragging the handle to the end of the track with the mouse.
    track = view.control("scrubber").locator(".noUi-target").first.bounding_box()
    grip = handle.bounding_box()
    view.page.mouse.move(grip["x"] + grip["width"] / 2, grip["y"] + grip["height"] / 2)
    view.page.mouse.down()
    view.page.mouse.move(track["x"] + track["width"] + 20, grip["y"] + grip["height"] / 2, steps=8)
    view.page.mouse.up()
    view.wait_for_tick(newest)
    assert "history:" not in view.status()
    guard.assert_clean()
