"""Checks for notebook 00 · The clock."""

from __future__ import annotations

import torch

from ..checks import check_equal, check_function, msg, same_token, solution_of
from ..tokens import visible
from ..sampling import entropy_bits

__all__ = ["check_kv_cache_length", "check_entropy", "check_three_ticks", "SOLUTIONS",
           "show_solution"]

SOLUTIONS = {
    "kv_cache_length": '''
def kv_cache_length(n_prompt, t):
    # tick 0 writes the whole prompt; ticks 1..t each write the one token they were fed
    return n_prompt + t
''',
    "entropy": '''
def my_entropy(p):
    return float(-(p * p.log2()).nansum())   # nansum: 0 * log2(0) = nan counts as 0
''',
    "three_ticks": '''
ids = list(zh.prompt_ids)
for _ in range(3):
    with torch.no_grad():
        ids.append(int(lm.model(torch.tensor([ids])).logits[0, -1].argmax()))
my_ids = ids[len(zh.prompt_ids):]
''',
}


def show_solution(name: str):
    """The worked solution of exercise `name` (a key of SOLUTIONS), folded until clicked."""
    return solution_of(SOLUTIONS, name)


def _cache_length(n_prompt: int, t: int) -> int:
    # tick 0 writes the prompt; tick t >= 1 writes the token it was fed (chosen at tick t - 1)
    return n_prompt + t


def check_kv_cache_length(kv_cache_length, clock):
    """Exercise 1: kv_cache_length(n_prompt, t), the KV cache length after tick t.

    Checked against every record of `clock` and on other prompt lengths, so that a number
    typed for this clock (12) or a formula that only fits 5-token prompts does not pass.
    """
    n_prompt = len(clock.prompt_ids)
    for record in clock.history:  # the formula must be what the clock really did
        assert _cache_length(n_prompt, record.index) == record.kv_cache_len
    cases = [(n_prompt, r.index) for r in clock.history] + [(1, 0), (12, 3), (30, 100)]
    mistakes = [
        (lambda n, t: n + t + 1, msg("ch00.kv_cache_length.one_too_many")),
        (lambda n, t: n + t - 1, msg("ch00.kv_cache_length.one_too_few")),
        (lambda n, t: t, msg("ch00.kv_cache_length.no_prompt")),
        (lambda n, t: n, msg("ch00.kv_cache_length.only_prompt")),
        (lambda n, t: t + 5, msg("ch00.kv_cache_length.five_tokens")),
        (lambda n, t: n + 7, msg("ch00.kv_cache_length.tick_7")),
    ]
    return check_function(kv_cache_length, _cache_length, cases,
                          msg("ch00.kv_cache_length.name"),
                          hint=msg("ch00.kv_cache_length.hint"), mistakes=mistakes,
                          describe=lambda c: msg("ch00.kv_cache_length.case", n_prompt=c[0],
                                                 t=c[1]))


def check_entropy(my_entropy, probs: torch.Tensor):
    """Exercise 2: my_entropy(p), the entropy in bits of a distribution p.

    Checked on tick 3's `probs` and on distributions with exact zeros: on tick 3 no
    probability underflows to 0, so only the second case catches a plain .sum().
    """
    with_zeros = torch.tensor([0.5, 0.25, 0.25, 0.0, 0.0])
    cases = [(probs,), (with_zeros,), (torch.full((8,), 1 / 8),), (torch.tensor([1.0, 0.0]),)]

    def plain_sum(p):
        return float(-(p * p.log2()).sum())

    mistakes = [
        (plain_sum, msg("ch00.entropy.plain_sum")),
        (lambda p: float(-(p * p.log()).nansum()), msg("ch00.entropy.nats")),
        (lambda p: float((p * p.log2()).nansum()), msg("ch00.entropy.sign")),
        (lambda p: float(-p.log2().nansum()), msg("ch00.entropy.unweighted")),
        (lambda p: float(-(p * p.log2()).nanmean()), msg("ch00.entropy.mean")),
    ]
    return check_function(my_entropy, lambda p: entropy_bits(p), cases, msg("ch00.entropy.name"),
                          hint=msg("ch00.entropy.hint"), mistakes=mistakes,
                          describe=lambda c: msg("ch00.entropy.case_with_zeros"
                                                 if (c[0] == 0).any() else "ch00.entropy.case",
                                                 n=c[0].numel()))


def _as_ids(answer, expected: list[int], lm):
    """The answer as ids when it names the right tokens in another form: a tuple or tensor of
    ids, each token as its text (' Paris') or visible label ('·Paris'), or the three tokens'
    text in one string. Anything else is returned unchanged, for check_equal to judge."""
    if isinstance(answer, str):
        return expected if answer == lm.decode(expected) else answer
    try:
        items = list(answer.tolist() if hasattr(answer, "tolist") else answer)
    except TypeError:
        return answer
    texts = [lm.decode([i]) for i in expected]
    if len(items) == len(expected) and all(
            same_token(a, i, visible(t)) and ("\ufffd" not in t or not isinstance(a, str))
            for a, i, t in zip(items, expected, texts)):  # a byte fragment only as its id
        return expected
    return answer


def check_three_ticks(my_ids, zh, lm):
    """Exercise 3: the three ids a greedy loop without cache appends to zh's prompt.

    The tokens in any form pass: ids in a list, tuple or tensor, or the tokens as text."""
    expected = list(zh.generated_ids[:3])
    prompt = list(zh.prompt_ids)
    if my_ids is not None and my_ids is not Ellipsis:
        my_ids = _as_ids(my_ids, expected, lm)
    mistakes = [
        (prompt + expected, msg("ch00.three_ticks.with_prompt")),
        (expected[:1] * 3, msg("ch00.three_ticks.same_token")),
    ]
    return check_equal(my_ids, expected, msg("ch00.three_ticks.name", prompt=zh.prompt),
                       decode=lm.decode, mistakes=mistakes, hint=msg("ch00.three_ticks.hint"))
