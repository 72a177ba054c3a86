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
    assert not result and "Expected [1, 2], got [1, 3]" in result.message


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
    assert "reciprocal" in checks.check_close(torch.tensor([0.25]), torch.tensor([4.0]), "ratio").message
    assert "sign is flipped" in checks.check_close(-torch.tensor([1.0, 2.0]), torch.tensor([1.0, 2.0]), "x").message
    assert "8 times" in checks.check_close(torch.tensor([8.0, 16.0]), torch.tensor([1.0, 2.0]), "scores").message
    assert checks.check_close(torch.tensor([1.0, 2.5]), torch.tensor([1.0, 2.0]), "x").message.endswith("(allowed 1e-05).")


def test_check_equal_decodes_token_ids():
    vocab = {1: "Paris", 2: " the"}
    result = checks.check_equal(2, 1, "next token", decode=lambda ids: "".join(vocab[i] for i in ids))
    assert "expected 'Paris', got ' the'" in result.message
