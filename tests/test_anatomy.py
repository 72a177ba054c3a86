"""helpers.anatomy: the parts it names are the model's own modules in every family, its linear
maps and norms compute what the modules compute, capture reads (and edits) the points it
promises and always removes its hooks, and new_cache keeps every position."""

from __future__ import annotations

import pytest
import torch

from helpers.anatomy import POINTS, anatomy, capture, family_of, new_cache

TEXT = "The capital of France is Paris. The capital"


def _hooks(lm) -> int:
    return sum(len(m._forward_hooks) + len(m._forward_pre_hooks) for m in lm.model.modules())


def test_the_parts_are_the_models_own_modules(any_family_lm):
    lm, a = any_family_lm, anatomy(any_family_lm)
    assert a.family == lm.family and len(a.blocks) == lm.n_layers
    assert a.unembedding is lm.model.lm_head and a.embedding is lm.model.get_input_embeddings()
    if lm.family == "gpt2":
        inner = lm.model.transformer
        assert a.position_table is inner.wpe and a.positions == "learned"
        assert a.blocks[1].attention_norm.module is inner.h[1].ln_1
        assert a.blocks[1].mlp_norm.module is inner.h[1].ln_2
        assert a.blocks[1].output_projection is inner.h[1].attn.c_proj
        assert (a.final_norm.module, a.mlp_kind, a.embedding_scale) == (inner.ln_f, "GELU MLP", 1.0)
    else:
        inner = lm.model.model
        block = inner.layers[1]
        assert a.position_table is None and a.positions == "rope"
        assert a.blocks[1].attention_norm.module is block.input_layernorm
        assert a.blocks[1].output_projection is block.self_attn.o_proj
        assert a.final_norm.module is inner.norm
    if lm.family == "llama":
        assert a.blocks[1].mlp_norm.module is block.post_attention_layernorm
        assert (a.mlp_kind, a.embedding_scale, a.sliding_layers) == ("SwiGLU", 1.0, [])
        assert a.blocks[1].q_norm is None and a.blocks[1].attention_out_norm is None
    if lm.family == "gemma3":   # four norms per block, q/k norms, scaled embeddings, a window
        assert a.blocks[1].attention_out_norm.module is block.post_attention_layernorm
        assert a.blocks[1].mlp_norm.module is block.pre_feedforward_layernorm
        assert a.blocks[1].mlp_out_norm.module is block.post_feedforward_layernorm
        assert a.blocks[1].q_norm.module is block.self_attn.q_norm
        assert (a.mlp_kind, a.embedding_scale) == ("GeGLU", lm.d_model ** 0.5)
        assert a.sliding_layers == [0] and a.blocks[0].sliding_window == 4
        assert a.blocks[0].attention_scale == 24 ** -0.5
    text = str(a)
    assert a.name_of(a.final_norm.module) in text and a.mlp_kind in text
    assert ("sliding window" in text) == (lm.family == "gemma3")


def test_linear_maps_and_norms_compute_what_the_modules_do(any_family_lm):
    lm, block = any_family_lm, anatomy(any_family_lm).blocks[0]
    x = torch.randn(3, lm.d_model)
    with torch.no_grad():
        if lm.family == "gpt2":   # one fused Conv1D for q, k and v
            fused = block.attention.c_attn(x)
            torch.testing.assert_close(torch.cat([block.q(x), block.k(x), block.v(x)], -1), fused)
            torch.testing.assert_close(block.up(x), block.mlp.c_fc(x))
        else:
            torch.testing.assert_close(block.q(x), block.attention.q_proj(x))
            torch.testing.assert_close(block.gate(x), block.mlp.gate_proj(x))
            hidden = block.activation(block.gate(x)) * block.up(x)
            torch.testing.assert_close(block.down(hidden), block.mlp(x))
        heads = torch.randn(3, lm.n_heads * lm.head_dim)
        torch.testing.assert_close(block.o(heads), block.output_projection(heads))
        torch.testing.assert_close(block.attention_norm(x), block.attention_norm.module(x))


