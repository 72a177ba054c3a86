"""Notebook 06's exercise checks: worked solutions pass, real slips fail with their message."""

from __future__ import annotations

import pytest

from helpers.clock import Clock
from helpers.exercises import ch06
from helpers.sampling import SamplingConfig
from exercise_language import assert_answers_speak, assert_every_mistake_speaks


@pytest.fixture(scope="module")
def history(tiny_llama_dir):
    from helpers import load_model

    story = Clock(
        load_model(str(tiny_llama_dir)), "Once upon a time", SamplingConfig(temperature=0.8)
    )
    story.run(8)
    return story.history


def right_rate(h):
    decode = [r for r in h if r.phase == "decode"]
    return 1000 / (sum(r.forward_ms + r.sampling_ms for r in decode) / len(decode))


def test_tokens_per_second_solution_passes(history):
    assert ch06.check_tokens_per_second(right_rate, history)


@pytest.mark.parametrize(
    "wrong, slip",
    [
        (lambda h: 1000 / (sum(r.forward_ms + r.sampling_ms for r in h) / len(h)), "prefill is in"),
        (
            lambda h: 1000
            / (
                sum(r.forward_ms for r in h if r.phase == "decode")
                / sum(r.phase == "decode" for r in h)
            ),
            "Only the forward pass",
        ),
        (lambda h: 1000 / right_rate(h), "milliseconds per token"),
        (
            lambda h: sum(1000 / (r.forward_ms + r.sampling_ms) for r in h if r.phase == "decode")
            / sum(r.phase == "decode" for r in h),
            "mean of each tick's rate",
        ),
        (lambda h: right_rate(h) / sum(r.phase == "decode" for r in h), "total time"),
        (lambda h: None, "returned None"),
        (..., "still empty"),
        (42.0, "should be a function"),
    ],
)
def test_tokens_per_second_slips(history, wrong, slip):
    result = ch06.check_tokens_per_second(wrong, history)
    assert not result and slip in result.message, result.message


def test_most_uncertain_solution_passes(history):
    assert ch06.check_most_uncertain(lambda h: max(h, key=lambda r: r.entropy_bits).index, history)


@pytest.mark.parametrize(
    "wrong, slip",
    [
        (lambda h: min(h, key=lambda r: r.prob).index, "least likely"),
        (lambda h: max(h, key=lambda r: r.surprisal_bits).index, "surprisal"),
        (lambda h: min(h, key=lambda r: r.entropy_bits).index, "lowest entropy"),
        (lambda h: max(r.entropy_bits for r in h), "highest entropy itself"),
        (lambda h: max(h, key=lambda r: r.entropy_bits), "whole record"),
        (lambda h: 0, "Wrong for"),
        (..., "still empty"),
    ],
)
def test_most_uncertain_slips(history, wrong, slip):
    result = ch06.check_most_uncertain(wrong, history)
    assert not result and slip in result.message, result.message


def test_hints_and_messages_never_print_the_answer(history):
    answer = str(max(history, key=lambda r: r.entropy_bits).index)
    for wrong in (lambda h: -1, lambda h: min(h, key=lambda r: r.prob).index):
        result = ch06.check_most_uncertain(wrong, history)
        assert "max(" not in result.message and f"expected {answer}" not in result.message


def test_made_up_history_separates_every_slip():
    h = ch06.made_up_history()
    picks = {
        max(h, key=lambda r: r.entropy_bits).index,
        min(h, key=lambda r: r.prob).index,
        max(h, key=lambda r: r.surprisal_bits).index,
        min(h, key=lambda r: r.entropy_bits).index,
    }
    assert len(picks) == 4


@pytest.mark.slow
def test_rome_clock(embedded_lm):
    lm = embedded_lm
    right = Clock(lm, ch06.PROMPT, SamplingConfig(temperature=0.0))
    right.force(" Rome")
    right.run(5)
    assert ch06.check_rome_clock(right, lm)

    def clock(
        config=SamplingConfig(temperature=0.0), force=" Rome", at=0, ticks=5, prompt=ch06.PROMPT
    ):
        c = Clock(lm, prompt, config)
        c.run(at)
        c.force(force)
        c.run(ticks - at)
        return c

    slips = [
        (clock(SamplingConfig(temperature=0.7)), "greedy"),  # sampled: the exercise asks greedy
        (clock(SamplingConfig()), "greedy"),  # default settings sample too
        (clock(force="Rome"), "space belongs"),
        (clock(at=1), "Tick 0 was not forced"),
        (clock(ticks=6), "6 ticks ran"),
        (clock(ticks=1), "1 ticks ran"),
        (clock(prompt="The capital of Italy is"), "The prompt should be"),
        (..., "still empty"),
        ("Rome", "Expected a Clock"),
    ]
    for answer, slip in slips:
        result = ch06.check_rome_clock(answer, lm)
        assert not result and slip in result.message, (slip, result.message)


@pytest.mark.parametrize("name", ["tokens_per_second", "most_uncertain"])
def test_every_mistake_in_chinese(name, history):
    check = getattr(ch06, f"check_{name}")
    assert assert_every_mistake_speaks("zh", check, lambda check, answer: check(answer, history))
    record = lambda h: max(h, key=lambda r: r.entropy_bits)  # noqa: E731
    assert_answers_speak("zh", check, lambda check, answer: check(answer, history),
                         [lambda h: None, record, 3, lambda h: 1 / 0])


def test_rome_clock_in_chinese(tiny_llama):
    def clock(config=SamplingConfig(temperature=0.0), force=None, ticks=5, prompt=ch06.PROMPT):
        c = Clock(tiny_llama, prompt, config)
        if force is not None:
            c.run(1)
            c.force(force)
        c.run(ticks)
        return c

    token = tiny_llama.decode(tiny_llama.encode(" Rome")[:1])
    answers = [..., "Rome", clock(prompt="The capital of Italy is"), clock(ticks=0),
               clock(SamplingConfig(temperature=0.7)), clock(), clock(force=token)]
    assert_answers_speak("zh", ch06.check_rome_clock,
                         lambda check, answer: check(answer, tiny_llama), answers)
