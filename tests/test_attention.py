"""helpers.attention: the model's weights, one head by hand equal to the model (GPT-2, Llama,
Gemma 3 with its sliding window), head scores, bertviz rendering offline."""

from __future__ import annotations

import json
import re

import pytest
import torch

from helpers.anatomy import anatomy
from helpers.attention import (
    as_ids, attention_input, attention_head_by_hand, attention_weights, first_token_scores,
    induction_scores, kv_head_index, previous_token_scores, repeated_random_tokens,
)
from helpers.bertviz_offline import head_view, model_view, offline_bertviz_html
from helpers.embeddings import apply_rope

TEXT = "The capital of France is Paris. The capital of Italy is"


def _model_head_outputs(lm, text, layer):
    """What the model's heads write, concatenated: the input of the output projection."""
    block = anatomy(lm).blocks[layer].output_projection   # c_proj or o_proj
    assert block is (lm.model.transformer.h[layer].attn.c_proj if lm.family == "gpt2"
                     else lm.model.model.layers[layer].self_attn.o_proj)
    captured = {}

    def keep(module, args) -> None:
        captured["x"] = args[0][0].detach()

    handle = block.register_forward_pre_hook(keep)
    with torch.no_grad():
        lm.model(torch.tensor([lm.encode_prompt(text)]))   # as the helpers read a text
    handle.remove()
    return captured["x"]


def test_attention_weights_shape_rows_and_causality(any_family_lm):
    w = attention_weights(any_family_lm, TEXT)
    T = len(any_family_lm.encode_prompt(TEXT))   # Gemma: <bos> first
    assert w.shape == (any_family_lm.n_layers, any_family_lm.n_heads, T, T)
    torch.testing.assert_close(w.sum(-1), torch.ones(w.shape[:-1]))
    assert torch.all(w.triu(diagonal=1) == 0)


def _assert_every_head_matches(lm, text, atol=1e-5):
    weights = attention_weights(lm, text)
    for layer in range(lm.n_layers):
        model_out = _model_head_outputs(lm, text, layer)
        for head in range(lm.n_heads):
            hc = attention_head_by_hand(lm, text, layer, head)
            torch.testing.assert_close(hc.weights, weights[layer, head], atol=atol, rtol=0)
            torch.testing.assert_close(hc.output,
                                       model_out[:, head * lm.head_dim:(head + 1) * lm.head_dim],
                                       atol=atol, rtol=0)
            assert torch.all(hc.weights.triu(diagonal=1) == 0)
            torch.testing.assert_close(hc.weights.sum(-1), torch.ones(len(hc.tokens)))
            assert torch.isneginf(hc.masked_scores.triu(diagonal=1)[0, 1:]).all()


def test_head_by_hand_equals_the_model(any_family_lm):
    _assert_every_head_matches(any_family_lm, TEXT)


def test_gemma3_sliding_window_hides_the_older_tokens(tiny_gemma3):
    """Layer 0 slides a 4-token window: a query sees itself and the 3 tokens before it, and a
    token further back gets exactly zero attention, in the model as in the by-hand head."""
    lm = tiny_gemma3
    weights = attention_weights(lm, TEXT)
    T = weights.shape[-1]
    assert T > 8
    i, j = torch.tril_indices(T, T)
    beyond = i - j >= 4
    assert torch.all(weights[0][:, i[beyond], j[beyond]] == 0)
    assert torch.all(weights[0][:, i[~beyond], j[~beyond]] > 0)
    assert torch.all(weights[1][:, i, j] > 0)          # layer 1 attends over the whole context
    hc = attention_head_by_hand(lm, TEXT, 0, 1)
    assert hc.window == 4 and attention_head_by_hand(lm, TEXT, 1, 1).window is None
    assert torch.isneginf(hc.masked_scores[i[beyond], j[beyond]]).all()
    assert torch.equal(hc.weights == 0, weights[0, 1] == 0)
    # Gemma scales q·k by 1/sqrt(query_pre_attn_scalar), here 24, not by 1/sqrt(head_dim = 32)
    torch.testing.assert_close(hc.scores, hc.q @ hc.k.T / 24 ** 0.5)
    # its queries and keys are normed per head before RoPE: by hand without q_norm differs
    block = anatomy(lm).blocks[0]
    raw_q = block.q(hc.x).view(T, -1, lm.head_dim)[:, 1]
    assert not torch.allclose(hc.q, apply_rope(raw_q, torch.arange(T), block.rope_theta), atol=1e-3)