def test_capture_reads_every_point_and_they_add_up(any_family_lm):
    lm = any_family_lm
    ids = torch.tensor([lm.encode(TEXT)])
    with torch.no_grad(), capture(lm, POINTS) as seen:
        out = lm.model(ids, output_attentions=True)
    logits = out.logits
    assert set(seen) == {(p, n) for p in POINTS for n in range(lm.n_layers)}
    a = anatomy(lm)
    with torch.no_grad():
        for n, block in enumerate(a.blocks):
            torch.testing.assert_close(seen["resid_pre", n] + seen["attn_out", n],
                                       seen["resid_mid", n])
            torch.testing.assert_close(seen["resid_mid", n] + seen["mlp_out", n],
                                       seen["resid_post", n])
            attn_in = block.attention_norm(seen["resid_pre", n])
            torch.testing.assert_close(seen["attn_in", n], attn_in)
            torch.testing.assert_close(seen["mlp_in", n], block.mlp_norm(seen["resid_mid", n]))
            projected = block.o(seen["heads", n])
            if block.attention_out_norm is not None:   # Gemma 3 norms what attention returns
                projected = block.attention_out_norm(projected)
            torch.testing.assert_close(projected, seen["attn_out", n], atol=1e-5, rtol=1e-5)
            assert torch.equal(seen["pattern", n], out.attentions[n])
        final = a.unembedding(a.final_norm(seen.stack("resid_post")[-1]))
    torch.testing.assert_close(final, logits, atol=1e-4, rtol=1e-4)
    assert seen.stack("resid_post").shape == (lm.n_layers, 1, ids.shape[1], lm.d_model)


def test_capture_removes_its_hooks_also_after_an_error(any_family_lm):
    lm = any_family_lm
    before = _hooks(lm)
    with pytest.raises(RuntimeError, match="boom"):
        with capture(lm, POINTS, edits={("heads", 0): lambda x: x * 0}):
            assert _hooks(lm) > before
            raise RuntimeError("boom")
    assert _hooks(lm) == before


def test_only_the_thread_that_opened_capture_is_read_or_edited(tiny_llama):
    """A clock may tick in a worker thread while a notebook cell captures: neither sees the
    other's values."""
    import threading

    lm = tiny_llama
    ids = torch.tensor([lm.encode(TEXT)])
    with torch.no_grad():
        clean = lm.model(ids).logits
    results = {}

    def elsewhere():
        with torch.no_grad():
            results["logits"] = lm.model(ids[:, :3]).logits

    with torch.no_grad(), capture(lm, ["resid_post"], edits={("mlp_out", 1): torch.zeros_like}) \
            as seen:
        worker = threading.Thread(target=elsewhere)
        worker.start()
        worker.join()
        assert seen == {}   # the other thread's pass was neither recorded...
        ablated = lm.model(ids).logits
    torch.testing.assert_close(results["logits"], clean[:, :3])   # ...nor edited
    assert not torch.allclose(ablated, clean, atol=1e-4)
    assert seen.stack("resid_post").shape[2] == ids.shape[1]


def test_an_edit_replaces_the_value_downstream(any_family_lm):
    lm = any_family_lm
    ids = torch.tensor([lm.encode(TEXT)])
    last = lm.n_layers - 1
    with torch.no_grad(), capture(lm, ["resid_post"], edits={("mlp_out", last): torch.zeros_like}) \
            as seen, capture(lm, ["resid_mid"], layers=[last]) as mid:
        lm.model(ids)
    torch.testing.assert_close(seen["resid_post", last], mid["resid_mid", last])


def test_capture_and_family_of_refuse_what_they_do_not_know(any_family_lm):
    with pytest.raises(ValueError, match="resid_post"):
        with capture(any_family_lm, ["residual"]):
            pass
    with pytest.raises(ValueError, match="layer must be"):
        with capture(any_family_lm, ["resid_post"], layers=[any_family_lm.n_layers]):
            pass
    with pytest.raises(KeyError, match="not captured"):
        with capture(any_family_lm, ["resid_post"]) as seen:
            pass
        seen.stack("mlp_out")
    config = type("Config", (), {"model_type": "bert"})()
    with pytest.raises(ValueError, match="gemma3_text"):
        family_of(config)


