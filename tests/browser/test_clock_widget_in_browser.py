"""The clock widget of 06_tick_by_tick, clicked in a real browser: Step advances the tick
counter, the text and the distribution bars; Run N runs until Pause stops it; Rewind goes back
and replaying gives the same token; Force swaps in another candidate; the scrubber re-shows a
past tick. Each Step's click-to-screen time is measured and printed next to the kernel-side
tick time the widget reports.

This is also 06's one run in the test suite: it runs with its worked solutions in place and gets
the same output and exercise checks as every other notebook (test_notebooks_run_clean.py).

The widget's controls carry CSS classes (llmclock-step, llmclock-status, ...) set in
helpers/widgets/clock_widget.py; the tests find them by those classes.
"""

from __future__ import annotations

import re
import statistics

import nbformat
import pytest

from lab_driver import (
    ARTIFACTS, REPO, PageGuard, assert_everything_drawn_clean, assert_plotly_drawn, notebook_cells,
    open_notebook, plotly_figures, run_all_cells, screenshot_element, screenshot_notebook,
    slowest_cells,
)
from notebook_checks import exercise_problems, output_problems, with_worked_solutions

CLOCK_NOTEBOOK = REPO / "notebooks" / "06_tick_by_tick.ipynb"
pytestmark = [
    pytest.mark.browser, pytest.mark.slow,
    pytest.mark.skipif(not CLOCK_NOTEBOOK.exists(),
                       reason="06_tick_by_tick.ipynb not present yet"),
]
WIDGET = ".llmclock:has(.llmclock-step)"  # the token explorer is an .llmclock too
TICK = re.compile(r"\btick (\d+)\b")
KERNEL_MS = re.compile(r"([\d.]+)\+([\d.]+) ms")
SCREEN = {"width": 1280, "height": 720}  # a classroom projector
COUNTING_PROMPT = "1, 2, 3, 4, 5, 6, 7, 8, 9, 10,"


def screenshot_path(name: str):
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS / f"{name}.png"


class ClockPage:
    """Reads and clicks the first clock widget on the page."""

    def __init__(self, page):
        self.page = page
        self.root = page.locator(WIDGET).first
        self.run_problems: list[str] = []   # what the notebook run left in its outputs

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
        """What the distribution chart draws on screen: its row labels and each bar's on-screen
        width (px, measured by the browser, so only a drawn bar counts)."""
        labels, widths = self.root.locator("svg.llmclock-distribution-svg").first.evaluate(
            """svg => [[...svg.querySelectorAll('.llmclock-row-label')].map(t => t.textContent),
                       [...svg.querySelectorAll('rect.llmclock-bar')].map(r =>
                           r.getBoundingClientRect().width.toFixed(1))]"""
        )
        return tuple(labels), tuple(widths)

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
                const timer = setTimeout(() => reject("""
                    """new Error('status did not change within ' + timeout + ' ms')), timeout);
                const observer = new MutationObserver(() => {
                    if (status.innerText === before) return;
                    observer.disconnect(); clearTimeout(timer);
                    requestAnimationFrame(() => """
                        """resolve([performance.now() - t0, status.innerText]));
                });
                observer.observe(status, {subtree: true, childList: true, characterData: true});
                const t0 = performance.now();
                root.querySelector('.llmclock-' + name).click();
            })""",
            [WIDGET, name, timeout_ms],
        )
        return float(result[0]), result[1].strip()

    def figures_overflowing(self) -> list[str]:
        """Titles of the widget's charts that stick out of the widget (cut off on screen)."""
        return self.root.evaluate(
            """root => { const box = root.getBoundingClientRect();
                return [...root.querySelectorAll('svg.llmclock-distribution-svg, """
                    """svg.llmclock-attention-svg')]
                  .filter(svg => { const b = svg.getBoundingClientRect();
                    return b.left < box.left - 1 || b.right > box.right + 1; })
                  .map(svg => svg.getAttribute('aria-label') || '(untitled)'); }"""
        )

    def wait_for_tick(self, n: int, timeout_ms: int = 60_000) -> None:
        self.page.wait_for_function(
            r"""([selector, n]) => {
                const m = document.querySelector(selector + ' .llmclock-status').innerText"""
                    r""".match(/\btick (\d+)\b/);
                return m !== null && Number(m[1]) === n; }""",
            arg=[WIDGET, n], timeout=timeout_ms,
        )

    def wait_until_idle(self, timeout_ms: int = 60_000) -> None:
        """A run is over when Pause is disabled and Step enabled again."""
        self.page.wait_for_function(
            """(selector) => { const root = document.querySelector(selector);
                 return root.querySelector('.llmclock-pause').disabled && """
                     """!root.querySelector('.llmclock-step').disabled; }""",
            arg=WIDGET, timeout=timeout_ms,
        )