def test_grouped_query_mapping(tiny_llama_dir):
    from helpers import load_model

    lm = load_model(str(tiny_llama_dir))
    assert (lm.n_heads, lm.n_kv_heads) == (4, 2)
    assert [attention_head_by_hand(lm, TEXT, 0, h).kv_head for h in range(4)] == [0, 0, 1, 1]
    # heads sharing a kv head read the very same keys and values
    a, b = attention_head_by_hand(lm, TEXT, 1, 0), attention_head_by_hand(lm, TEXT, 1, 1)
    assert torch.equal(a.k, b.k) and torch.equal(a.v, b.v) and not torch.equal(a.q, b.q)


def test_attention_input_is_the_normed_residual(any_family_lm):
    from helpers.embeddings import residual_stream

    stream = residual_stream(any_family_lm, TEXT)
    inner = (any_family_lm.model.transformer if any_family_lm.family == "gpt2"
             else any_family_lm.model.model)
    norm = inner.h[1].ln_1 if any_family_lm.family == "gpt2" else inner.layers[1].input_layernorm
    assert anatomy(any_family_lm).blocks[1].attention_norm.module is norm
    with torch.no_grad():
        torch.testing.assert_close(attention_input(any_family_lm, TEXT, 1), norm(stream[1]))


def test_bad_input_gives_clear_messages(any_family_lm):
    with pytest.raises(ValueError, match="empty"):
        attention_weights(any_family_lm, "")
    with pytest.raises(ValueError, match="shorten"):
        as_ids(any_family_lm, [1] * (any_family_lm.context_length + 1))
    with pytest.raises(ValueError, match="layer must be"):
        attention_head_by_hand(any_family_lm, TEXT, any_family_lm.n_layers, 0)
    with pytest.raises(ValueError, match="head must be"):
        attention_head_by_hand(any_family_lm, TEXT, 0, -1)


def test_pattern_scores_on_handmade_patterns():
    T = 6
    previous = torch.zeros(T, T)
    previous[0, 0] = 1
    previous[torch.arange(1, T), torch.arange(T - 1)] = 1
    sink = torch.zeros(T, T)
    sink[:, 0] = 1
    w = torch.stack([previous, sink])[None]  # [1 layer, 2 heads, T, T]
    torch.testing.assert_close(previous_token_scores(w), torch.tensor([[1.0, 0.2]]))
    torch.testing.assert_close(first_token_scores(w), torch.tensor([[0.2, 1.0]]))
    length = 3
    induction = torch.zeros(2 * length, 2 * length)
    induction[:, 0] = 1
    for i in range(length - 1):
        induction[length + i] = 0
        induction[length + i, i + 1] = 1
    assert induction_scores(induction[None, None], length).item() == 1.0
    assert induction_scores(sink[None, None].expand(1, 1, 6, 6), 3).item() == 0.0


def test_repeated_random_tokens(any_family_lm):
    seq = repeated_random_tokens(any_family_lm, 10, seed=1)
    assert seq[:10] == seq[10:] and len(set(seq[:10])) == 10
    assert (seq == repeated_random_tokens(any_family_lm, 10, seed=1)
            != repeated_random_tokens(any_family_lm, 10, seed=2))
    assert not set(seq) & set(any_family_lm.tokenizer.all_special_ids)
    with pytest.raises(ValueError, match="length must be"):
        repeated_random_tokens(any_family_lm, 1)


