"""Quantization round trips: bytes per weight, error bounds, and the drift of real logits."""

from __future__ import annotations

import pytest
import torch

from helpers.quantization import (
    EMBEDDED_FILE_FORMATS, block_matrices, bytes_per_weight, file_bytes, next_token_drift,
    requantized, round_trip,
)


def test_bytes_per_weight():
    assert bytes_per_weight("fp32") == 4 and bytes_per_weight("bf16") == 2
    assert bytes_per_weight("q4_1") == 20 / 32 == 0.625      # 5 bits per weight
    assert bytes_per_weight("q8_0") == 34 / 32
    assert bytes_per_weight("int8", row_length=576) == 1 + 4 / 576
    with pytest.raises(ValueError, match="Unknown format"):
        bytes_per_weight("int3")


def test_q4_1_by_hand():
    w = torch.arange(32, dtype=torch.float32).reshape(1, 32) / 31 * 1.5 - 0.5   # -0.5 .. 1.0
    back = round_trip(w, "q4_1")
    d, m = torch.tensor(1.5 / 15).half().float(), torch.tensor(-0.5).half().float()
    q = torch.round((w - -0.5) / (1.5 / 15))
    assert torch.allclose(back, m + q * d, atol=1e-6)
    assert len(back.unique()) <= 16                              # 4 bits: 16 levels per block


def test_q4_1_error_bound_and_requantizing_is_lossless():
    torch.manual_seed(0)
    w = torch.randn(64, 128)
    back = round_trip(w, "q4_1")
    blocks = w.reshape(-1, 32)
    half_step = (blocks.max(1).values - blocks.min(1).values) / 30
    assert ((back - w).reshape(-1, 32).abs() <= half_step[:, None] * 1.01 + 1e-3).all()
    assert torch.equal(round_trip(back, "q4_1"), back)          # the grid maps onto itself
    assert not torch.equal(round_trip(back, "int4"), back)


def test_int8_rows_error_bound():
    torch.manual_seed(0)
    w = torch.randn(16, 96)
    back = round_trip(w, "int8")
    scale = w.abs().amax(1, keepdim=True) / 127
    assert ((back - w).abs() <= scale / 2 + 1e-7).all()
    assert round_trip(w, "bf16").dtype == torch.float32
    with pytest.raises(ValueError, match="multiple of 32"):
        round_trip(torch.randn(3, 20), "q4_1")


def test_requantized_restores_the_weights(tiny_llama_dir):
    from helpers import load_model

    lm = load_model(str(tiny_llama_dir))
    weights = block_matrices(lm)
    assert len(weights) == 2 * 7        # 2 layers x q, k, v, o, gate, up, down
    before = {n: w.detach().clone() for n, w in weights.items()}
    ids = torch.tensor([lm.encode("The capital of France is")])
    with torch.inference_mode():
        reference = lm.model(input_ids=ids).logits
    with requantized(lm, "int4"):
        assert any(not torch.equal(w, before[n]) for n, w in block_matrices(lm).items())
        with torch.inference_mode():
            assert not torch.allclose(lm.model(input_ids=ids).logits, reference)
    assert all(torch.equal(w, before[n]) for n, w in block_matrices(lm).items())
    with pytest.raises(ValueError, match="Unknown format"):
        with requantized(lm, "fp8"):
            pass
    assert all(torch.equal(w, before[n]) for n, w in block_matrices(lm).items())


TEXTS = ["The capital of France is Paris, and the capital of Italy is Rome.",
         "def add(a, b):\n    return a + b\n",
         "Once upon a time, in a small village by the sea, there lived an old fisherman."]


@pytest.mark.slow
def test_drift_of_the_embedded_model_stays_within_bounds(embedded_lm):
    bf16, int8, int4, q4_1 = next_token_drift(embedded_lm, TEXTS, ["bf16", "int8", "int4", "q4_1"])
    # Stated bounds (mean KL in nats over every position of the texts, top-1 agreement):
    assert bf16.kl_mean < 1e-3 and bf16.top1_agreement >= 0.95
    assert int8.kl_mean < 0.03 and int8.top1_agreement >= 0.9
    assert q4_1.kl_mean == 0 and q4_1.top1_agreement == 1   # the weights already sit on its grid
    assert int4.kl_mean > 10 * int8.kl_mean                   # 4 bits without blocks: far worse


@pytest.mark.slow
def test_embedded_file_formats_and_size(embedded_lm):
    from gguf import GGUFReader

    from helpers.embedded import embedded_gguf

    path = embedded_gguf()
    seen: dict[str, set] = {}
    for tensor in GGUFReader(path).tensors:
        kind = tensor.name.split(".")[-2] if tensor.name.startswith("blk.") else tensor.name
        seen.setdefault(tensor.tensor_type.name.lower().replace("f32", "fp32"), set()).add(
            kind.replace(".weight", ""))
    expected = {fmt: {k.strip().split(" ")[0] for k in kinds.split(",")}
                for kinds, fmt in EMBEDDED_FILE_FORMATS.items()}
    assert seen == expected
    tensor_bytes = sum(file_bytes(embedded_lm).values())
    assert 0 < path.stat().st_size - tensor_bytes < 3e6            # the rest: tokenizer metadata