@pytest.fixture(scope="module")
def clock(browser, lab_server, lab_root):
    """06_tick_by_tick run top to bottom once, with its worked solutions in place (the suite's
    only run of it); the tests below then click its widget in order."""
    prepared, exercises = with_worked_solutions(nbformat.read(CLOCK_NOTEBOOK, as_version=4))
    nbformat.write(prepared, lab_root / CLOCK_NOTEBOOK.name)   # the server's throwaway copy
    context = browser.new_context(viewport=SCREEN, device_scale_factor=1)
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
        print(f"\n{CLOCK_NOTEBOOK.name}: Run All took {seconds:.1f} s in the browser; "
              "slowest cells:")
        for index, cell_seconds, first_line in slowest_cells(page):
            print(f"    cell {index:3d}  {cell_seconds:6.1f} s  {first_line}")
        cells = notebook_cells(page)   # as the notebook would be saved after Run All
        view = ClockPage(page)
        view.run_problems = (output_problems(CLOCK_NOTEBOOK.name, cells)
                             + exercise_problems(cells, exercises))
        view.control("step").wait_for()
        view.root.scroll_into_view_if_needed()
        yield view, guard
    finally:  # also when the run failed: no kernel left holding the model
        context.close()
        lab_server.shutdown_all_kernels()


def test_notebook_ran_clean_and_widget_shows(clock):
    view, guard = clock
    assert not view.run_problems, "\n".join(view.run_problems)  # outputs and exercises
    assert_everything_drawn_clean(view.page)  # the same checks as every other notebook
    outside = [f for f in plotly_figures(view.page) if not f["inWidget"]]
    assert_plotly_drawn(outside, at_least=1)
    for chart in ("distribution", "attention"):  # drawn, visible, with its title
        svg = view.root.locator(f"svg.llmclock-{chart}-svg").first
        box = svg.bounding_box()
        assert box and box["width"] > 300 and box["height"] > 200, (chart, box)
    assert "no tick yet" in view.root.locator("svg.llmclock-distribution-svg").first.inner_html()
    assert "not started" in view.status(), view.status()
    screenshot_element(view.root, "clock-widget-start")
    guard.assert_clean()


def test_step_advances_tick_text_and_bars(clock):
    view, guard = clock
    rows = []
    for _ in range(4):
        tick_before, text_before, bars_before = view.tick(), view.text(), view.bars()
        screen_ms, status = view.click_and_time("step")
        view.page.wait_for_timeout(300)  # the chart may arrive in a message just after the status
        expected = 0 if tick_before is None else tick_before + 1
        assert TICK.search(status) and int(TICK.search(status).group(1)) == expected, status
        assert (view.text() != text_before
                and len(view.text()) >= len(text_before.rstrip())), "text advanced"
        assert view.bars() != bars_before, "the distribution bars changed"
        forward_ms, sampling_ms = map(float, KERNEL_MS.search(status).groups())
        rows.append((expected, screen_ms, forward_ms, sampling_ms))
    print("\ntick  click-to-screen  kernel forward + sampling")
    for tick, screen_ms, forward_ms, sampling_ms in rows:
        print(f"{tick:4d}  {screen_ms:10.0f} ms   {forward_ms:8.1f} ms + {sampling_ms:.1f} ms")
    overhead = statistics.median(s - f - m for _, s, f, m in rows)
    print(f"median browser + comm overhead per Step: {overhead:.0f} ms")
    assert not view.message().startswith("⚠"), view.message()
    assert not view.figures_overflowing(), (
        f"figures cut off at the widget's edge: {view.figures_overflowing()}")
    screenshot_element(view.root, "clock-widget")
    guard.assert_clean()


