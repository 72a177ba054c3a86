"""Shared fixtures: tiny randomly initialised GPT-2, Llama and Gemma 3 models built on the spot
(no download), and the embedded model for the slow tier."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

# Tests never reach for the hub: a model id that is not cached fails at once.
os.environ.setdefault("HF_HUB_OFFLINE", "1")

REPO = Path(__file__).resolve().parent.parent
TRAINING_TEXT = (
    "The clock ticks once for every token. A tick is one forward pass and one chosen token. "
    "The capital of France is Paris. The capital of Italy is Rome. 1 2 3 4 5 6 7 8 9 10.\n"
    "Attention looks back over the context; the sampler picks the next token.\n"
) * 20


def _tiny_tokenizer(bos: str | None = None):
    """A byte-level BPE tokenizer (GPT-2 style) trained here on a few sentences. With `bos`, it
    has that special token too and puts it before every text, as Gemma's tokenizer puts <bos>
    (so lm.encode_prompt differs from lm.encode, as on the embedded Gemma)."""
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, processors, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>"] + ([bos] if bos else []),
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator([TRAINING_TEXT], trainer=trainer)
    if bos:
        tok.post_processor = processors.TemplateProcessing(
            single=f"{bos} $A", pair=f"{bos} $A {bos} $B",
            special_tokens=[(bos, tok.token_to_id(bos))])
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|endoftext|>",
                                   bos_token=bos or "<|endoftext|>")


def build_tiny_model(family: str, folder: Path, seed: int = 0) -> Path:
    """Save a tiny random model of `family` ("gpt2", "llama" or "gemma3") with safetensors into
    `folder`."""
    from transformers import (
        Gemma3ForCausalLM, Gemma3TextConfig, GPT2Config, GPT2LMHeadModel, LlamaConfig,
        LlamaForCausalLM,
    )

    tokenizer = _tiny_tokenizer("<bos>" if family == "gemma3" else None)
    vocab = len(tokenizer)
    eos, bos = tokenizer.eos_token_id, tokenizer.bos_token_id
    torch.manual_seed(seed)
    if family == "gpt2":
        config = GPT2Config(vocab_size=vocab, n_positions=64, n_embd=64, n_layer=2, n_head=4,
                            bos_token_id=eos, eos_token_id=eos)
        model = GPT2LMHeadModel(config)
    elif family == "llama":
        # 4 query heads sharing 2 key/value heads: grouped-query attention like SmolLM2.
        config = LlamaConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128,
                             num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                             max_position_embeddings=64, bos_token_id=eos, eos_token_id=eos,
                             tie_word_embeddings=True)
        model = LlamaForCausalLM(config)
    elif family == "gemma3":
        # 4 query heads sharing 1 key/value head (as in Gemma 3 270M); layer 0 attends over a
        # sliding window of 4 tokens (the real model: 512 in 5 of every 6 layers), so a short
        # prompt reaches past it. query_pre_attn_scalar differs from head_dim, so a scale of
        # 1/sqrt(head_dim) would show. Its tokenizer puts <bos> first, like Gemma's.
        config = Gemma3TextConfig(vocab_size=vocab, hidden_size=64, intermediate_size=128,
                                  num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=1,
                                  head_dim=16, query_pre_attn_scalar=24, max_position_embeddings=64,
                                  sliding_window=4,
                                  layer_types=["sliding_attention", "full_attention"],
                                  bos_token_id=bos, eos_token_id=eos, pad_token_id=None)
        model = Gemma3ForCausalLM(config)
        with torch.no_grad():   # Gemma's norms scale by 1 + weight and start at weight 0: make
            for name, weight in model.named_parameters():   # them matter (q_norm, k_norm too)
                if "norm" in name:
                    weight.normal_(0.0, 0.3)
    else:
        raise ValueError(family)
    # Random init gives near-uniform next-token distributions; sharpen them so that greedy
    # and top-k/top-p choices are well separated, as in a trained model.
    with torch.no_grad():
        model.get_output_embeddings().weight.mul_(8.0)
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def tiny_gpt2_dir(tmp_path_factory) -> Path:
    return build_tiny_model("gpt2", tmp_path_factory.mktemp("tiny-gpt2"))


@pytest.fixture(scope="session")
def tiny_llama_dir(tmp_path_factory) -> Path:
    return build_tiny_model("llama", tmp_path_factory.mktemp("tiny-llama"))


@pytest.fixture(scope="session")
def tiny_gemma3_dir(tmp_path_factory) -> Path:
    return build_tiny_model("gemma3", tmp_path_factory.mktemp("tiny-gemma3"))


@pytest.fixture(scope="session", params=["gpt2", "llama", "gemma3"])
def tiny_lm(request):
    """Every tiny family (GPT-2, Llama, Gemma 3), loaded through helpers.load_model like any
    other model: a test that takes it runs once per family."""
    from helpers import load_model

    return load_model(str(request.getfixturevalue(f"tiny_{request.param}_dir")))


@pytest.fixture(scope="session", params=["gpt2", "llama", "gemma3"])
def any_family_lm(request):
    """Every family LLM Clock runs (GPT-2, Llama, Gemma 3), tiny, through helpers.load_model."""
    from helpers import load_model

    return load_model(str(request.getfixturevalue(f"tiny_{request.param}_dir")))


@pytest.fixture(scope="session")
def tiny_gemma3(tiny_gemma3_dir):
    """The tiny Gemma 3 alone, for what only it has (sliding windows, extra norms)."""
    from helpers import load_model

    return load_model(str(tiny_gemma3_dir))


@pytest.fixture(scope="session")
def tiny_llama(tiny_llama_dir):
    """The tiny Llama alone, for lessons that only the Llama family has (RMSNorm, no centering)."""
    from helpers import load_model

    return load_model(str(tiny_llama_dir))


# A ChatML template like SmolLM2-Instruct's, for tiny models that have none of their own.
CHATML = ("{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n"
          "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}")


@pytest.fixture
def chat_lm(tiny_llama_dir):
    """The tiny Llama with <|im_start|>/<|im_end|> special tokens and a ChatML template."""
    import copy
    import dataclasses

    from helpers import load_model

    lm = load_model(str(tiny_llama_dir))
    tokenizer = copy.deepcopy(lm.tokenizer)
    tokenizer.add_special_tokens({"additional_special_tokens": ["<|im_start|>", "<|im_end|>"]})
    tokenizer.chat_template = CHATML
    return dataclasses.replace(lm, tokenizer=tokenizer)


@pytest.fixture(scope="session")
def embedded_lm():
    from helpers import load_model

    return load_model()


@pytest.fixture(scope="session")
def gemma_lm():
    """The embedded Gemma 3 270M (slow tier): loaded once for the whole session."""
    from helpers import load_model

    return load_model("gemma-3-270m")


@pytest.fixture
def fake_convert(monkeypatch, tiny_llama_dir):
    """A fast stand-in for the GGUF conversion: the tiny Llama's files plus a real stamp.

    Returns the list of folders it converted into (one entry per conversion)."""
    import shutil

    from helpers import embedded
    from helpers import models as models_module

    calls = []

    def convert(gguf_path, folder, spec=embedded.SMOLLM2):
        calls.append(folder)
        for f in tiny_llama_dir.iterdir():
            shutil.copy(f, folder / f.name)
        embedded._write_stamp(folder, gguf_path, spec)

    monkeypatch.setattr(embedded, "_convert", convert)
    monkeypatch.setattr(models_module, "_cache", {})  # load_model() must not return the real model
    return calls


# ./test.sh shares the tests between two pytest-xdist workers: see tests/work_units.py.
def pytest_collection_modifyitems(config, items):
    from work_units import in_queue_order

    in_queue_order(items)


@pytest.hookimpl(tryfirst=True, optionalhook=True)   # before xdist's own; no xdist, no call
def pytest_xdist_make_scheduler(config, log):
    from work_units import make_scheduler

    return make_scheduler(config, log)
