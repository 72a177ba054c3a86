"""helpers.scoring: one forward pass scores every token; perplexity equals exp of the model's
own loss with labels; every position's score equals the prediction from its prefix alone."""

from __future__ import annotations

import math

import pytest
import torch

from helpers.scoring import perplexity, token_logprobs

TEXT = "The capital of France is Paris. The clock ticks once for every token."


def _model_loss(lm, text):
    ids = torch.tensor([lm.encode_prompt(text)])   # as scoring reads a text (Gemma: <bos>)
    with torch.no_grad():
        return float(lm.model(ids, labels=ids).loss)


def test_perplexity_is_exp_of_the_models_own_loss(tiny_lm):
    expected = math.exp(_model_loss(tiny_lm, TEXT))
    assert perplexity(tiny_lm, TEXT) == pytest.approx(expected, rel=1e-5)
    scores = token_logprobs(tiny_lm, TEXT)
    assert -scores.total_logprob / len(scores.logprobs) == pytest.approx(_model_loss(tiny_lm, TEXT),
                                                                         rel=1e-5)


def test_each_score_equals_the_prediction_from_the_prefix_alone(tiny_lm):
    """Teacher forcing: the causal mask makes position i blind to the tokens after it."""
    scores = token_logprobs(tiny_lm, TEXT)
    ids = scores.ids
    assert len(scores.logprobs) == len(ids) - 1 == len(scores.scored_tokens)
    for i in (0, 3, len(ids) - 2):
        with torch.no_grad():
            last = tiny_lm.model(torch.tensor([ids[: i + 1]])).logits[0, -1]
        expected = torch.log_softmax(last, dim=-1)[ids[i + 1]]
        torch.testing.assert_close(scores.logprobs[i], expected, atol=1e-5, rtol=1e-5)


def test_surprisal_bits_and_temperature(tiny_lm):
    scores = token_logprobs(tiny_lm, TEXT)
    torch.testing.assert_close(scores.surprisal_bits, -scores.logprobs / math.log(2))
    assert torch.all(scores.surprisal_bits >= 0)
    hot = token_logprobs(tiny_lm, TEXT, temperature=2.0)
    ids = torch.tensor([tiny_lm.encode_prompt(TEXT)])
    with torch.no_grad():
        logits = tiny_lm.model(ids).logits[0, :-1] / 2.0
    expected = torch.log_softmax(logits, dim=-1).gather(-1, ids[0, 1:, None])[:, 0]
    torch.testing.assert_close(hot.logprobs, expected)
    assert hot.perplexity != pytest.approx(scores.perplexity)
    assert token_logprobs(tiny_lm, tiny_lm.encode_prompt(TEXT)).logprobs.equal(scores.logprobs)


def test_bad_input_gives_clear_messages(tiny_lm):
    with pytest.raises(ValueError, match="empty"):
        token_logprobs(tiny_lm, "")
    one = tiny_lm.encode("The")[:1]   # ids: a text would get Gemma's <bos> before it
    with pytest.raises(ValueError, match="first token has no prediction"):
        perplexity(tiny_lm, one)
    with pytest.raises(ValueError, match="in pieces"):
        token_logprobs(tiny_lm, "tick " * (tiny_lm.context_length + 5))
    for bad in (0, -1.0, float("inf"), float("nan"), "1"):
        with pytest.raises(ValueError, match="temperature must be"):
            token_logprobs(tiny_lm, TEXT, temperature=bad)


@pytest.mark.slow
def test_scoring_on_the_embedded_model(embedded_lm):
    text = "The capital of France is Paris."
    assert perplexity(embedded_lm, text) == pytest.approx(math.exp(_model_loss(embedded_lm, text)),
                                                          rel=1e-4)
    scores = token_logprobs(embedded_lm, text)
    paris = scores.scored_tokens.index("·Paris")
    assert math.exp(float(scores.logprobs[paris])) == pytest.approx(0.77, abs=0.01)  # as in 00, 04
    assert embedded_lm.tokenizer("Paris")["input_ids"] == embedded_lm.encode("Paris")  # no BOS


def test_surprisal_strip_colours_each_scored_token_and_wraps(tiny_lm):
    from helpers.plots.scoring import surprisal_strip

    scores = token_logprobs(tiny_lm, TEXT)
    T = len(scores.ids)
    fig = surprisal_strip(scores)
    heatmap = fig.data[0]
    assert heatmap.z[0][0] is None   # the first token has no score
    assert heatmap.z[0][1] == pytest.approx(float(scores.surprisal_bits[0]))
    shown = sorted(t for trace in fig.data[1:] for t in trace.text)
    assert len(shown) == T
    wrapped = surprisal_strip([scores, scores], labels=["a", "b"], per_row=5)
    rows = -(-T // 5)
    assert len(wrapped.data[0].z) == 2 * rows and wrapped.layout.yaxis.ticktext[rows] == "b"
    with pytest.raises(ValueError, match="one label per text"):
        surprisal_strip([scores], labels=["a", "b"])