def test_pause_during_a_long_run_leaves_the_screen_on_the_kernels_last_tick(clock):
    view, guard = clock
    # A counting prompt keeps going for hundreds of tokens: the run cannot end at end-of-text
    # before Pause lands.
    view.page.evaluate(
        f"() => {{ const a = document.querySelector('{WIDGET} .llmclock-settings');"
        " const t = a.querySelector('.jupyter-widget-Collapse-header, .lm-AccordionPanel-title, "
        ".p-Collapse-header'); if (t) t.click(); }")
    view.control("prompt").locator("textarea").fill(COUNTING_PROMPT)
    view.click_and_time("reset")
    assert view.tick() is None and "not started" in view.status(), view.status()
    n_box = view.control("n").locator("input")
    n_box.fill("2000")
    n_box.press("Enter")
    view.control("run").click()
    view.page.wait_for_function(
        f"() => document.querySelector('{WIDGET} .llmclock-step').disabled", timeout=10_000)
    view.page.wait_for_timeout(2500)
    # Click Pause inside the page and record every status the screen shows from then on.
    view.page.evaluate(
        """(selector) => { const root = document.querySelector(selector);
            const status = root.querySelector('.llmclock-status');
            window.__shown = [];
            window.__observer = new MutationObserver(() =>
                window.__shown.push([performance.now(), status.innerText]));
            window.__observer.observe(status, {subtree: true, """
                """childList: true, characterData: true});
            window.__clicked = performance.now();
            root.querySelector('.llmclock-pause').click(); }""", WIDGET)
    view.wait_until_idle()
    view.page.wait_for_timeout(2000)  # nothing may change after this
    shown, clicked = view.page.evaluate("() => [window.__shown, window.__clicked]")
    view.page.evaluate("() => window.__observer.disconnect()")
    message = view.message()
    assert "Paused after" in message, message
    ran = int(re.search(r"Paused after (\d+) tick", message).group(1))
    last_tick = ran - 1  # ticks 0 .. ran - 1 since the Reset
    assert 1 <= ran < 2000 and view.tick() == last_tick, (view.status(), message)
    ticks_seen = [(t - clicked, int(TICK.search(text).group(1)))
                  for t, text in shown if TICK.search(text)]
    assert ticks_seen and ticks_seen[-1][1] == last_tick, ticks_seen
    settled_ms = ticks_seen[-1][0]
    forward_ms, sampling_ms = map(float, KERNEL_MS.search(view.status()).groups())
    print(f"\nPause: the screen settled on tick {last_tick} (the kernel's last) "
          f"{settled_ms:.0f} ms after "
          f"the click; the tick in progress took {forward_ms + sampling_ms:.0f} ms in the kernel; "
          f"{len(ticks_seen)} tick(s) drawn after the click")
    # The tick in progress must finish (a forward pass is not cut in half); after it the
    # screen has 0.5 s to show it.
    assert settled_ms <= forward_ms + sampling_ms + 500, (settled_ms, forward_ms, ticks_seen)
    assert len(ticks_seen) <= 3, f"the screen was still catching up after Pause: {ticks_seen}"
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
    other = next(i for i in range(options.count())
                 if options.nth(i).get_attribute("value") != sampled)
    label = options.nth(other).inner_text()
    choice.select_option(index=other)
    forced_token = re.split(r"\s{2,}", label)[0].strip()  # "·The  8.8% → 7.0%"
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
    assert f"history 1/{newest + 1}" in status and "prefill" in status, status
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


# ---------------------------------------------------------------- one 720p screen

