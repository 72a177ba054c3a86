"""Checks for notebook 06 · Tick by tick.

Exercises 1 and 3 ask for a function of a clock's history: the check runs it on the
notebook's history and on a made-up one where the plausible slips (counting the prefill,
forgetting the sampling time, the lowest-probability tick instead of the most uncertain one)
give different answers, so a slip cannot pass by coincidence.
"""

from __future__ import annotations

from types import SimpleNamespace

from ..checks import check, check_function, msg, solution_of

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
            msg("ch06.tokens_per_second.prefill"),
        ),
        (
            lambda h: 1000 / (sum(r.forward_ms for r in _decode(h)) / len(_decode(h))),
            msg("ch06.tokens_per_second.forward_only"),
        ),
        (
            lambda h: sum(r.forward_ms + r.sampling_ms for r in _decode(h)) / len(_decode(h)),
            msg("ch06.tokens_per_second.ms_per_token"),
        ),
        (
            lambda h: sum(1000 / (r.forward_ms + r.sampling_ms) for r in _decode(h))
            / len(_decode(h)),
            msg("ch06.tokens_per_second.mean_of_rates"),
        ),
        (
            lambda h: 1000 / sum(r.forward_ms + r.sampling_ms for r in _decode(h)),
            msg("ch06.tokens_per_second.total_time"),
        ),
    ]
    return check_function(
        fn,
        _tokens_per_second,
        [(history,), (made_up_history(),)],
        msg("ch06.tokens_per_second.name"),
        mistakes=mistakes,
        describe=lambda c: msg("ch06.history", n=len(c[0])),
        hint=msg("ch06.tokens_per_second.hint"),
    )


def _most_uncertain(history) -> int:
    return max(history, key=lambda r: r.entropy_bits).index


def check_most_uncertain(fn, history):
    """Exercise 3: fn(history) -> index of the tick with the highest entropy."""
    mistakes = [
        (
            lambda h: min(h, key=lambda r: r.prob).index,
            msg("ch06.most_uncertain.least_likely"),
        ),
        (
            lambda h: max(h, key=lambda r: r.surprisal_bits).index,
            msg("ch06.most_uncertain.surprisal"),
        ),
        (
            lambda h: min(h, key=lambda r: r.entropy_bits).index,
            msg("ch06.most_uncertain.lowest"),
        ),
        (
            lambda h: max(r.entropy_bits for r in h),
            msg("ch06.most_uncertain.the_entropy"),
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
            msg("ch06.most_uncertain.name"),
            msg("ch06.most_uncertain.whole_record"),
            msg("ch06.most_uncertain.an_int"),
        )
    return check_function(
        fn,
        _most_uncertain,
        [(history,), (made_up_history(),)],
        msg("ch06.most_uncertain.name"),
        mistakes=mistakes,
        describe=lambda c: msg("ch06.history", n=len(c[0])),
        hint=msg("ch06.most_uncertain.hint"),
    )


def check_rome_clock(rome_clock, lm):
    """Exercise 2: a greedy clock on PROMPT, ' Rome' forced at tick 0, 5 ticks in all, and
    every later tick the greedy choice (compared with a clock built here)."""
    from ..clock import Clock
    from ..sampling import SamplingConfig

    name = "rome_clock"
    if rome_clock is ... or rome_clock is None:
        return check(False, name, msg("check.empty"))
    if not isinstance(rome_clock, Clock):
        return check(
            False,
            name,
            msg("ch06.rome_clock.not_a_clock", kind=type(rome_clock).__name__),
            msg("ch06.rome_clock.make_one"),
        )
    if rome_clock.prompt != PROMPT or rome_clock.chat:
        return check(False, name, msg("ch06.rome_clock.prompt", prompt=repr(PROMPT)))
    if not rome_clock.history:
        return check(False, name, msg("ch06.rome_clock.not_run"))
    if not all(r.config.is_greedy for r in rome_clock.history):
        hot = next(r for r in rome_clock.history if not r.config.is_greedy)
        return check(
            False,
            name,
            msg("ch06.rome_clock.sampled", tick=hot.index, config=hot.config),
            msg("ch06.rome_clock.greedy"),
        )
    rome = lm.encode(" Rome")
    first = rome_clock.history[0]
    if not first.forced:
        forced = [r.index for r in rome_clock.history if r.forced]
        return check(
            False,
            name,
            msg("ch06.rome_clock.forced_later", tick=forced[0]) if forced
            else msg("ch06.rome_clock.not_forced"),
            msg("ch06.rome_clock.force_first"),
        )
    if [first.token_id] != rome:
        text = lm.decode([first.token_id])
        key = "ch06.rome_clock.no_space" if text.strip() == "Rome" else "ch06.rome_clock.other"
        return check(False, name, msg(key, token=repr(text), id=first.token_id))
    if len(rome_clock.history) != 5:
        return check(
            False,
            name,
            msg("ch06.rome_clock.ticks", n=len(rome_clock.history)),
        )
    reference = Clock(lm, PROMPT, SamplingConfig(temperature=0.0))
    reference.force(" Rome")
    reference.run(5)
    if rome_clock.generated_ids != reference.generated_ids:
        return check(
            False,
            name,
            msg("ch06.rome_clock.differ"),
        )
    return check(True, name)
