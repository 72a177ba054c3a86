import torch

from helpers import checks


def test_check_close_explains_shape_nan_and_difference(capsys):
    assert checks.check_close(torch.ones(3), torch.ones(3), "softmax")
    wrong_shape = checks.check_close(torch.ones(2), torch.ones(3), "softmax")
    assert not wrong_shape and "Shape (2,) but expected (3,)" in wrong_shape.message
    nan = checks.check_close(torch.tensor([float("nan")]), torch.ones(1), "softmax")
    assert not nan and "NaN" in nan.message
    off = checks.check_close(torch.tensor([1.5]), torch.ones(1), "softmax", hint="subtract the max")
    assert not off and "0.5" in off.message and "Hint: subtract the max" in off.message
    empty = checks.check_close(..., torch.ones(1), "softmax")
    assert not empty and "replace the ..." in empty.message
    printed = capsys.readouterr().out
    assert printed.count("✘") == 4 and printed.count("✔") == 1


def test_check_equal_on_ids():
    assert checks.check_equal([1, 2], torch.tensor([1, 2]), "ids")
    result = checks.check_equal([1, 3], [1, 2], "ids")
    assert not result and "[1, 2]" not in result.message, "the answer is never printed"
    assert "Yours is [1, 3]" in result.message and "first differs at position 1" in result.message
    revealed = checks.check_equal([1, 3], [1, 2], "merge of a test case", reveal=True)
    assert "Expected [1, 2], got [1, 3]" in revealed.message
    assert "2 items; the answer has 3" in checks.check_equal([1, 2], [1, 2, 3], "ids").message
    assert "one too many" in checks.check_equal(13, 12, "cache length").message
    assert "It is a str" in checks.check_equal("12", 12, "cache length").message
    assert checks.check_equal(12.0, 12, "a whole number written as a float is still right")
    slip = checks.check_equal(3, 10, "bytes", mistakes=[(3, "That counts characters.")])
    assert slip.message.endswith("That counts characters.")


def test_check_close_with_known_mistakes_and_periods():
    import math

    right = 10 * 100_000 ** (-2 / 64)
    reduced = checks.check_close(right - 2 * math.pi, right, "angle", period=2 * math.pi)
    assert "whole turns" in reduced.message and "times the expected" not in reduced.message
    # a single wrong number always has *some* ratio: only a simple factor is named
    assert "times" not in checks.check_close(0.7, 6.98, "angle").message
    assert "1/2 times" in checks.check_close(1.0, 2.0, "x").message
    assert "ln 2" in checks.check_close(math.log(2) * 3.0, 3.0, "entropy").message
    assert "degrees" in checks.check_close(math.degrees(0.3), 0.3, "angle").message
    named = checks.check_close(5.0, 2.0, "x", mistakes=[(5.0, "That is the dot product.")])
    assert named.message.endswith("That is the dot product.")
    assert "function" in checks.check_close(len, 2.0, "x").message


def test_check_function_tells_coinciding_formulas_apart():
    def reference(head, n_heads, n_kv_heads):
        return head // (n_heads // n_kv_heads)
    cases = [(7, 9, 3), (7, 32, 8), (3, 4, 2)]
    assert checks.check_function(reference, reference, cases, "kv head")
    assert checks.check_function(lambda h, H, K: h * K // H, reference, cases, "kv head")
    def by_kv(head, n_heads, n_kv_heads):
        return head // n_kv_heads
    assert by_kv(7, 9, 3) == reference(7, 9, 3), "the coincidence on SmolLM2"
    result = checks.check_function(by_kv, reference, cases, "kv head",
                                   mistakes=[(by_kv, "You divided by the kv heads.")])
    assert not result and result.message.endswith("You divided by the kv heads.")
    generic = checks.check_function(lambda h, H, K: 2, reference, cases, "kv head")
    assert "Wrong for the arguments (7, 32, 8): yours gives 2" in generic.message
    raised = checks.check_function(lambda h, H, K: h // (K // H), reference, cases, "kv head")
    assert "ZeroDivisionError" in raised.message
    assert "returned None every time" in checks.check_function(lambda h, H, K: None, reference,
                                                               cases, "x").message
    sometimes = checks.check_function(lambda h, H, K: None if h == 3 else 0, reference, cases, "x")
    assert "It returned None" in sometimes.message
    shown = checks.check_function(lambda h, H, K: 5, reference, cases, "x", reveal=True)
    assert "yours gives 5, expected 2" in shown.message
    assert "function" in checks.check_function(2, reference, cases, "kv head").message


def test_a_check_is_displayed_once(capsys):
    result = checks.check(True, "x")
    result._ipython_display_()  # IPython calls this for a cell's last value: nothing new is shown
    assert capsys.readouterr().out.count("✔") == 1
    fresh = checks.CheckResult(False, "y")
    fresh._ipython_display_()  # a result never shown is shown once
    assert capsys.readouterr().out.count("✘") == 1


def test_solution_is_collapsed_html():
    html = checks.solution("x = 1 < 2").data
    assert "<details>" in html and "x = 1 &lt; 2" in html


def test_check_close_names_common_slips():
    probs = torch.tensor([0.5, 0.25, 0.25])
    assert "sum to 2" in checks.check_close(probs * 2, probs, "softmax").message
    assert "reciprocal" in checks.check_close(torch.tensor([0.25]), torch.tensor([4.0]),
                                              "ratio").message
    assert "sign is flipped" in checks.check_close(-torch.tensor([1.0, 2.0]),
                                                   torch.tensor([1.0, 2.0]), "x").message
    assert "8 times" in checks.check_close(torch.tensor([8.0, 16.0]), torch.tensor([1.0, 2.0]),
                                           "scores").message
    assert checks.check_close(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]),
                              "x").message.endswith("(allowed 1e-05).")