_LAYOUT_JS = ("""(selector) => {
    const root = document.querySelector(selector);
    const area = window.__nbPanel.node.querySelector('.jp-WindowedPanel-outer')"""
        """.getBoundingClientRect();
    const box = (el) => { const b = el.getBoundingClientRect(); """
        """return [b.top, b.bottom, b.left, b.right]; };
    const panels = {step: root.querySelector('.llmclock-step'), """
        """status: root.querySelector('.llmclock-status'),
                    text: root.querySelector('.llmclock-text'),
                    distribution: root.querySelector('svg.llmclock-distribution-svg'),
                    attention: root.querySelector('svg.llmclock-attention-svg'),
                    candidate: root.querySelector('.llmclock-force'),
                    head: root.querySelector('.llmclock-head')};
    const out = {area: [area.top, area.bottom, area.left, area.right], """
        """widgetHeight: root.getBoundingClientRect().height,
                 panels: {}};
    for (const [name, el] of Object.entries(panels)) out.panels[name] = el ? box(el) : null;
    // Text that does not fit its box: labels, buttons, the status, dropdowns (the selected
    // option's text measured against the select's inner width, arrow excluded).
    const canvas = document.createElement('canvas').getContext('2d');
    const overflow = [];
    for (const el of root.querySelectorAll('.widget-label, .widget-readout, button, """
        """.llmclock-status div, input')) {
        if (el.offsetParent !== null && el.scrollWidth > el.clientWidth + 1)
            overflow.push(`${el.className || el.tagName}: """
                """'${(el.innerText || el.value || '').slice(0, 40)}' `
                          + `${el.scrollWidth} > ${el.clientWidth}`);
    }
    for (const el of root.querySelectorAll('select')) {
        if (el.offsetParent === null || el.selectedIndex < 0) continue;
        const st = getComputedStyle(el);
        canvas.font = `${st.fontWeight} ${st.fontSize} ${st.fontFamily}`;
        const text = el.options[el.selectedIndex].text;
        const need = canvas.measureText(text).width, room = el.clientWidth - 28;
        if (need > room) """
            """overflow.push(`select '${text}': ${need.toFixed(0)} px text in ${room} px`);
    }
    // The smallest text on the widget (HTML text and SVG text alike).
    const sizes = [];
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    while (walker.nextNode()) {
        const node = walker.currentNode, el = node.parentElement;
        if (!node.textContent.trim() || !el || el.closest('style')) continue;
        const rect = el.getBoundingClientRect();
        if (rect.width === 0 || rect.height === 0) continue;
        sizes.push([parseFloat(getComputedStyle(el).fontSize), """
            """node.textContent.trim().slice(0, 30)]);
    }
    sizes.sort((a, b) => a[0] - b[0]);
    out.overflow = overflow; out.smallest = sizes.slice(0, 5);
    return out;
}""")


def _layout(view) -> dict:
    view.root.evaluate("el => el.scrollIntoView({block: 'start'})")
    view.page.wait_for_timeout(500)
    return view.page.evaluate(_LAYOUT_JS, WIDGET)


def _assert_one_screen(layout: dict, mode: str) -> None:
    top, bottom, left, right = layout["area"]
    print(f"\n{mode}: widget {layout['widgetHeight']:.0f} px tall, "
          f"notebook area {bottom - top:.0f} px; "
          f"smallest text {layout['smallest'][:3]}")
    for name, b in layout["panels"].items():
        assert b is not None, f"{mode}: no {name} panel"
        assert b[0] >= top - 1 and b[1] <= bottom + 1 and b[2] >= left - 1 and b[3] <= right + 1, \
            f"{mode}: the {name} panel {b} is outside the visible notebook area {layout['area']}"
    assert not layout["overflow"], f"{mode}: text wider than its box: {layout['overflow']}"


def test_widget_fits_one_720p_screen(clock):
    view, guard = clock
    layout = _layout(view)
    _assert_one_screen(layout, "normal")
    view.page.screenshot(path=str(screenshot_path("clock-widget-720p")))
    guard.assert_clean()


def test_presenter_mode_fits_too_and_nothing_is_under_14px(clock):
    view, guard = clock
    view.control("presenter-toggle").click()  # the widget's own button: no code to edit
    view.page.wait_for_selector(".llmclock-presenter .llmclock-step", timeout=60_000)
    presenter = ClockPage(view.page)
    presenter.root = view.page.locator(".llmclock-presenter").first
    for _ in range(3):
        presenter.click_and_time("step")
    view.page.wait_for_timeout(800)
    presenter.root.evaluate("el => el.scrollIntoView({block: 'start'})")
    view.page.wait_for_timeout(500)
    layout = view.page.evaluate(_LAYOUT_JS, ".llmclock-presenter")
    _assert_one_screen(layout, "presenter")
    small = [s for s in layout["smallest"] if s[0] < 14]
    assert not small, f"presenter mode has text under 14 px: {small}"
    view.page.screenshot(path=str(screenshot_path("clock-widget-720p-presenter")))
    guard.assert_clean()
