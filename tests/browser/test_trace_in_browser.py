"""The recorded clock (python -m helpers trace / helpers.trace.save_trace), opened from disk in
headless Chromium with every request off the machine refused: no console errors; Step, Back, the
arrow keys, Home/End, the scrubber and Play move through the ticks, and at every tick the text
on screen is the clock's text at that tick (a greedy run, a seeded sampled run, a Chinese
prompt whose characters are split into byte tokens)."""

from __future__ import annotations

import re

import pytest

from disk_pages import open_file
from lab_driver import ARTIFACTS

from helpers.clock import Clock
from helpers.tick_view import tick_view
from helpers.sampling import SamplingConfig
from helpers.trace import save_trace

pytestmark = [pytest.mark.browser, pytest.mark.slow]

RUNS = {
    "greedy": ("The capital of France is", SamplingConfig(temperature=0), 0),
    "sampled": (
        "Once upon a time, there was a",
        SamplingConfig(temperature=0.9, top_k=40, top_p=0.95),
        7,
    ),
    "chinese": ("我喜欢吃披萨，因为", SamplingConfig(temperature=0.7), 1),
}
TICKS = 8
_GLYPHS = {"↵\n": "\n", "↵": "\n", "·": " ", "⇥": "\t", "␍": "\r", "∅": ""}


def _normalise(text: str) -> str:
    """Compare texts as characters: an unfinished character is one '�' whatever its bytes."""
    text = re.sub(r"⟨[^⟩]*⟩", "\ufffd", text)
    return re.sub("\ufffd+", "\ufffd", text)


def _screen_text(page) -> str:
    shown = page.locator(".trace-tokens").inner_text()
    for glyph, char in _GLYPHS.items():
        shown = shown.replace(glyph, char)
    return _normalise(shown)


@pytest.fixture(scope="module")
def recorded(embedded_lm, tmp_path_factory):
    """Each run: its file, the clock's text after every tick, and the clock itself."""
    folder = tmp_path_factory.mktemp("traces")
    runs = {}
    for name, (prompt, config, seed) in RUNS.items():
        clock = Clock(embedded_lm, prompt, config, seed=seed)
        texts = []
        for _ in range(TICKS):
            clock.tick()
            texts.append(clock.text)
            if clock.done:
                break
        runs[name] = (save_trace(clock, folder / f"{name}.html"), texts, clock)
    return runs


def _tick_shown(page) -> int:
    return int(re.match(r"tick (\d+)", page.locator(".trace-status").inner_text()).group(1))


@pytest.mark.parametrize("name", list(RUNS))
def test_player_steps_through_the_recorded_ticks(browser, recorded, name):
    path, texts, clock = recorded[name]
    context, page, guard = open_file(browser, path)
    try:
        page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
        last = len(texts) - 1
        assert _tick_shown(page) == 0
        # Forward with the Step button: at each tick, the text the clock had then.
        for tick in range(len(texts)):
            if tick:
                page.locator(".trace-step").click()
            assert _tick_shown(page) == tick
            assert _screen_text(page) == _normalise(texts[tick]), f"tick {tick}"
            record = clock.history[tick]
            chosen = page.locator(".trace-distribution-svg .chosen-label").first.evaluate(
                "el => [...el.childNodes].filter(n => n.nodeType === 3)"
                ".map(n => n.nodeValue).join('')"
            )
            # The chosen row's label, as the widget's chart has it (a byte fragment that
            # completes a character also names it: '⟨91⟩→我').
            view = tick_view(record, clock.lm.tokenizer, context_ids=clock.ids)
            assert chosen == "▶ " + view.candidates[view.chosen_row].label
            bars = page.locator(".trace-attention-svg rect.bar-attention").count()
            assert bars == record.context_len
        assert page.locator(".trace-step").is_disabled()
        # Back with the button and the arrow keys (the page body has the focus).
        page.locator(".trace-back").click()
        assert _tick_shown(page) == last - 1
        page.locator("body").focus()
        page.keyboard.press("ArrowLeft")
        assert _tick_shown(page) == last - 2
        assert _screen_text(page) == _normalise(texts[last - 2])
        page.keyboard.press("ArrowRight")
        assert _tick_shown(page) == last - 1
        page.keyboard.press("Home")
        assert _tick_shown(page) == 0 and page.locator(".trace-back").is_disabled()
        page.keyboard.press("End")
        assert _tick_shown(page) == last
        # The scrubber jumps to any tick.
        page.locator(".trace-scrubber").fill("3")
        assert _tick_shown(page) == 3 and _screen_text(page) == _normalise(texts[3])
        # A head instead of the mean: the bars of that head plus the mean as a line.
        page.locator(".trace-head").select_option("2")
        assert "head 2" in page.locator(".trace-attention-svg").text_content()
        assert page.locator(".trace-attention-svg polyline.line-mean").count() == 1
        page.locator(".trace-layer").fill("0")
        assert "layer 0, head 2" in page.locator(".trace-attention-svg").text_content()
        # Play runs on to the last tick by itself; Pause stops it.
        page.locator(".trace-play").click()
        page.wait_for_function(
            f"() => document.querySelector('.trace-status').textContent.startsWith('tick {last} ')",
            timeout=20_000,
        )
        assert "Play" in page.locator(".trace-play").inner_text()  # stopped at the end
        if name == "greedy":
            ARTIFACTS.mkdir(parents=True, exist_ok=True)
            page.keyboard.press("Home")
            page.screenshot(path=str(ARTIFACTS / "trace-player.png"))
        guard.assert_clean()
    finally:
        context.close()


