"""Checks for notebook 06 · Tick by tick.

Exercises 1 and 3 ask for a function of a clock's history: the check runs it on the
notebook's history and on a made-up one where the plausible slips (counting the prefill,
forgetting the sampling time, the lowest-probability tick instead of the most uncertain one)
give different answers, so a slip cannot pass by coincidence.
"""

from __future__ import annotations

from types import SimpleNamespace

from ..checks import check, check_function, solution_of

__all__ = ["check_tokens_per_second", "check_rome_clock", "check_most_uncertain", "made_up_history",
           "SOLUTIONS", "show_solution"]

SOLUTIONS = {
    "tokens_per_second": r'''
def tokens_per_second(history):
    decode = [r for r in history if r.phase == "decode"]
    return 1000 / (sum(r.forward_ms + r.sampling_ms for r in decode) / len(decode))
''',
    "rome_clock": r'''
rome_clock = Clock(lm, "The capital of France is", SamplingConfig(temperature=0.0))
rome_clock.force(" Rome")     # the space belongs to the token
rome_clock.run(5)
print(rome_clock.text)
''',
    "most_uncertain": r'''
def most_uncertain(history):
    return max(history, key=lambda r: r.entropy_bits).index
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


PROMPT = "The capital of France is"


def made_up_history() -> list:
    """Five records with the fields the exercises use, chosen so every slip differs."""
    rows = [  # phase, forward_ms, sampling_ms, entropy_bits, prob, surprisal_bits
        ("prefill", 400.0, 3.0, 2.0, 0.10, 5.0),
        ("decode", 50.0, 10.0, 2.5, 0.40, 1.3),
        ("decode", 40.0, 20.0, 4.0, 0.30, 1.7),
        ("decode", 80.0, 1.0, 1.5, 0.05, 4.3),
        ("decode", 60.0, 5.0, 0.5, 0.90, 0.2),
    ]
    return [
        SimpleNamespace(
            index=i, phase=p, forward_ms=f, sampling_ms=s, entropy_bits=e, prob=q, surprisal_bits=b
        )
        for i, (p, f, s, e, q, b) in enumerate(rows)
    ]


def _decode(history):
    return [r for r in history if r.phase == "decode"]


def _tokens_per_second(history) -> float:
    decode = _decode(history)
    return 1000 / (sum(r.forward_ms + r.sampling_ms for r in decode) / len(decode))


def check_tokens_per_second(fn, history):
    """Exercise 1: fn(history) -> decode tokens per second."""
    mistakes = [
        (
            lambda h: 1000 / (sum(r.forward_ms + r.sampling_ms for r in h) / len(h)),
            "The prefill is in: it reads the whole prompt at once, so keep only the decode ticks.",
        ),
        (
            lambda h: 1000 / (sum(r.forward_ms for r in _decode(h)) / len(_decode(h))),
            "Only the forward pass is counted: a tick is forward + sampling.",
        ),
        (
            lambda h: sum(r.forward_ms + r.sampling_ms for r in _decode(h)) / len(_decode(h)),
            "That is milliseconds per token; tokens per second is 1000 divided by it.",
        ),
        (
            lambda h: sum(1000 / (r.forward_ms + r.sampling_ms) for r in _decode(h))
            / len(_decode(h)),
            "That is the mean of each tick's rate; the rate of the mean tick is 1000 / (mean ms).",
        ),
        (
            lambda h: 1000 / sum(r.forward_ms + r.sampling_ms for r in _decode(h)),
            "Divided by the total time: that is runs per second; divide by the mean tick time.",
        ),
    ]
    return check_function(
        fn,
        _tokens_per_second,
        [(history,), (made_up_history(),)],
        "decode tokens per second",
        mistakes=mistakes,
        describe=lambda c: f"a history of {len(c[0])} ticks",
        hint="Keep the records with phase 'decode'; a tick's time is "
        "forward_ms + sampling_ms; a rate is 1000 / milliseconds.",
    )


def _most_uncertain(history) -> int:
    return max(history, key=lambda r: r.entropy_bits).index


def check_most_uncertain(fn, history):
    """Exercise 3: fn(history) -> index of the tick with the highest entropy."""
    mistakes = [
        (
            lambda h: min(h, key=lambda r: r.prob).index,
            "That is the tick whose chosen token was least likely; uncertainty about the next "
            "token "
            "is the entropy of the whole distribution (entropy_bits).",
        ),
        (
            lambda h: max(h, key=lambda r: r.surprisal_bits).index,
            "That is the most surprising chosen token (surprisal); the question is about the whole "
            "distribution: entropy_bits.",
        ),
        (
            lambda h: min(h, key=lambda r: r.entropy_bits).index,
            "That is the lowest entropy: the tick the model was *most* sure about.",
        ),
        (
            lambda h: max(r.entropy_bits for r in h),
            "That is the highest entropy itself; the answer is the tick's index.",
        ),
    ]
    result = None
    try:
        result = fn(history) if callable(fn) else None
    except Exception:
        pass
    if result is not None and not isinstance(result, int) and hasattr(result, "index"):
        return check(
            False,
            "the most uncertain tick",
            "That is the whole record; return its .index.",
            "The answer is a tick number (an int).",
        )
    return check_function(
        fn,
        _most_uncertain,
        [(history,), (made_up_history(),)],
        "the most uncertain tick",
        mistakes=mistakes,
        describe=lambda c: f"a history of {len(c[0])} ticks",
        hint="Each record has .entropy_bits (the uncertainty of that tick's raw "
        "distribution); Python's max takes a key= function.",
    )


def check_rome_clock(rome_clock, lm):
    """Exercise 2: a greedy clock on PROMPT, ' Rome' forced at tick 0, 5 ticks in all, and
    every later tick the greedy choice (compared with a clock built here)."""
    from ..clock import Clock
    from ..sampling import SamplingConfig

    name = "rome_clock"
    if rome_clock is ... or rome_clock is None:
        return check(False, name, "It is still empty: replace the ... with your code.")
    if not isinstance(rome_clock, Clock):
        return check(
            False,
            name,
            f"Expected a Clock, got {type(rome_clock).__name__}.",
            "Clock(lm, prompt, SamplingConfig(...)) makes one.",
        )
    if rome_clock.prompt != PROMPT or rome_clock.chat:
        return check(False, name, f"The prompt should be {PROMPT!r} as plain text (no chat).")
    if not rome_clock.history:
        return check(False, name, "No tick has run yet: run the clock.")
    if not all(r.config.is_greedy for r in rome_clock.history):
        hot = next(r for r in rome_clock.history if not r.config.is_greedy)
        return check(
            False,
            name,
            f"Tick {hot.index} was sampled ({hot.config}); the exercise asks for "
            "a greedy clock, so that every tick after the forced one is the model's top choice.",
            "SamplingConfig(temperature=0.0) is greedy.",
        )
    rome = lm.encode(" Rome")
    first = rome_clock.history[0]
    if not first.forced:
        forced = [r.index for r in rome_clock.history if r.forced]
        where = f"tick {forced[0]} was forced instead" if forced else "no tick was forced"
        return check(
            False,
            name,
            f"Tick 0 was not forced ({where}).",
            "Call .force(...) before the first tick.",
        )
    if [first.token_id] != rome:
        text = lm.decode([first.token_id])
        slip = (
            " The space belongs to the token: ' Rome', not 'Rome'."
            if text.strip() == "Rome"
            else ""
        )
        return check(False, name, f"Tick 0 took {text!r} (id {first.token_id}).{slip}")
    if len(rome_clock.history) != 5:
        return check(
            False,
            name,
            f"{len(rome_clock.history)} ticks ran; the exercise asks for 5 "
            "in all, the forced tick 0 included.",
        )
    reference = Clock(lm, PROMPT, SamplingConfig(temperature=0.0))
    reference.force(" Rome")
    reference.run(5)
    if rome_clock.generated_ids != reference.generated_ids:
        return check(
            False,
            name,
            "The ticks after the forced one differ from a greedy clock's: "
            "was a token forced later, or were the settings changed?",
        )
    return check(True, name)
