"""Embeddings: lookup, neighbours, 2-D map, positions (learned table and RoPE), residual stream."""

from __future__ import annotations

import pytest
import torch

from helpers.embeddings import (
    apply_rope, cosine_similarity, embedding_matrix, embedding_scale, final_norm,
    gpt2_input_vectors, input_vectors, lookup_by_one_hot,
    nearest_neighbours, one_hot, position_table, project_2d, project_words, residual_norms,
    residual_stream, rope_angles, rope_cos_sin, rope_scores, rope_theta, single_token_id,
)


def test_one_hot_lookup_equals_the_embedding_layer(any_family_lm):
    lm = any_family_lm
    ids = lm.encode("The clock ticks once for every token.")
    layer = lm.model.get_input_embeddings()
    expected = layer(torch.tensor(ids)).detach()   # Gemma's layer multiplies by sqrt(d_model)
    scale = embedding_scale(lm)
    assert scale == (lm.d_model ** 0.5 if lm.family == "gemma3" else 1.0)
    assert torch.allclose(lookup_by_one_hot(lm, ids) * scale, expected, atol=1e-5)
    assert torch.equal(embedding_matrix(lm)[ids] * scale, expected)
    assert one_hot([2], 5).tolist() == [[0.0, 0.0, 1.0, 0.0, 0.0]]
    with pytest.raises(ValueError, match="0..4"):
        one_hot([5], 5)


def test_single_token_words_and_a_clear_message_otherwise(tiny_lm):
    assert single_token_id(tiny_lm, " the") == tiny_lm.encode(" the")[0]
    with pytest.raises(ValueError, match="tokens"):
        single_token_id(tiny_lm, " antidisestablishment")
    with pytest.raises(ValueError, match="non-empty"):
        single_token_id(tiny_lm, "")


def test_nearest_neighbours_are_the_top_cosines(tiny_lm):
    word = " the"
    neighbours = nearest_neighbours(tiny_lm, word, k=5)
    table = embedding_matrix(tiny_lm)
    query = table[single_token_id(tiny_lm, word)]
    sims = [float(cosine_similarity(table[n.token_id], query)) for n in neighbours]
    assert sims == pytest.approx([n.similarity for n in neighbours], abs=1e-5)
    assert sims == sorted(sims, reverse=True)
    assert single_token_id(tiny_lm, word) not in [n.token_id for n in neighbours]
    # nothing outside the list is closer than the last one
    all_sims = torch.nn.functional.cosine_similarity(table, query[None], dim=-1)
    all_sims[single_token_id(tiny_lm, word)] = -2
    assert float(all_sims.topk(5).values[-1]) == pytest.approx(sims[-1], abs=1e-5)
    with pytest.raises(ValueError, match="k must"):
        nearest_neighbours(tiny_lm, word, k=0)


def test_pca_matches_a_by_hand_example_and_is_deterministic():
    # points on the line y = 2x (plus a tiny wiggle): axis 1 carries almost all the spread and
    # its coordinates are the centred distances along the line, sqrt(5) per unit of x
    x = torch.tensor([[0.0, 0.0, 0.1], [1.0, 2.0, -0.1], [2.0, 4.0, 0.1], [5.0, 10.0, -0.1]])
    xy, explained = project_2d(x)
    assert explained[0] > 0.99
    assert torch.allclose(xy[:, 0], torch.tensor([-2.0, -1.0, 0.0, 3.0]) * 5**0.5, atol=1e-2)
    again, _ = project_2d(x.clone())
    assert torch.equal(xy, again)
    assert (xy.abs().argmax(dim=0) == xy.argmax(dim=0)).all(), (
        "largest coordinate of each axis is positive")
    with pytest.raises(ValueError, match="at least 3"):
        project_2d(x[:2])


def test_project_words_names_multi_token_words(tiny_lm):
    with pytest.raises(ValueError, match="antidisestablishment"):
        project_words(tiny_lm, [" the", " clock", " antidisestablishment"])
    p = project_words(tiny_lm, [" the", " clock", " token", " is"])
    assert p.labels[0] == "·the" and p.xy.shape == (4, 2)


# --- positions ----------------------------------------------------------------------------