def test_chinese_characters_show_whole_not_as_replacement_marks(recorded):
    path, texts, clock = recorded["chinese"]
    # Sanity: the prompt really is split into byte tokens that are not characters.
    pieces = clock.lm.tokenizer.batch_decode([[i] for i in clock.prompt_ids])
    assert any("\ufffd" in p for p in pieces), pieces
    assert "我喜欢吃披萨" in texts[0]


def test_player_fits_a_720p_screen(browser, recorded):
    path, _, _ = recorded["sampled"]
    context, page, guard = open_file(browser, path)
    try:
        page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
        height = page.evaluate(
            "() => document.querySelector('.llmclock-trace').getBoundingClientRect().bottom"
        )
        width = page.evaluate("() => document.documentElement.scrollWidth")
        assert height <= 720 and width <= 1280, (height, width)
        guard.assert_clean()
    finally:
        context.close()


HOSTILE_PROMPTS = [
    "<!--<script> x",
    "</script><script>alert(1)</script>",
    "a & b <b>bold</b> --> ]]>",
    "line\u2028para\u2029end",
]


def test_hostile_prompts_leave_the_page_whole(browser, tiny_llama, tmp_path):
    """Issue 24 item 7: `<!--<script>` in a prompt used to blank the page. Each prompt is played
    from its own trace file, and all of them as widget snapshots (the HTML edition's fragments)
    on one page: every player mounts, shows the prompt as text, and nothing runs."""
    from helpers.trace import snapshot_html

    clocks = []
    for i, prompt in enumerate(HOSTILE_PROMPTS):
        clock = Clock(tiny_llama, prompt, SamplingConfig(temperature=0), seed=i)
        clock.run(3)
        clocks.append(clock)
    pages = [save_trace(clock, tmp_path / f"hostile{i}.html", title=clock.prompt)
             for i, clock in enumerate(clocks)]
    combined = tmp_path / "snapshots.html"
    combined.write_text(
        "<!DOCTYPE html><html><head><meta charset='utf-8'></head><body>"
        + "<p>before</p>" + "".join(snapshot_html(c) for c in clocks)
        + "<p id='after'>after</p></body></html>",
        encoding="utf-8",
    )
    for path, expected in [*zip(pages, [[c] for c in clocks]), (combined, clocks)]:
        context, page, guard = open_file(browser, path)
        dialogs = []
        page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
        try:
            page.wait_for_function(
                f"() => document.querySelectorAll('.llmclock-trace[data-mounted=ready]').length"
                f" === {len(expected)}"
            )
            shown = page.locator(".trace-tokens").all_inner_texts()
            for clock, text in zip(expected, shown):
                page_text = text
                for glyph, char in _GLYPHS.items():
                    page_text = page_text.replace(glyph, char)
                # The prompt's ASCII part appears as typed (the tiny tokenizer shows the line
                # separators as their bytes).
                assert clock.prompt.split("\u2028")[0] in page_text, (clock.prompt, page_text)
            if path == combined:
                assert page.locator("#after").inner_text() == "after"
            else:
                assert page.title() == expected[0].prompt
            assert not dialogs and page.locator("b").count() == 0
            guard.assert_clean()
        finally:
            context.close()


def test_a_tick_whose_attention_was_dropped_says_so(browser, tiny_llama, tmp_path):
    """Issue 24 item 3: the history's memory bound drops old ticks' attention rows; the player
    shows the clock's note for those ticks and the chart for the others."""
    import warnings

    clock = Clock(tiny_llama, "The clock ticks", SamplingConfig(temperature=0))
    clock.end_ids = frozenset()
    clock.attention_budget = 0
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        clock.run(3)
    path = save_trace(clock, tmp_path / "bounded.html")
    context, page, guard = open_file(browser, path)
    try:
        page.wait_for_selector(".llmclock-trace[data-mounted=ready]")
        assert _tick_shown(page) == 0
        assert "The attention of tick 0 was not kept" in page.locator(".trace-note").inner_text()
        assert page.locator(".trace-attention-svg").count() == 0
        page.keyboard.press("End")
        assert _tick_shown(page) == 2 and page.locator(".trace-attention-svg").count() == 1
        guard.assert_clean()
    finally:
        context.close()
