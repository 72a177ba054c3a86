"""helpers.lens: the logit lens ends exactly at the model's logits; one block by hand equals the
model's block (GPT-2, Llama, Gemma 3); the target trace finds where a token takes the lead."""

from __future__ import annotations

import html

import pytest
import torch

from helpers.anatomy import anatomy
from helpers.embeddings import residual_stream
from helpers.lens import (
    block_by_hand, final_norm, layer_norm, logit_lens, rms_norm, target_by_layer, unembed,
)

TEXT = "The capital of France is"


def _model_logits(lm, text):
    with torch.no_grad():
        return lm.model(torch.tensor([lm.encode_prompt(text)])).logits[0]


def test_lens_at_the_last_layer_is_the_models_own_logits(any_family_lm):
    stream = residual_stream(any_family_lm, TEXT)
    assert torch.equal(unembed(any_family_lm, stream[-1]), _model_logits(any_family_lm, TEXT))
    # without the final norm it would not be: the lens must apply it
    raw = any_family_lm.model.get_output_embeddings()(stream[-1]).detach()
    assert not torch.allclose(raw, _model_logits(any_family_lm, TEXT), atol=1e-3)


def test_logit_lens_shapes_and_top_tokens(any_family_lm):
    lens = logit_lens(any_family_lm, TEXT, k=3)
    T = len(any_family_lm.encode_prompt(TEXT))
    assert lens.top_ids.shape == lens.top_probs.shape == (any_family_lm.n_layers + 1, T, 3)
    assert lens.n_blocks == any_family_lm.n_layers and len(lens.tokens) == T
    probs = torch.softmax(_model_logits(any_family_lm, TEXT), dim=-1)
    top = probs.topk(3, dim=-1)
    assert torch.equal(lens.top_ids[-1], top.indices)
    torch.testing.assert_close(lens.top_probs[-1], top.values)
    assert torch.all(lens.top_probs[..., :-1] >= lens.top_probs[..., 1:])  # sorted
    i = int(top.indices[-1, 0])
    assert lens.top_tokens[-1][-1][0] == any_family_lm.decode([i]).replace(" ", "·")


def test_logit_lens_in_chunks_equals_one_snapshot_at_a_time(any_family_lm, monkeypatch):
    import helpers.lens

    stream = residual_stream(any_family_lm, TEXT)
    by_snapshot = torch.stack([
        torch.softmax(unembed(any_family_lm, s), dim=-1).topk(2, dim=-1).indices for s in stream])
    # one snapshot per chunk, uneven chunks, all at once
    for rows in (1, 2 * stream.shape[1] + 1, 10_000):
        monkeypatch.setattr(helpers.lens, "_LENS_ROWS", rows)
        assert torch.equal(logit_lens(any_family_lm, TEXT, k=2).top_ids, by_snapshot), rows


def test_target_trace_agrees_with_the_lens(any_family_lm):
    lens = logit_lens(any_family_lm, TEXT, k=1)
    target_id = int(lens.top_ids[-1, -1, 0])
    trace = target_by_layer(any_family_lm, TEXT, any_family_lm.decode([target_id]))
    assert trace.target_id == target_id and trace.ranks[-1] == 0
    leads = [n for n in range(any_family_lm.n_layers + 1)
             if int(lens.top_ids[n, -1, 0]) == target_id]
    assert trace.first_top1 == leads[0]
    torch.testing.assert_close(trace.probs[-1], lens.top_probs[-1, -1, 0])


def test_bad_input_gives_clear_messages(any_family_lm):
    with pytest.raises(ValueError, match="empty"):
        logit_lens(any_family_lm, "")
    with pytest.raises(ValueError, match="shorten"):
        logit_lens(any_family_lm, "tick " * (any_family_lm.context_length + 5))
    with pytest.raises(ValueError, match="k must be"):
        logit_lens(any_family_lm, TEXT, k=0)
    with pytest.raises(ValueError, match="not one"):
        target_by_layer(any_family_lm, TEXT, " Paris is lovely")
    with pytest.raises(ValueError, match="layer must be"):
        block_by_hand(any_family_lm, TEXT, any_family_lm.n_layers)


