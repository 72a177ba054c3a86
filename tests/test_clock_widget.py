"""The clock widget driven by simulated clicks and slider moves: every panel follows the
clock, odd click orders keep it consistent, errors show as messages and it keeps working."""

from __future__ import annotations

import re
import threading
import time

import pytest
import torch

from helpers.attention import content_head
from helpers.plots import presenter_mode, set_presenter_mode
from helpers.widgets import ClockWidget

PROMPT = "The clock ticks"


@pytest.fixture
def widget(tiny_lm):
    cw = ClockWidget(tiny_lm, PROMPT, temperature=0.0)  # greedy: deterministic tokens
    yield cw
    cw.close()


def status(cw) -> str:
    return re.sub(r"<[^>]+>", "", cw.status.value)


def shown_tick(cw) -> int | None:
    found = re.search(r"tick (\d+)", status(cw))
    return int(found.group(1)) if found else None


def tokens_drawn(cw, kind: str) -> int:
    """Tokens in the text panel's boxes of one kind (a box may glue byte tokens into a
    character)."""
    return sum(int(n) for n in re.findall(rf"llmclock-{kind}-token' data-tokens='(\d+)'",
                                          cw.view.text.value))


def raw_bars(cw) -> list[tuple[int, float]]:
    """(token id, probability) of the distribution chart's raw bars, top to bottom."""
    found = re.findall(r'llmclock-bar-raw" data-token-id="(\d+)" data-p="([^"]+)"',
                       cw.view.distribution.value)
    return [(int(i), float(p)) for i, p in found]


def attention_bars(cw, kind: str = "llmclock-bar") -> list[float]:
    """The attention chart's bar heights (or, kind='llmclock-mean-point', its mean line)."""
    return [float(p) for p in re.findall(rf'class="{kind}" data-pos="\d+" data-w="([^"]+)"',
                                         cw.view.attention.value)]


def assert_consistent(cw, shown: int | None = "newest"):
    """The invariants every click must keep."""
    history = cw.clock.history
    newest = len(history) - 1 if history else None
    shown = newest if shown == "newest" else shown
    assert cw.shown == shown and shown_tick(cw) == shown
    assert cw.view.scrubber.max == max(0, len(history) - 1)
    if shown is None:
        assert "not started" in status(cw) and "llmclock-new-token" not in cw.view.text.value
        assert raw_bars(cw) == [] and cw.view.force_choice.options == ()
        return
    assert cw.view.scrubber.value == shown
    record = history[shown]
    # The text: prompt tokens + the generated ones up to this tick, the last one highlighted;
    # a middle left out is counted ('… 12 tokens …'), the prompt's first token always drawn.
    left_out = sum(int(n) for n in re.findall(r"… (\d+) tokens …", cw.view.text.value))
    drawn = sum(tokens_drawn(cw, kind) for kind in ("prompt", "generated", "new"))
    assert drawn + left_out == len(cw.clock.prompt_ids) + shown + 1
    assert "position 0 (prompt)" in cw.view.text.value
    assert cw.view.text.value.count("llmclock-new-token") == 1
    # The token read at this tick is framed; the title of the attention chart names it.
    assert cw.view.text.value.count("llmclock-reading-token") == 1
    assert "read at this tick, looked" in cw.view.attention.value
    # The distribution panel shows this tick's raw top candidates, most likely first.
    raw = raw_bars(cw)
    assert [p for _, p in raw] == pytest.approx([c.prob for c in record.top_raw][: len(raw)],
                                                rel=1e-4)
    assert len(raw) >= min(len(record.top_raw), 10)
    chosen = re.findall(r'data-token-id="(\d+)" data-p="[^"]+" [^>]*stroke-width="3"',
                        cw.view.distribution.value)
    assert chosen and set(chosen) == {str(record.token_id)}  # the chosen token is outlined
    assert "llmclock-chosen" in cw.view.distribution.value
    # The attention panel: the chosen layer's head (or the mean over heads), over this tick's
    # context.
    att = record.attention[cw.view.layer.value].float()
    expected = att.mean(0) if cw.view.head.value < 0 else att[cw.view.head.value]
    assert torch.allclose(torch.tensor(attention_bars(cw)), expected, atol=1e-3)
    assert len(attention_bars(cw)) == record.context_len
    assert ({value for _, value in cw.view.force_choice.options}
            >= {c.token_id for c in record.top_raw})


