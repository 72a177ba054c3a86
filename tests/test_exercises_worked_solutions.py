"""The worked solutions that need nothing from their notebook (pure functions of their arguments)
pass their checks here, in the fast tier; every worked solution also runs in its notebook (see
tests/browser/test_notebooks_run_clean.py), in place of the exercise's answer."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.exercises import ch01, ch03, ch06, ch08, ch09, ch10, ch11

CONTEXT_FREE = {   # (module, solution name): the check, given what the solution defined
    (ch01, "n_bytes"): lambda ns: ch01.check_n_bytes(ns["n_bytes"]),
    (ch01, "my_merge"): lambda ns: ch01.check_my_merge(ns["my_merge"]),
    (ch03, "kv_head"): lambda ns: ch03.check_kv_head(ns["kv_head"]),
    (ch06, "tokens_per_second"): lambda ns: ch06.check_tokens_per_second(
        ns["tokens_per_second"], ch06.made_up_history()),
    (ch06, "most_uncertain"): lambda ns: ch06.check_most_uncertain(
        ns["most_uncertain"], ch06.made_up_history()),
    (ch08, "cut_at_stop"): lambda ns: ch08.check_cut_at_stop(ns["cut_at_stop"]),
    (ch08, "decision"): lambda ns: ch08.check_decision(ns["decision"]),
    (ch09, "to_bits"): lambda ns: ch09.check_to_bits(ns["to_bits"]),
    (ch09, "perplexity"): lambda ns: ch09.check_perplexity(ns["my_perplexity"]),
    (ch10, "beam_score"): lambda ns: ch10.check_beam_score(ns["beam_score"]),
    (ch10, "penalties"): lambda ns: ch10.check_penalties(ns["penalise"]),
    (ch11, "accepted_tokens"): lambda ns: ch11.check_accepted_tokens(ns["accepted_tokens"]),
    (ch11, "passes_if_always_right"): lambda ns: ch11.check_passes_if_always_right(
        ns["passes_if_always_right"]),
    (ch11, "block_bytes"): lambda ns: ch11.check_block_bytes(ns["block_bytes"]),
}


@pytest.mark.parametrize("module, name", list(CONTEXT_FREE),
                         ids=[f"{m.__name__.rsplit('.', 1)[1]}.{n}" for m, n in CONTEXT_FREE])
def test_worked_solution_passes_its_check(module, name):
    namespace = {"math": math, "torch": torch}   # imported by every notebook's import cell
    exec(module.SOLUTIONS[name], namespace)
    result = CONTEXT_FREE[module, name](namespace)
    assert result, result.message


def test_show_solution_reveals_the_module_source_folded():
    html = ch08.show_solution("cut_at_stop").data
    assert "<details>" in html and "def cut_at_stop(text, stop_strings):" in html
    with pytest.raises(KeyError, match="cut_at_stop"):
        ch08.show_solution("cut_at_the_stop")
