"""One presentation of a tick (helpers.tick_view): the clock widget, the recorded clock's data
and the tick table show the same words, units and formats for the same tick, in English and
in Chinese; and the formats and the label-thinning rule themselves."""

from __future__ import annotations

import html
import re

import pytest

from helpers.clock import Clock
from helpers.plots.tick_table import tick_table_html
from helpers.sampling import SamplingConfig
from helpers.tick_view import (
    byte_size, label_room, milliseconds, percent_label, thin_labels, tick_view,
)
from helpers.i18n import messages
from helpers.trace import trace_data
from helpers.widgets import ClockWidget


def _plain(fragment: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", fragment))


def _table_cells(table: str) -> list[list[str]]:
    rows = re.findall(r"<tr>(.*?)</tr>", table, re.S)
    return [[_plain(c) for c in re.findall(r"<t[dh] [^>]*>(.*?)</t[dh]>", row, re.S)]
            for row in rows]


def _thinned(positions: list[int], n: int) -> bool:
    """Labelled as thin_labels does: every k-th position from 0, then the last one."""
    if len(positions) == 1:
        return positions == [n - 1]
    step = positions[1] - positions[0] if len(positions) > 2 else n - 1
    regular = positions[:-1]
    return (regular == list(range(0, regular[-1] + 1, step)) and positions[-1] == n - 1
            and n - 1 - regular[-1] >= step)


@pytest.fixture(scope="module")
def clock(tiny_lm):
    """Six ticks: a prefill, sampled decodes (probabilities under 100%), one forced token,
    and a prompt ending in bytes of an unfinished character (我 = three byte tokens here)."""
    clock = Clock(tiny_lm, "The clock ticks 我", SamplingConfig(temperature=1.5), seed=2)
    clock.run(4)
    clock.force(clock.history[-1].top_raw[-1].token_id)
    clock.run(2)
    assert any(r.forced for r in clock.history) and len(clock.history) == 6
    return clock


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_widget_trace_and_tick_table_show_the_same_tick(tiny_lm, clock, lang):
    t = messages(lang)
    data = trace_data(clock, lang=lang)
    widget = ClockWidget(tiny_lm, clock=clock, lang=lang)
    table = _table_cells(tick_table_html(clock.history, tiny_lm, lang=lang,
                                         context_ids=clock.ids))
    assert table[0] == [t(f"table.{name}") for name in (
        "tick", "phase", "read", "chosen", "p", "raw", "surprisal", "entropy", "runners_up",
        "kv", "ms")]
    n = len(clock.history)
    for index, (record, tick, cells) in enumerate(zip(clock.history, data["ticks"], table[1:])):
        widget.view.scrubber.value = index  # the widget shows tick `index`
        shown = _plain(widget.status.value)
        # The status line: the widget's is the recorded one (older ticks say which they are).
        history = "" if index == n - 1 else t("status.history", i=index + 1, n=n) + " · "
        assert shown == history + tick["status"], (lang, index)
        view = tick_view(record, tiny_lm, lang, context_ids=clock.ids)
        assert tick["status"] == view.status and tick["p"] == view.p
        # The tick table: the same pieces, each one found in the status line too.
        phase, read, chosen, p, raw, surprisal, entropy, runners, kv, ms = cells[1:]
        assert cells[0] == str(record.index)
        assert (phase, p, raw, kv, ms) == (view.phase, view.p, view.raw_p, view.kv, view.ms)
        for piece in (phase, p, raw, surprisal, kv, ms):
            assert piece in tick["status"], (lang, index, piece)
        assert chosen.startswith(view.token) and view.token in tick["status"]
        assert (t("status.forced").strip() in chosen) == record.forced == (
            t("status.forced") in tick["status"])
        assert re.fullmatch(r"\d+(\.\d)? (B|KiB|MiB)", view.kv.split(", ")[-1].split("，")[-1])
        # The candidates: the Force list, the chart's labels and the trace rows agree.
        rows = tick["rows"]
        options = dict((value, label) for label, value in widget.view.force_choice.options)
        assert list(options) == [row[3] for row in rows]
        assert len(rows) == len(view.candidates)
        for (label, _, _, token_id, raw_text, filtered_text, _), row in zip(rows, view.candidates):
            assert options[token_id].startswith(label + "  ") and label == row.label
            # The texts come from the exact p (the file stores p rounded to 4 decimals).
            assert (raw_text, filtered_text) == (percent_label(row.raw),
                                                 percent_label(row.filtered))
        chart = widget.view.distribution.value
        numbers = [_plain(x) for x in re.findall(r'class="llmclock-p-label"[^>]*>(.*?)</text>',
                                                  chart)]
        assert numbers == [row[6] for row in rows][: len(numbers)] and numbers
        if record.forced:
            assert t("text.forced") in rows[tick["chosen_row"]][6]
        # Runners-up in the table: the likeliest other candidates, labelled as in the chart.
        for row in view.runners_up(3):
            assert f"{row.label} {percent_label(row.raw)}" in runners
        # The text panel's hover text carries the chosen token's p as the recorded clock does.
        assert f"p = {tick['p']}" in html.unescape(widget.view.text.value)
        # Attention labels: the widget's are the recorded ones, at the positions the one
        # thinning rule picks for its chart.
        labels = re.findall(r'llmclock-token-label[^"]*" data-pos="(\d+)"[^>]*>(.*?)</text>',
                            widget.view.attention.value)
        assert labels, "the widget's attention chart labels positions"
        for pos, text in labels:
            assert html.unescape(text) == data["axis_labels"][0][int(pos)]
        for positions in ([int(pos) for pos, _ in labels], *tick["labelled"]):
            assert _thinned(positions, record.context_len), positions


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_player_draws_with_the_words_the_data_carries(clock, lang):
    """Every word the recorded clock's player shows is one of the data's labels, and the words
    of the charts, the text's legend and hover texts are the widget's own (the same keys)."""
    from pathlib import Path

    import helpers.trace

    js = (Path(helpers.trace.__file__).parent / "trace_player" / "player.js").read_text()
    used = set(re.findall(r'this\.t\("([\w.]+)"', js))
    labels = trace_data(clock, lang=lang)["labels"]
    assert used and used <= set(labels), used - set(labels)
    t = messages(lang)
    for key in ("chart.distribution", "chart.raw", "chart.sampled", "chart.layer_head",
                "chart.layer_mean", "chart.this_head", "chart.all_heads", "head.all", "head.one",
                "text.prompt", "text.generated", "text.newest", "text.position", "text.positions",
                "text.one_character", "button.presenter"):
        assert key in used and labels[key] == t(key)
    assert "function percent" not in js and "\"%\"" not in js  # no number format of its own


def test_thin_labels_one_rule():
    assert thin_labels(5, 30) == [0, 1, 2, 3, 4]  # everything fits
    assert thin_labels(100, 30) == list(range(0, 93, 4)) + [99]  # every 4th, the last always
    assert thin_labels(10, 4) == [0, 3, 6, 9]
    assert thin_labels(11, 4) == [0, 3, 6, 10]  # 9 would crowd the last: left out
    assert thin_labels(0, 10) == [] and thin_labels(3, 0) == [2]  # no room: the newest alone
    for n in range(1, 200, 7):
        for room in (1, 5, 24, 48):
            shown = thin_labels(n, room)
            assert shown[-1] == n - 1 and len(shown) <= room + 1
            gaps = {b - a for a, b in zip(shown, shown[1:])}
            assert min(gaps, default=1) >= (n + room - 1) // room or len(shown) == 1
    assert label_room(560, 14) == 29 and label_room(5, 14) == 1


def test_one_unit_system_and_formats():
    assert [byte_size(n) for n in (0, 512, 1023, 1024, 3500, 47_104, 3 * 2**20, 300 * 2**20,
                                   2**30)] == [
        "0 B", "512 B", "1023 B", "1.0 KiB", "3.4 KiB", "46.0 KiB", "3.0 MiB", "300 MiB",
        "1.0 GiB"]
    assert [percent_label(p) for p in (None, 0.0, 0.0004, 0.001, 0.7734, 0.9996)] == [
        "", "0%", "<0.1%", "0.1%", "77.3%", "100%"]
    assert (milliseconds(0.43), milliseconds(12.6), milliseconds(9.96)) == ("0.4", "13", "10")