def test_status_names_the_passes_of_a_prefill_longer_than_one_chunk(widget, monkeypatch):
    import helpers.clock as clock_module

    monkeypatch.setattr(clock_module, "PREFILL_CHUNK", 2)
    widget.view.step_button.click()
    record = widget.clock.history[0]
    assert record.passes == -(-len(widget.clock.prompt_ids) // 2) > 1
    assert f"tick 0 · prefill in {record.passes} passes" in status(widget)


def test_step_fills_every_panel(widget):
    assert_consistent(widget)
    assert "tick –" in status(widget)
    widget.view.step_button.click()
    assert_consistent(widget)
    assert "tick 0" in status(widget) and "prefill" in status(widget)
    assert "passes" not in status(widget)  # a short prompt is one forward pass
    widget.view.step_button.click()
    assert_consistent(widget)
    record = widget.clock.history[1]
    assert "tick 1" in status(widget) and "decode" in status(widget)
    assert f"KV {record.kv_cache_len} pos" in status(widget) and " ms" in status(widget)
    assert f"surprisal {record.surprisal_bits:.2f} bits" in status(widget)
    assert widget.clock.history[0].token_id == widget.clock.generated_ids[0]
    assert widget.message.value == ""


def test_charts_are_updated_in_place_not_recreated(widget):
    dist, att = widget.view.distribution, widget.view.attention
    before = dist.value
    for _ in range(3):
        widget.view.step_button.click()
    assert (widget.view.distribution is dist and widget.view.attention is att
            and dist.value != before)


def test_scrubber_shows_history_without_recomputing(widget, monkeypatch):
    for _ in range(4):
        widget.view.step_button.click()
    newest_html = widget.view.text.value

    def no_tick():
        raise AssertionError("the scrubber must not tick")

    monkeypatch.setattr(widget.clock, "tick", no_tick)
    widget.view.scrubber.value = 1
    assert_consistent(widget, shown=1)
    assert "history 2/4" in status(widget)
    widget.view.scrubber.value = 3
    assert_consistent(widget, shown=3) and widget.view.text.value == newest_html


def test_layer_and_head_choice_redraws_attention(widget):
    widget.view.step_button.click()
    widget.view.step_button.click()
    record = widget.clock.history[-1]
    widget.view.layer.value = 0
    widget.view.head.value = 1
    assert torch.allclose(torch.tensor(attention_bars(widget)), record.attention[0, 1].float(),
                          atol=1e-3)
    mean = attention_bars(widget, "llmclock-mean-point")
    assert torch.allclose(torch.tensor(mean), record.attention[0].float().mean(0), atol=1e-3)
    assert "layer 0, head 1" in widget.view.attention.value


def test_odd_click_orders_stay_consistent(widget):
    widget.view.rewind_button.click()                       # rewind at the start
    assert "Nothing to rewind" in widget.message.value
    assert_consistent(widget)
    widget.view.pause_button.click()                        # pause when nothing runs
    assert "Nothing is running" in widget.message.value
    widget.view.force_button.click()                        # force before any tick
    assert "Nothing to force" in widget.message.value
    assert_consistent(widget)
    widget.view.step_button.click()
    widget.view.force_choice.value = widget.view.force_choice.options[-1][1]
    widget.view.force_button.click()                        # force, then reset
    assert widget.clock.history[-1].forced
    widget.view.reset_button.click()
    assert_consistent(widget) and widget.clock.history == []
    widget.run(3, background=False)                    # run, then rewind
    widget.view.rewind_button.click()
    assert len(widget.clock.history) == 2
    assert_consistent(widget)
    for _ in range(5):                                 # fast repeated clicks
        widget.view.step_button.click()
        widget.view.rewind_button.click()
        widget.view.step_button.click()
    assert len(widget.clock.history) == 7
    assert_consistent(widget)
    widget.rewind(7)
    assert_consistent(widget)


def test_rewind_then_step_replays_the_same_token(tiny_lm):
    cw = ClockWidget(tiny_lm, PROMPT, temperature=1.0, seed=3)
    cw.run(4, background=False)
    before = list(cw.clock.generated_ids)
    cw.view.rewind_button.click()
    cw.view.step_button.click()
    assert cw.clock.generated_ids == before
    assert_consistent(cw)


def test_force_replaces_the_shown_tick(widget):
    widget.run(4, background=False)
    widget.view.scrubber.value = 1
    record = widget.clock.history[1]
    other = next(c for c in record.top_raw if c.token_id != record.token_id)
    widget.view.force_choice.value = other.token_id
    widget.view.force_button.click()
    assert len(widget.clock.history) == 2  # the ticks after the shown one are discarded
    assert widget.clock.history[1].forced and widget.clock.history[1].token_id == other.token_id
    assert "FORCED" in status(widget) and "re-run with" in widget.message.value
    assert_consistent(widget)


def test_exception_inside_a_tick_shows_a_message_and_the_widget_recovers(widget, monkeypatch):
    widget.view.step_button.click()
    model = widget.clock.lm.model
    real_forward = model.forward

    def broken_forward(*args, **kwargs):
        raise RuntimeError("simulated failure")

    monkeypatch.setattr(model, "forward", broken_forward)
    widget.view.step_button.click()
    assert "RuntimeError: simulated failure" in widget.message.value and widget.last_error
    assert len(widget.clock.history) == 1
    assert_consistent(widget)
    monkeypatch.setattr(model, "forward", real_forward)
    widget.view.step_button.click()
    assert len(widget.clock.history) == 2 and widget.message.value == ""
    assert_consistent(widget)


def test_exception_from_the_clock_tick_itself(widget, monkeypatch):
    monkeypatch.setattr(widget.clock, "tick", lambda: 1 / 0)
    widget.view.step_button.click()
    assert "ZeroDivisionError" in widget.message.value
    monkeypatch.undo()
    widget.view.step_button.click()
    assert_consistent(widget) and len(widget.clock.history) == 1


def test_settings_apply_from_the_next_tick_and_bad_values_are_refused(widget):
    widget.view.step_button.click()
    widget.view.temperature.value = 0.5
    widget.view.top_k.value = 5
    assert widget.clock.config.temperature == 0.5 and widget.clock.config.top_k == 5
    assert "next tick" in widget.message.value
    widget.view.step_button.click()
    assert (widget.clock.history[0].config.temperature == 0.0
            and widget.clock.history[1].config.temperature == 0.5)
    widget.view.top_p.value = 0.0
    assert "top_p must be in (0, 1]" in widget.message.value
    # old setting kept and shown
    assert widget.clock.config.top_p == 1.0 and widget.view.top_p.value == 1.0
    widget.view.step_button.click()
    assert len(widget.clock.history) == 3


def test_seed_applies_at_reset(tiny_lm):
    cw = ClockWidget(tiny_lm, PROMPT, temperature=1.5, seed=0)
    cw.run(6, background=False)
    first = list(cw.clock.generated_ids)
    cw.view.seed.value = 1
    assert "Reset" in cw.message.value
    cw.view.reset_button.click()
    cw.run(6, background=False)
    assert cw.clock.seed == 1
    cw.view.seed.value = 0
    cw.view.reset_button.click()
    cw.run(6, background=False)
    assert cw.clock.generated_ids == first  # same seed, same story


def test_empty_prompt_shows_a_message_and_keeps_the_state(widget):
    widget.view.step_button.click()
    widget.view.prompt_box.value = ""
    widget.view.reset_button.click()
    assert "prompt is empty" in widget.message.value
    assert len(widget.clock.history) == 1 and widget.clock.prompt == PROMPT
    assert_consistent(widget)
    widget.view.prompt_box.value = "Attention looks back"
    widget.view.reset_button.click()
    assert widget.clock.prompt == "Attention looks back" and widget.clock.history == []
    assert_consistent(widget)


def test_run_stops_early_on_pause_from_another_thread(widget, monkeypatch):
    real_tick = widget.clock.tick

    def slow_tick():  # make each tick take a while so the pause lands mid-run
        time.sleep(0.02)
        return real_tick()

    monkeypatch.setattr(widget.clock, "tick", slow_tick)
    widget.view.n_input.value = 40
    widget.view.run_button.click()
    assert (widget.view.step_button.disabled and not widget.view.pause_button.disabled
            and widget.view.scrubber.disabled)
    widget.view.step_button.click()  # a click while running is refused, not queued
    assert "Busy" in widget.message.value

    def press_pause_after_two_ticks():
        while len(widget.clock.history) < 2:
            time.sleep(0.002)
        widget.view.pause_button.click()

    presser = threading.Thread(target=press_pause_after_two_ticks)
    presser.start()
    assert widget.wait(timeout=30)
    presser.join()
    assert 2 <= len(widget.clock.history) < 40
    assert "Paused after" in widget.message.value
    assert (not widget.view.step_button.disabled and widget.view.pause_button.disabled
            and not widget.view.scrubber.disabled)
    assert_consistent(widget)


def test_stop_reason_is_shown_and_further_steps_refused(widget):
    widget.run(200, background=False)  # the tiny models have a 64-token context
    assert widget.clock.done
    reason = widget.clock.stop_reason
    assert f"stopped: {reason}" in status(widget) and reason in widget.message.value
    n = len(widget.clock.history)
    widget.view.step_button.click()
    assert "has stopped" in widget.message.value and len(widget.clock.history) == n
    widget.view.rewind_button.click()
    assert not widget.clock.done
    assert_consistent(widget)


def test_controls_have_stable_css_classes(widget):
    expected = {
        "step_button": "llmclock-step", "run_button": "llmclock-run",
        "pause_button": "llmclock-pause", "rewind_button": "llmclock-rewind",
        "reset_button": "llmclock-reset", "force_button": "llmclock-force",
        "scrubber": "llmclock-scrubber", "status": "llmclock-status", "text": "llmclock-text",
    }
    for attribute, css in expected.items():
        assert css in getattr(widget.view, attribute)._dom_classes, attribute
    assert widget.view.step_button.description == "Step" and widget.ui._repr_mimebundle_()


def test_the_widget_forwards_nothing_its_parts_are_named(widget):
    """No hidden forwarding: the lines a lesson reads are properties of ClockWidget, every
    control lives on widget.view (ClockView), and an unknown name is an AttributeError."""
    assert widget.status is widget.view.status and widget.message is widget.view.message
    assert "__getattr__" not in vars(type(widget))
    with pytest.raises(AttributeError):
        widget.step_button  # noqa: B018 (a control of the view, not of the widget)


def test_presenter_button_is_the_one_switch(tiny_lm):
    """The Presenter button flips helpers.plots.set_presenter_mode: this widget redraws in
    projector sizes (every chart text 14 px or more), and a widget made afterwards starts so."""
    def chart_sizes(cw):
        svg = cw.view.distribution.value + cw.view.attention.value
        return sorted({int(px) for px in re.findall(r'font-size="(\d+)"', svg)})

    normal = ClockWidget(tiny_lm, PROMPT)
    normal.step()
    small = chart_sizes(normal)
    try:
        normal.view.presenter_button.value = True
        assert presenter_mode() and "llmclock-presenter" in normal.ui._dom_classes
        assert min(chart_sizes(normal)) >= 14 and max(chart_sizes(normal)) > max(small)
        assert "tick 0" in status(normal)  # the same tick, redrawn
        later = ClockWidget(tiny_lm, PROMPT)
        assert later.view.presenter_button.value and "llmclock-presenter" in later.ui._dom_classes
        normal.view.presenter_button.value = False
        assert not presenter_mode() and chart_sizes(normal) == small
        assert "llmclock-presenter" not in normal.ui._dom_classes
    finally:
        set_presenter_mode(False)
    with pytest.raises(TypeError, match="set_presenter_mode"):
        ClockWidget(tiny_lm, PROMPT, presenter=True)


def test_default_attention_view_reads_content_and_can_hide_the_sink(tiny_lm):
    cw = ClockWidget(tiny_lm, PROMPT)
    assert (cw.view.layer.value, cw.view.head.value) == content_head(tiny_lm)
    cw.step()
    record = cw.clock.history[0]
    assert attention_bars(cw)[0] == pytest.approx(
        float(record.attention[cw.view.layer.value, cw.view.head.value, 0]), abs=1e-3)
    cw.view.hide_first.value = True
    assert ('data-pos="0"' not in cw.view.attention.value
            and "first token hidden" in cw.view.attention.value)
    assert "attention sink" in cw.message.value  # the sink explained in one line
    assert len(attention_bars(cw)) == record.context_len - 1


def test_step_after_scrubbing_back_says_where_it_went_on(widget):
    for _ in range(3):
        widget.step()
    widget.view.scrubber.value = 0
    widget.step()
    assert (widget.shown == 3
            and "newest tick (2), not tick 0: Rewind 2 ticks" in widget.message.value)


def test_forced_token_stays_marked_in_the_text(widget):
    widget.step()
    other = widget.clock.history[0].top_raw[1].token_id
    widget.force(other)
    widget.step()
    assert widget.view.text.value.count("llmclock-forced-token") == 1


def test_bad_constructor_arguments_name_the_fix(tiny_lm):
    with pytest.raises(ValueError, match="top_p must be in"):
        ClockWidget(tiny_lm, PROMPT, top_p=0.0)
    with pytest.raises(TypeError, match="sampling settings are"):
        ClockWidget(tiny_lm, PROMPT, temprature=0.5)


@pytest.mark.slow
def test_embedded_model_says_paris(embedded_lm):
    cw = ClockWidget(embedded_lm, "The capital of France is", temperature=0.0)
    cw.view.step_button.click()
    assert "chose '·Paris'" in status(cw)
    first = re.search(r'class="llmclock-row-label[^"]*"[^>]*>([^<]*)<',
                      cw.view.distribution.value).group(0)
    assert "·Paris" in first and "llmclock-chosen" in first  # most likely, and marked chosen
    cw.run(3, background=False)
    assert_consistent(cw)


def test_end_of_text_after_a_step_is_reported(widget):
    widget.view.step_button.click()
    widget.clock.force(widget.lm.tokenizer.eos_token_id)  # make the next tick end the text
    widget.view.step_button.click()
    assert widget.clock.stop_reason == "end of text"
    assert ("stopped: end of text" in status(widget)
            and "has stopped (end of text)" in widget.message.value)
    assert not widget.run()  # Run N refuses too, with the same message
    assert "has stopped" in widget.message.value and len(widget.clock.history) == 2
    widget.view.rewind_button.click()
    widget.view.step_button.click()
    assert not widget.clock.done and widget.message.value == ""
    assert_consistent(widget)


@pytest.mark.slow
def test_embedded_chat_prompt_keeps_the_typed_prompt_in_the_box(embedded_lm):
    cw = ClockWidget(embedded_lm, "What is the capital of France?", chat=True, temperature=0.0)
    assert cw.view.prompt_box.value == "What is the capital of France?"
    # the panel shows what the model reads: the chat template
    assert "im_start" in cw.view.text.value
    cw.step()
    # Reset re-wraps the typed prompt, it does not wrap the wrapped text
    cw.view.reset_button.click()
    assert cw.clock.prompt_text.count("<|im_start|>user") == 1 and cw.clock.history == []


def test_a_setting_changed_while_the_run_thread_moves_the_scrubber_is_not_lost(widget):
    with widget._quietly("scrubber"):  # what the run thread does while it draws a tick
        widget.view.temperature.value = 0.9
    assert widget.clock.config.temperature == 0.9


# ---------------------------------------------------------------- issue 10, 12 and 15 items


def test_sliders_show_values_outside_their_usual_range(tiny_lm):
    cw = ClockWidget(tiny_lm, PROMPT, temperature=3.0, repetition_penalty=2.5)
    assert cw.view.temperature.value == 3.0 and cw.view.temperature.max >= 3.0
    assert cw.view.repetition_penalty.value == 2.5
    cw.view.top_p.value = 0.9  # moving another slider must not rewrite the others
    assert cw.clock.config.temperature == 3.0 and cw.clock.config.repetition_penalty == 2.5
    with pytest.raises(ValueError, match="temperature=500.0 is outside"):
        ClockWidget(tiny_lm, PROMPT, temperature=500.0)
    cw.close()


@pytest.mark.parametrize("bad", [-5, 10**30, 2**64, "not one token at all"])
def test_force_with_a_bad_token_says_why(widget, bad):
    widget.view.step_button.click()
    before = list(widget.clock.generated_ids)
    assert not widget.force(bad)
    assert widget.last_error and ("out of range" in widget.message.value
                                  or "not one" in widget.message.value)
    assert widget.clock.generated_ids == before
    assert_consistent(widget)


def test_candidate_list_holds_the_chosen_token_even_outside_the_top_ten(widget):
    widget.view.step_button.click()
    record = widget.clock.history[0]
    outsider = next(i for i in range(widget.lm.vocab_size)
                    if i not in {c.token_id for c in (*record.top_raw, *record.top_filtered)})
    assert widget.force(outsider)
    assert widget.view.force_choice.value == outsider
    assert "FORCED" in status(widget)


def test_rewound_message_goes_away_when_scrubbing(widget):
    widget.run(4, background=False)
    widget.view.rewind_button.click()
    assert "Rewound 1 tick" in widget.message.value
    widget.view.scrubber.value = 0
    assert widget.message.value == ""
    assert_consistent(widget, shown=0)


def test_surprisal_and_stop_reason_in_the_status(widget):
    widget.view.step_button.click()
    record = widget.clock.history[0]
    assert f"surprisal {record.surprisal_bits:.2f} bits" in status(widget)
    widget.clock.force(widget.lm.tokenizer.eos_token_id)
    widget.view.step_button.click()
    assert "stopped: end of text" in status(widget)


def test_chat_toggle_applies_at_reset(chat_lm):
    cw = ClockWidget(chat_lm, PROMPT, temperature=0.0)
    cw.view.chat.value = True
    assert "next Reset" in cw.message.value and not cw.clock.chat
    cw.view.reset_button.click()
    assert cw.clock.chat and cw.clock.prompt == PROMPT
    cw.close()


def test_settings_fold_away_and_panels_sit_side_by_side(widget):
    from ipywidgets import Accordion

    assert (isinstance(widget.view.settings, Accordion)
            and widget.view.settings.selected_index is None)
    panels = next(c for c in widget.ui.children if "llmclock-panels" in c._dom_classes)
    figures = [box.children[0] for box in panels.children]
    assert figures == [widget.view.distribution, widget.view.attention]
    width = sum(int(chart.layout.width.removesuffix("px")) for chart in figures)
    assert width <= 1080  # fits 1280 px


def test_every_tick_runs_on_the_tick_worker(widget, monkeypatch):
    from helpers.threads import tick_worker

    threads = []
    real_tick = widget.clock.tick

    def spy():
        threads.append(threading.current_thread())
        return real_tick()

    monkeypatch.setattr(widget.clock, "tick", spy)
    widget.step()
    widget.run(2, background=False)
    widget.run(2)
    assert widget.wait(30)
    assert threads and all(t is tick_worker().thread for t in threads), threads


@pytest.mark.slow
def test_exit_during_a_run_exits_cleanly(embedded_lm, tmp_path):
    """Issue 15.5: leaving Python while a widget runs must not abort ("terminate called without
    an active exception", exit 134). It needs a real forward pass in C++ when Python exits: the
    embedded model (a tiny model's ticks are over in microseconds). Without the atexit hook in
    helpers/threads.py this aborted 1 of 1 times here."""
    import subprocess
    import sys
    from pathlib import Path

    script = tmp_path / "exit_mid_run.py"
    script.write_text(
        "import sys, time\n"
        f"sys.path.insert(0, {str(Path(__file__).resolve().parents[1])!r})\n"
        "from helpers import load_model\n"
        "from helpers.widgets import ClockWidget\n"
        "cw = ClockWidget(load_model(), 'The clock ticks', temperature=1.0)\n"
        "cw.clock.end_ids = frozenset()\n"
        "cw.run(50)\n"
        "while len(cw.clock.history) < 3:\n"
        "    time.sleep(0.01)\n"
        "print('exiting at tick', len(cw.clock.history), flush=True)\n"
        "sys.exit(0)\n")
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "exiting at tick" in done.stdout and "terminate called" not in done.stderr