def test_norms_by_hand_equal_torch(any_family_lm):
    a = anatomy(any_family_lm)
    norm = a.final_norm
    assert final_norm(any_family_lm) is norm.module
    x = torch.randn(5, any_family_lm.d_model)
    with torch.no_grad():
        if any_family_lm.family == "gpt2":
            torch.testing.assert_close(layer_norm(x, norm.weight, norm.bias, norm.eps),
                                       norm.module(x))
        else:
            torch.testing.assert_close(rms_norm(x, norm.weight, norm.eps), norm.module(x))
        for block in a.blocks:   # every norm of every block (Gemma 3: four, and q/k norms)
            norms = [block.attention_norm, block.mlp_norm, block.attention_out_norm,
                     block.mlp_out_norm, block.q_norm, block.k_norm]
            for n in [n for n in norms if n is not None]:
                y = torch.randn(3, n.weight.shape[0])
                torch.testing.assert_close(n(y), n.module(y))
    if any_family_lm.family == "gemma3":   # Gemma stores w and scales by 1 + w
        torch.testing.assert_close(norm.weight, norm.module.weight.detach() + 1)
        assert len(norms) == 6 and None not in norms


@pytest.mark.parametrize("layer", [0, 1])
def test_block_by_hand_equals_the_models_block(any_family_lm, layer):
    stream = residual_stream(any_family_lm, TEXT)
    block = block_by_hand(any_family_lm, TEXT, layer)
    torch.testing.assert_close(block.x_in, stream[layer])
    torch.testing.assert_close(block.x_out, stream[layer + 1], atol=1e-5, rtol=0)
    torch.testing.assert_close(block.after_attn + block.mlp_out, block.x_out)
    assert block.weights.shape == (any_family_lm.n_heads, len(block.tokens), len(block.tokens))
    assert torch.all(block.weights.triu(diagonal=1) == 0)
    gemma = any_family_lm.family == "gemma3"
    assert (block.attn_projected is not None) == (block.mlp_result is not None) == gemma


def test_gemma3_block_by_hand_has_four_norms_and_a_sliding_window(tiny_gemma3):
    a = anatomy(tiny_gemma3)
    assert [b.sliding_window for b in a.blocks] == [4, None]
    block = block_by_hand(tiny_gemma3, TEXT, 0)
    T = len(block.tokens)
    assert T > 4   # the text reaches past the window
    i, j = torch.tril_indices(T, T)
    beyond = i - j >= 4
    assert torch.all(block.weights[:, i[beyond], j[beyond]] == 0)   # no attention at all there
    assert torch.all(block.weights[:, i[~beyond], j[~beyond]] > 0)
    # what attention adds is its output projection through post_attention_layernorm
    b = a.blocks[0]
    with torch.no_grad():
        torch.testing.assert_close(block.attn_out,
                                   b.attention_out_norm.module(block.attn_projected))
        torch.testing.assert_close(block.mlp_out, b.mlp_out_norm.module(block.mlp_result))
    assert not torch.allclose(block.attn_out, block.attn_projected, atol=1e-3)
    full = block_by_hand(tiny_gemma3, TEXT, 1)   # the full-attention layer sees every token
    assert torch.all(full.weights[:, i, j] > 0)