def test_check_equal_decodes_token_ids():
    vocab = {1: "Paris", 2: " the"}
    result = checks.check_equal(2, 1, "next token",
                                decode=lambda ids: "".join(vocab[i] for i in ids))
    assert "yours reads ' the'" in result.message and "Paris" not in result.message
    vocab[3] = " Paris"
    space = checks.check_equal(1, 3, "next token",
                               decode=lambda ids: "".join(vocab[i] for i in ids))
    assert ("yours reads 'Paris'" in space.message
            and "right token starts with a space" in space.message)


def test_a_right_answer_in_another_container_passes():
    assert checks.check_equal((5, 6, 9), [5, 6, 9], "ids")
    assert checks.check_equal([[1, 2], (3, 4)], ([1, 2], [3, 4]), "pairs")
    assert checks.check_equal(torch.tensor([5, 6, 9]), (5, 6, 9), "ids")
    cases = [([5, 6], 9), ([1], 2)]
    as_tuple = checks.check_function(lambda ids, x: tuple(ids) + (x,), lambda ids, x: ids + [x],
                                     cases, "append")
    assert as_tuple, as_tuple.message
    wrong = checks.check_function(lambda ids, x: (x,), lambda ids, x: ids + [x], cases, "append",
                                  reveal=True)
    assert "yours gives [9], expected [5, 6, 9]" in wrong.message and "tuple" not in wrong.message
    assert checks.check_close(torch.ones(1, 4), torch.ones(4), "a row for a vector")
    assert checks.check_function(lambda z: z[:, None], lambda z: z, [(torch.ones(3),)], "column")
    assert not checks.check_close(torch.ones(2, 2), torch.ones(4), "not just a singleton")


def test_a_function_still_returning_its_ellipsis_is_still_empty():
    result = checks.check_function(lambda x: ..., lambda x: x, [(1,), (2,)], "f")
    assert not result and "still empty" in result.message and "your code" in result.message


def test_a_named_exception_gets_its_message():
    import re

    def cut(text, stops):
        return re.split("|".join(stops), text)[0]
    result = checks.check_function(cut, lambda t, s: t, [("a?", ["?"])], "cut",
                                   raised=[(re.error, "Escape the regex characters.")])
    assert not result and result.message.split(": not yet. ")[1].startswith("Escape the regex")
    assert "re.error" in result.message or "error:" in result.message
    other = checks.check_function(lambda t, s: 1 / 0, lambda t, s: t, [("a", ["b"])], "cut",
                                  raised=[(re.error, "Escape the regex characters.")])
    assert "ZeroDivisionError" in other.message and "Escape" not in other.message


def test_same_token_takes_every_form_of_a_token():
    assert all(checks.same_token(form, 7042, "·Paris")
               for form in (7042, torch.tensor(7042), " Paris", "·Paris", "Paris"))
    assert not checks.same_token("Paris", 7042, "·Paris", others=["·Paris", "Paris"])
    assert not any(checks.same_token(form, 7042, "·Paris")
                   for form in (7043, " Rome", "", None, True, [7042]))


def test_check_results_carry_their_verdict_for_the_notebook_tests():
    assert 'data-check="pass"' in checks.check(True, "x")._repr_html_()
    assert 'data-check="fail"' in checks.check(False, "x", "no")._repr_html_()


def test_solution_of_reveals_a_module_solution_folded():
    html = checks.solution_of({"f": "def f():\n    return 1 < 2\n"}, "f").data
    assert "<details>" in html and "return 1 &lt; 2" in html
    try:
        checks.solution_of({"f": ""}, "g")
    except KeyError as error:
        assert "'f'" in str(error)
    else:
        raise AssertionError("an unknown solution name must raise")