def _assert_offline(html: str):
    assert not re.search(r"<script[^>]*\bsrc\s*=", html, re.I), "a script loaded from a URL"
    assert not re.search(r"""\b(src|href)\s*=\s*["']?https?:""", html, re.I)
    assert "require.config" not in html and "cdnjs" not in html
    assert "jQuery v2.2.4" in html and "d3js.org v5.7.0" in html
    # one inline script only, never closed early by a '</script' inside the libraries; no '<!--'
    # that would switch the HTML parser into its escaped script state
    assert (html.count('<script type="text/javascript">') == 1
            and html.lower().count("</script") == 1)
    assert "<!--" not in html


def test_head_view_is_offline_and_labelled(any_family_lm):
    view = head_view(any_family_lm, "The clock ticks once")
    _assert_offline(view.data)
    for label in ("·clock", "·ticks"):  # tokens travel as JSON, so '·' arrives as \u00b7
        assert json.dumps(label) in view.data
    assert "PYTHON_PARAMS" not in view.data


def test_model_view_is_offline_and_labelled(any_family_lm):
    view = model_view(any_family_lm, "The clock ticks once", include_layers=[1])
    _assert_offline(view.data)
    assert json.dumps("·ticks") in view.data and '"include_layers": [1]' in view.data
    with pytest.raises(ValueError, match="layer must be"):
        model_view(any_family_lm, "The clock", include_layers=[99])
    with pytest.raises(ValueError, match="head must be"):
        head_view(any_family_lm, "The clock", heads=[any_family_lm.n_heads])


def test_model_view_fits_the_column():
    page = offline_bertviz_html(
        '<div id="bertviz-0a1b"><div id="vis"></div></div>'
        '<script type="text/javascript">requirejs(["jquery", "d3"], function ($, d3) {});</script>')
    assert page.startswith('<div style="max-width:100%;overflow:auto">')
    assert 'setAttribute("viewBox"' in page and '"bertviz-0a1b"' in page


def test_kv_head_index_groups_consecutive_heads():
    assert [kv_head_index(h, 9, 3) for h in range(9)] == [0, 0, 0, 1, 1, 1, 2, 2, 2]
    assert [kv_head_index(h, 32, 8) for h in (3, 4, 31)] == [0, 1, 7]


def test_token_text_cannot_end_bertviz_script_early(tiny_lm):
    """Issue 24 item 7: '<!--<script>' in a token label inside the inline script."""
    page = head_view(tiny_lm, "<!--<script></script>").data
    start = page.index('<script type="text/javascript">') + len('<script type="text/javascript">')
    body = page[start:page.rindex("</script>")]
    assert not re.search(r"<(!--|/?script)", body, re.I)
    assert page.count("</script>") == 1


def test_offline_rewrite_rejects_foreign_html():
    with pytest.raises(RuntimeError, match="bertviz"):
        offline_bertviz_html("<div>nothing</div>")


@pytest.mark.slow
def test_head_by_hand_equals_the_embedded_model(embedded_lm):
    assert (embedded_lm.n_heads, embedded_lm.n_kv_heads) == (9, 3)
    text = "The capital of France is"
    for layer in (0, 14, 29):
        model_out = _model_head_outputs(embedded_lm, text, layer)
        weights = attention_weights(embedded_lm, text)
        for head in (0, 4, 8):
            hc = attention_head_by_hand(embedded_lm, text, layer, head)
            assert hc.kv_head == head // 3
            torch.testing.assert_close(hc.weights, weights[layer, head], atol=1e-5, rtol=0)
            torch.testing.assert_close(hc.output, model_out[:, head * 64:(head + 1) * 64],
                                       atol=1e-5, rtol=0)