def test_gpt2_learned_position_table(tiny_gpt2_dir):
    from helpers import load_model

    lm = load_model(str(tiny_gpt2_dir))
    assert position_table(lm).shape == (lm.context_length, lm.d_model)
    ids = lm.encode("The clock ticks")
    with torch.no_grad():
        first = lm.model(torch.tensor([ids]), output_hidden_states=True).hidden_states[0][0]
    assert torch.allclose(gpt2_input_vectors(lm, ids), first, atol=1e-6)


def test_llama_and_gemma_have_no_position_table(tiny_llama_dir, tiny_gemma3):
    from helpers import load_model

    for lm in (load_model(str(tiny_llama_dir)), tiny_gemma3):
        with pytest.raises(ValueError, match="RoPE"):
            position_table(lm)


def test_input_vectors_are_what_the_first_block_reads(any_family_lm):
    ids = any_family_lm.encode_prompt("The clock ticks once")   # as the stream reads it
    stream = residual_stream(any_family_lm, "The clock ticks once")
    torch.testing.assert_close(input_vectors(any_family_lm, ids), stream[0])


def test_gemma3_rope_has_one_theta_per_layer_kind(tiny_gemma3):
    """Sliding layers rotate with theta 10,000, full-attention layers with 1,000,000, exactly
    as transformers' Gemma 3 computes its cos and sin per layer kind."""
    lm = tiny_gemma3
    assert (rope_theta(lm, 0), rope_theta(lm, 1)) == (1e4, 1e6)
    with pytest.raises(ValueError, match="layer="):
        rope_theta(lm)
    positions = torch.arange(9)
    for layer, kind in enumerate(lm.model.config.layer_types):
        cos_hf, sin_hf = lm.model.model.rotary_emb(torch.zeros(1, 9, lm.d_model), positions[None],
                                                   kind)
        cos, sin = rope_cos_sin(positions, lm.head_dim, rope_theta(lm, layer))
        torch.testing.assert_close(cos, cos_hf[0]) and torch.testing.assert_close(sin, sin_hf[0])


def test_rope_matches_transformers_llama(tiny_llama_dir):
    from transformers.models.llama.modeling_llama import apply_rotary_pos_emb

    from helpers import load_model

    lm = load_model(str(tiny_llama_dir))
    theta, d = rope_theta(lm), lm.head_dim
    positions = torch.arange(12)
    cos_hf, sin_hf = lm.model.model.rotary_emb(torch.zeros(1, 12, lm.d_model), positions[None])
    cos, sin = rope_cos_sin(positions, d, theta)
    assert torch.allclose(cos, cos_hf[0], atol=1e-6) and torch.allclose(sin, sin_hf[0], atol=1e-6)
    torch.manual_seed(0)
    q, k = torch.randn(1, 2, 12, d), torch.randn(1, 2, 12, d)
    q_hf, k_hf = apply_rotary_pos_emb(q, k, cos_hf, sin_hf)
    assert torch.allclose(apply_rope(q, positions, theta), q_hf, atol=1e-5)
    assert torch.allclose(apply_rope(k, positions, theta), k_hf, atol=1e-5)


def test_rope_angles_by_hand():
    angles = rope_angles([0, 1, 3], head_dim=4, theta=100.0)
    # pairs turn by 100^(-0/4) = 1 and 100^(-2/4) = 0.1 radians per position
    assert torch.allclose(angles, torch.tensor([[0.0, 0.0], [1.0, 0.1], [3.0, 0.3]]))
    with pytest.raises(ValueError, match="even"):
        rope_angles([0], head_dim=5, theta=100.0)


def test_rope_score_depends_only_on_the_offset():
    torch.manual_seed(1)
    q, k = torch.randn(64), torch.randn(64)
    scores = rope_scores(q, k, 40, theta=1e5).double()
    for offset in range(-39, 40):
        diagonal = torch.diagonal(scores, offset=-offset)
        assert torch.allclose(diagonal, diagonal[0].expand_as(diagonal), atol=1e-3), offset
    assert scores[0, 0] == pytest.approx(float(q @ k), rel=1e-5)  # position 0: no rotation
    assert not torch.allclose(scores[5, 0], scores[5, 4]), "different offsets give different scores"
    # rotations keep lengths
    assert torch.allclose(apply_rope(q[None], [17], 1e5).norm(), q.norm(), atol=1e-4)


