"""helpers.chat: stop strings, the per-tick stopping decision, and equality with generate."""

from __future__ import annotations

import pytest
import torch

from helpers.chat import find_stop_string, run_until_stop, stop_table
from helpers.clock import Clock
from helpers.sampling import SamplingConfig

GREEDY = SamplingConfig(temperature=0)


@pytest.mark.parametrize("text, stops, expected", [
    ("Paris.\nQ: next", ["\n"], (6, "\n")),
    ("a END b\nc", ["\n", "END"], (2, "END")),      # the earliest in the text, not in the list
    ("nothing", ["###"], None),
    ("x##y##", ["##", "y"], (1, "##")),
    ("", ["a"], None),
])
def test_find_stop_string(text, stops, expected):
    assert find_stop_string(text, stops) == expected


@pytest.mark.parametrize("stops, message", [("\n", "list of strings"), ([""], "non-empty"),
                                            ([3], "non-empty")])
def test_bad_stop_strings_name_the_fix(stops, message):
    with pytest.raises((TypeError, ValueError), match=message):
        find_stop_string("text", stops)


def _greedy_generate(lm, ids, n, **kwargs):
    out = lm.model.generate(torch.tensor([ids]),
                            attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                            do_sample=False, max_new_tokens=n,
                            pad_token_id=lm.tokenizer.pad_token_id, **kwargs)
    return out[0, len(ids):].tolist()


def test_budget_ends_the_run_with_one_decision_per_tick(tiny_lm):
    clock = Clock(tiny_lm, "The clock ticks", GREEDY)
    clock.end_ids = frozenset()
    run = run_until_stop(clock, 5)
    assert run.reason == "max tokens" and len(run.records) == 5
    assert run.decisions == ("continue",) * 4 + ("max tokens",)
    assert run.text == clock.generated_text
    assert clock.generated_ids == _greedy_generate(tiny_lm, clock.prompt_ids, 5, eos_token_id=[])
    table = stop_table(run).splitlines()
    assert len(table) == 6 and table[-1].endswith("max tokens")


def test_end_of_text_stops_and_is_left_out_of_the_text(tiny_lm):
    clock = Clock(tiny_lm, "The clock ticks", GREEDY)
    first = clock.tick().token_id
    clock.reset()
    clock.end_ids = frozenset({first})        # the first greedy token ends the text
    run = run_until_stop(clock, 10)
    assert run.reason == "end of text" and run.decisions == ("end of text",) and run.text == ""
    assert run.records[0].stop_reason == "end of text"


def test_a_stop_string_spanning_tokens_cuts_the_text_where_it_starts(tiny_lm):
    # The tiny models repeat the prompt's last token: "The capital of Italy is" -> " is is is ...".
    clock = Clock(tiny_lm, "The capital of Italy is", GREEDY)
    clock.end_ids = frozenset()
    piece = tiny_lm.decode([clock.tick().token_id])
    assert piece == " is"
    clock.reset()
    clock.end_ids = frozenset()
    # "s i" begins inside the first new token and ends inside the second: found after tick 1.
    run = run_until_stop(clock, 20, stop_strings=["###", "s i"])
    assert run.reason == "stop string 's i'" and run.decisions == ("continue", "stop string 's i'")
    assert run.text == " i" and len(clock.generated_ids) == 2


@pytest.mark.slow
def test_stop_string_run_equals_generate_with_stop_strings(embedded_lm):
    lm = embedded_lm
    clock = Clock(lm, "Q: What is the capital of France?\nA:", GREEDY)
    run = run_until_stop(clock, 40, stop_strings=["\n"])
    assert run.reason == "stop string '\\n'" and "Paris" in run.text and "\n" not in run.text
    expected = _greedy_generate(lm, clock.prompt_ids, 40, stop_strings=["\n"],
                                tokenizer=lm.tokenizer)
    assert clock.generated_ids == expected


def test_run_until_stop_bad_budget(tiny_lm):
    with pytest.raises(ValueError, match="max_new_tokens"):
        run_until_stop(Clock(tiny_lm, "The clock", GREEDY), 0)


@pytest.mark.slow
def test_chat_clock_ids_equal_the_template_and_stop_at_end_of_turn(embedded_lm):
    lm = embedded_lm
    question = "What is the capital of France?"
    template = lm.tokenizer.apply_chat_template([{"role": "user", "content": question}],
                                                add_generation_prompt=True)["input_ids"]
    clock = Clock(lm, question, GREEDY, chat=True)
    assert clock.prompt_ids == template
    run = run_until_stop(clock, 40)
    assert run.reason == "end of text" and clock.generated_ids[-1] == 2
    assert "Paris" in run.text and "<|im_end|>" not in run.text
    assert clock.generated_ids == _greedy_generate(lm, template, 40)