def test_new_cache_keeps_every_position_of_a_sliding_model(tiny_gemma3):
    """transformers' own cache keeps only the window in a sliding layer; new_cache keeps all
    positions (so the clock can cut it back), and the logits are the same either way."""
    lm = tiny_gemma3
    ids = torch.tensor([lm.encode(TEXT)])
    T = ids.shape[1]
    cache = new_cache(lm)
    with torch.no_grad():
        first = lm.model(ids[:, :-1], cache=cache, use_cache=True)
        out = lm.model(ids[:, -1:], cache=cache, use_cache=True, output_attentions=True)
        full = lm.model(ids, use_cache=False)
    assert [layer.keys.shape[-2] for layer in cache.layers] == [T, T]
    assert [a.shape[-1] for a in out.attentions] == [T, T]   # rows over the whole context
    assert torch.all(out.attentions[0][0, :, -1, : T - 4] == 0)   # beyond the window: nothing
    torch.testing.assert_close(out.logits[0, -1], full.logits[0, -1], atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(first.logits[0, -1], full.logits[0, -2], atol=1e-5, rtol=1e-5)
    cache.crop(-3)   # cut back 3 positions past the window: possible as every position is kept
    assert cache.get_seq_length() == T - 3


# ----- the embedded Gemma 3 270M ------------------------------------------------------------

@pytest.mark.slow
def test_by_hand_equals_the_embedded_gemma(gemma_lm):
    """Four norms per block, q/k norms, query_pre_attn_scalar, one KV head for four query heads,
    GeGLU, the scaled embedding: the by-hand block, heads and attribution equal Gemma's own."""
    from helpers.attention import attention_head_by_hand, attention_weights
    from helpers.attribution import logit_attribution
    from helpers.embeddings import input_vectors, residual_stream
    from helpers.lens import block_by_hand, unembed

    lm, a = gemma_lm, anatomy(gemma_lm)
    assert (a.mlp_kind, a.embedding_scale, len(a.sliding_layers)) == ("GeGLU", 640 ** 0.5, 15)
    assert {b.sliding_window for b in a.blocks} == {512, None}
    text = "北京是中国的首都"
    stream = residual_stream(lm, text)
    torch.testing.assert_close(input_vectors(lm, lm.encode_prompt(text)), stream[0])
    for layer in (0, 5, 17):
        torch.testing.assert_close(block_by_hand(lm, text, layer).x_out, stream[layer + 1],
                                   atol=1e-3, rtol=1e-5)
    with torch.no_grad():
        logits = lm.model(torch.tensor([lm.encode_prompt(text)])).logits[0]
    torch.testing.assert_close(unembed(lm, stream[-1]), logits)
    weights = attention_weights(lm, text)
    for layer, head in ((0, 0), (5, 3), (17, 2)):
        hc = attention_head_by_hand(lm, text, layer, head)
        assert hc.kv_head == 0
        torch.testing.assert_close(hc.weights, weights[layer, head], atol=1e-5, rtol=0)
    parts = logit_attribution(lm, text, lm.decode([int(logits[-1].argmax())]))
    assert parts.total == pytest.approx(parts.logit, abs=1e-3)


@pytest.mark.slow
def test_the_embedded_gemma_gives_no_attention_beyond_its_window(gemma_lm):
    """In 15 of 18 layers a query sees the last 512 tokens only: the model's own weights on
    older tokens are exactly zero there (and not in layers 5, 11, 17), as by hand."""
    from helpers.attention import attention_head_by_hand, attention_weights

    lm = gemma_lm
    ids = (lm.encode_prompt("我喜欢吃披萨，") + lm.encode("也喜欢吃面条。") * 100)[:530]
    weights = attention_weights(lm, ids)
    beyond = weights[:, :, -1, :-512].sum(dim=(-1, -2))   # [layers]: the last query, old keys
    sliding = anatomy(lm).sliding_layers
    assert all(float(beyond[n]) == 0.0 for n in sliding)
    assert all(float(beyond[n]) > 0.0 for n in (5, 11, 17))
    hc = attention_head_by_hand(lm, ids, 0, 1)
    assert hc.window == 512 and float(hc.weights[-1, :-512].sum()) == 0.0
    torch.testing.assert_close(hc.weights, weights[0, 1], atol=1e-5, rtol=0)