# --- residual stream -------------------------------------------------------------------------

def test_residual_stream_matches_hidden_states(any_family_lm):
    lm = any_family_lm
    text = "The capital of France is"
    stream = residual_stream(lm, text)
    ids = torch.tensor([lm.encode_prompt(text)])   # Gemma: <bos> first
    with torch.no_grad():
        out = lm.model(ids, output_hidden_states=True)
    assert stream.shape == (lm.n_layers + 1, ids.shape[1], lm.d_model)
    for layer in range(lm.n_layers):
        assert torch.allclose(stream[layer], out.hidden_states[layer][0], atol=1e-5)
    # the last row is before the final norm: normalising it gives the model's last hidden state
    norm = lm.model.transformer.ln_f if lm.family == "gpt2" else lm.model.model.norm
    assert final_norm(lm) is norm
    with torch.no_grad():
        assert torch.allclose(norm(stream[-1]), out.hidden_states[-1][0], atol=1e-5)
    norms = residual_norms(lm, text, position=-1)
    assert torch.allclose(norms, stream[:, -1].norm(dim=-1))
    with pytest.raises(ValueError, match="position"):
        residual_norms(lm, text, position=99)
    with pytest.raises(ValueError, match="empty"):
        residual_stream(lm, "")


@pytest.mark.slow
def test_embedded_model_neighbours_and_rope(embedded_lm):
    assert rope_theta(embedded_lm) == 1e5
    names = [n.text for n in nearest_neighbours(embedded_lm, " Paris", k=10)]
    assert " London" in names and " France" in names
    assert [n.text for n in nearest_neighbours(embedded_lm, " seven", k=3)][0] in (" eight", " six")
    with pytest.raises(ValueError, match="'7' is a single token"):
        single_token_id(embedded_lm, " 7")
    ids = embedded_lm.encode("我喜欢吃披萨")
    assert torch.allclose(lookup_by_one_hot(embedded_lm, ids),
                          embedded_lm.model.get_input_embeddings()(torch.tensor(ids)).detach(),
                          atol=1e-6)
    norms = residual_norms(embedded_lm, "The capital of France is")
    assert norms.shape == (31,) and norms[-1] > 10 * norms[0], (
        "the running vector grows through the blocks")


def test_figures(tiny_lm):
    from helpers.plots import (neighbours_figure, projection_figure, residual_norms_figure,
                               rope_angles_figure, rope_scores_figure)

    p = project_words(tiny_lm, [" the", " clock", " token", " is"])
    fig = projection_figure(p, groups=["a", "a", "b", "b"])
    assert [t.name for t in fig.data] == ["a", "b"] and list(fig.data[0].text) == ["·the", "·clock"]
    assert "%" in fig.layout.xaxis.title.text
    with pytest.raises(ValueError, match="groups"):
        projection_figure(p, groups=["a"])
    fig = neighbours_figure(" the", nearest_neighbours(tiny_lm, " the", k=4))
    assert len(fig.data[0].x) == 4 and fig.data[0].x[-1] == max(fig.data[0].x), "closest on top"
    fig = rope_angles_figure(head_dim=16, theta=1e4, n_positions=10)
    assert len(fig.data[0].z) == 10 and len(fig.data[0].z[0]) == 8 and fig.data[0].z[0][0] == 1.0
    fig = rope_scores_figure(rope_scores(torch.ones(8), torch.ones(8), 6, 1e4))
    assert len(fig.data[0].z) == 6
    fig = residual_norms_figure(residual_norms(tiny_lm, "The clock"), " clock")
    assert len(fig.data[0].y) == tiny_lm.n_layers + 1 and fig.layout.yaxis.title.text
    assert "'·clock'" in fig.layout.title.text, "the token's leading space is shown as ·"


def test_word_map_labels_of_close_points_go_different_ways():
    from helpers.plots.embeddings import _label_positions

    positions = _label_positions([[0.0, 0.0], [0.01, 0.0], [5.0, 5.0], [-5.0, 2.0]])
    assert positions[0] != positions[1]
    assert positions[0] == "middle left" and positions[1] == "middle right", (
        "pushed apart, away from each other")
    assert _label_positions([]) == []
