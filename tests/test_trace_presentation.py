"""The recorded clock shows what the clock widget shows by default: temperature 0.7, the
attention head that reads content, the same probability labels as the bars."""

from __future__ import annotations

import json
import re

from helpers.attention import content_head
from helpers.clock import Clock
from helpers.tick_view import percent_label
from helpers.sampling import CLOCK_TEMPERATURE, SamplingConfig
from helpers.trace import trace_data
from helpers.trace_command import parser
from helpers.widgets import ClockWidget


def test_trace_command_defaults_to_the_widgets_temperature(tiny_lm):
    args = parser().parse_args(["--prompt", "x", "--ticks", "2", "--out", "x.html"])
    assert args.temperature == CLOCK_TEMPERATURE == 0.7
    assert ClockWidget(tiny_lm, "The clock").clock.config.temperature == CLOCK_TEMPERATURE


def test_trace_opens_on_the_widgets_attention_view_and_labels_small_p_like_the_bars(tiny_lm):
    clock = Clock(tiny_lm, "The clock ticks", SamplingConfig(temperature=5.0), seed=3)
    clock.run(12)
    data = trace_data(clock)
    assert (data["layer"], data["head"]) == content_head(tiny_lm)
    for record, tick in zip(clock.history, data["ticks"]):
        shown = re.search(r"chose '[^']*' (\S+) \(raw (\S+)\)", tick["status"]).groups()
        for p, label in zip((record.prob, record.raw_prob), shown):
            assert label == percent_label(p)  # the bars' labels: '<0.1%', never '0.0%'
    assert any(0 < r.raw_prob < 0.001 for r in clock.history), "a tiny p was exercised"
    json.dumps(data)  # still plain data