@pytest.mark.slow
def test_block_by_hand_and_lens_on_the_embedded_model(embedded_lm):
    stream = residual_stream(embedded_lm, TEXT)
    for layer in (0, 15, 29):
        torch.testing.assert_close(block_by_hand(embedded_lm, TEXT, layer).x_out,
                                   stream[layer + 1], atol=1e-4, rtol=1e-5)
    assert torch.equal(unembed(embedded_lm, stream[-1]), _model_logits(embedded_lm, TEXT))
    trace = target_by_layer(embedded_lm, TEXT, " Paris")
    # measured: readable as top-1 only after the last block, as notebook 04 says
    assert trace.first_top1 == 30 and abs(float(trace.probs[-1]) - 0.77) < 0.01
    assert trace.ranks[0] > 1000  # the embeddings know nothing of the answer


def test_logit_lens_heatmap_shows_top_tokens_and_probabilities(any_family_lm):
    from helpers.plots.lens import logit_lens_heatmap

    lens = logit_lens(any_family_lm, TEXT, k=3)
    fig = logit_lens_heatmap(lens)
    heatmap, *texts = fig.data
    assert heatmap.type == "heatmap" and heatmap.colorscale
    assert (heatmap.zmin, heatmap.zmax) == (0, 1)
    T = len(lens.tokens)
    assert len(heatmap.z) == any_family_lm.n_layers + 1 and len(heatmap.z[0]) == T
    assert heatmap.z[-1][-1] == pytest.approx(float(lens.top_probs[-1, -1, 0]))
    # every cell carries its top-1 token as text, exactly once
    cells = {(x, y): t for trace in texts for x, y, t in zip(trace.x, trace.y, trace.text)}
    assert len(cells) == (any_family_lm.n_layers + 1) * T
    assert cells[(T - 1, any_family_lm.n_layers)] == lens.top_tokens[-1][-1][0][:9]
    ticks = list(fig.layout.xaxis.ticktext)   # escaped for plotly: Gemma's <bos> is &lt;bos&gt;
    assert ticks == [html.escape(t) for t in lens.tokens] and "·" in "".join(ticks)
    assert fig.layout.title.text and fig.layout.xaxis.title.text and fig.layout.yaxis.title.text
    assert len(logit_lens_heatmap(lens, blocks=[0, any_family_lm.n_layers]).data[0].z) == 2
    with pytest.raises(ValueError, match="blocks must be"):
        logit_lens_heatmap(lens, blocks=[99])


def test_target_trace_figure_marks_top1(any_family_lm):
    from helpers.plots.lens import target_trace_figure

    lens = logit_lens(any_family_lm, TEXT, k=1)
    trace = target_by_layer(any_family_lm, TEXT,
                            any_family_lm.decode([int(lens.top_ids[-1, -1, 0])]))
    fig = target_trace_figure(trace)
    assert list(fig.data[0].y) == pytest.approx(trace.probs.tolist())
    assert any_family_lm.n_layers in fig.data[1].x and trace.first_top1 in fig.data[1].x


def test_texts_are_read_as_prompts_with_bos_first(tiny_gemma3):
    """lens, residual stream, attention and scoring read a text as the clock does: Gemma's
    <bos> first (without it Gemma's numbers are those of a text it never sees)."""
    from helpers.attention import as_ids, attention_weights
    from helpers.scoring import token_logprobs

    lm = tiny_gemma3   # its tokenizer puts <bos> first, as the embedded Gemma's does
    ids = lm.encode_prompt(TEXT)
    assert ids[0] == lm.tokenizer.bos_token_id and ids[1:] == lm.encode(TEXT)
    assert as_ids(lm, TEXT) == ids
    stream = residual_stream(lm, TEXT)
    assert stream.shape[1] == len(ids)
    lens = logit_lens(lm, TEXT, k=1)
    assert len(lens.tokens) == len(ids)
    with torch.no_grad():
        logits = lm.model(torch.tensor([ids])).logits[0]
    assert torch.equal(lens.top_ids[-1, :, 0], logits.argmax(-1))
    assert attention_weights(lm, TEXT).shape[-1] == len(ids)
    assert len(token_logprobs(lm, TEXT).logprobs) == len(lm.encode(TEXT))   # every text token