@pytest.mark.slow
def test_embedded_model_has_induction_heads(embedded_lm):
    seq = repeated_random_tokens(embedded_lm, 20, seed=0)
    scores = induction_scores(attention_weights(embedded_lm, seq), 20)
    assert scores.max() > 0.6  # measured 0.86 at layer 18, head 6
    assert scores[:3].max() < 0.2  # the first layers have none


def test_attention_heatmap_masks_the_future_and_labels_tokens(any_family_lm):
    from helpers.attention import token_labels
    from helpers.plots.attention import attention_heatmap, update_attention_heatmap
    from helpers.plots.style import font_size

    w = attention_weights(any_family_lm, TEXT)
    tokens = token_labels(any_family_lm, any_family_lm.encode_prompt(TEXT))
    fig = attention_heatmap(w[1, 0], tokens, title="layer 1, head 0")
    z = fig.data[0].z
    T = len(tokens)
    assert all(z[i][j] is None for i in range(T) for j in range(i + 1, T))  # blank, not 0
    assert z[3][1] == pytest.approx(float(w[1, 0, 3, 1]))
    first = len(any_family_lm.prompt_prefix)   # Gemma's <bos> comes before the text
    assert list(fig.layout.xaxis.ticktext)[first:first + 2] == ["The", "·capital"]
    assert fig.data[0].colorscale[0][1] != fig.data[0].colorscale[-1][1] and fig.data[0].zmax == 1
    update_attention_heatmap(fig, w[0, 1], tokens, title="layer 0, head 1")
    assert (fig.data[0].z[3][1] == pytest.approx(float(w[0, 1, 3, 1]))
            and fig.layout.title.text == "layer 0, head 1")
    # Short texts get body-size token labels; a long text shrinks them, also when updated in place.
    assert fig.layout.xaxis.tickfont.size == fig.layout.yaxis.tickfont.size == font_size("body")
    long_weights, long_tokens = torch.full((30, 30), 1 / 30).tril(), [f"t{i}" for i in range(30)]
    update_attention_heatmap(fig, long_weights, long_tokens)
    assert fig.layout.xaxis.tickfont.size == font_size("small") and len(fig.data[0].z) == 30
    assert fig.layout.height == attention_heatmap(long_weights, long_tokens).layout.height, (
        "same size either way")
    with pytest.raises(ValueError, match="T, T"):
        attention_heatmap(w[0], tokens)


def test_query_bars_and_head_scores_figures(tiny_lm):
    from helpers.attention import token_labels
    from helpers.plots.attention import (head_scores_figure, query_attention_figure,
                                         update_query_attention_figure)

    w = attention_weights(tiny_lm, TEXT)
    tokens = token_labels(tiny_lm, tiny_lm.encode_prompt(TEXT))
    fig = query_attention_figure(w, tokens, query=4, layer=1, head=2)
    assert list(fig.data[0].y) == pytest.approx(w[1, 2, 4, :5].tolist())
    assert "token 4" in fig.layout.title.text
    update_query_attention_figure(fig, w, tokens, query=6, layer=0, head=None)
    assert list(fig.data[0].y) == pytest.approx(w[0, :, 6, :7].mean(0).tolist())
    assert "token 6" in fig.layout.title.text and "mean over heads" in fig.layout.title.text
    with pytest.raises(ValueError, match="query must be"):
        query_attention_figure(w, tokens, query=len(tokens), layer=0)
    scores = previous_token_scores(w)
    grid = head_scores_figure(scores, "previous-token score", top=2)
    # rows are heads, columns layers
    assert grid.data[0].z[2][1] == pytest.approx(float(scores[1, 2]))
    assert grid.layout.xaxis.title.text == "layer" and grid.layout.yaxis.title.text == "head"
    best_layer, best_head = divmod(int(scores.flatten().argmax()), tiny_lm.n_heads)
    assert any(s.x0 == best_layer - 0.5 and s.y0 == best_head - 0.5 for s in grid.layout.shapes)
