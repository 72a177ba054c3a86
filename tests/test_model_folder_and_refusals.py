"""The model folder and loading refusals: never delete what LLM Clock did not write, clean up after
killed conversions, notice damaged files, and explain every refusal."""

from __future__ import annotations

import errno
import json
import shutil

import pytest
import torch

import helpers
from helpers import ModelLoadError, load_model
from helpers import embedded
from helpers import models as models_module


def _tree(folder):
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))


def test_a_model_dir_with_other_files_keeps_them(tmp_path, monkeypatch, fake_convert):
    d = tmp_path / "my_models"
    (d / "other_model").mkdir(parents=True)
    (d / "notes.txt").write_text("keep")
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(d))
    lm = helpers.load_model()
    assert (d / "notes.txt").read_text() == "keep" and (d / "other_model").is_dir()
    target = d / "SmolLM2-135M-Instruct"
    assert embedded.embedded_model_dir() == target and embedded._stamp_problem(target) is None
    assert lm.n_layers == 2  # the stand-in model was loaded from the subfolder
    assert {p.name for p in d.iterdir()} == {"notes.txt", "other_model", "SmolLM2-135M-Instruct",
                                             ".llm-clock.lock"}
    # a second run converts nothing
    embedded.prepare_embedded_model(quiet=True)
    assert len(fake_convert) == 1


def test_a_folder_not_written_by_llm_clock_is_refused_and_left_alone(tmp_path, monkeypatch,
                                                                     fake_convert):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    target = tmp_path / "SmolLM2-135M-Instruct"
    target.mkdir()
    (target / "config.json").write_text("{}")
    (target / "my_notes.txt").write_text("mine")
    before = _tree(target)
    with pytest.raises(ModelLoadError,
                       match="not written by LLM Clock.*Move it away, or set LLM_CLOCK_MODEL_DIR"):
        embedded.prepare_embedded_model(quiet=True)
    assert _tree(target) == before and not fake_convert
    # a foreign stamp-like file is not a stamp
    (target / ".llm-clock-stamp.json").write_text(json.dumps({"written_by": "someone else"}))
    with pytest.raises(ModelLoadError, match="not written by LLM Clock"):
        embedded.prepare_embedded_model(quiet=True)


def test_an_empty_target_folder_is_used(tmp_path, monkeypatch, fake_convert):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    (tmp_path / "SmolLM2-135M-Instruct").mkdir()
    assert embedded._stamp_problem(embedded.prepare_embedded_model(quiet=True)) is None


def test_a_truncated_model_file_in_our_folder_is_converted_again(tmp_path, monkeypatch,
                                                                  fake_convert, capsys):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    target = embedded.prepare_embedded_model(quiet=True)
    weights = target / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:1000])
    assert "damaged" in embedded._stamp_problem(target)
    embedded.prepare_embedded_model()
    assert "model.safetensors is damaged" in capsys.readouterr().err
    assert len(fake_convert) == 2 and embedded._stamp_problem(target) is None
    assert [p.name for p in tmp_path.iterdir() if "partial" in p.name] == []


def test_an_outdated_stamp_is_converted_again(tmp_path, monkeypatch, fake_convert):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    target = embedded.prepare_embedded_model(quiet=True)
    stamp = json.loads((target / ".llm-clock-stamp.json").read_text())
    stamp["stamp_version"] = 1
    (target / ".llm-clock-stamp.json").write_text(json.dumps(stamp))
    embedded.prepare_embedded_model(quiet=True)
    assert len(fake_convert) == 2 and embedded._stamp_problem(target) is None


def test_a_legacy_conversion_in_the_repository_is_replaced(tmp_path, monkeypatch, fake_convert,
                                                            tiny_llama_dir):
    monkeypatch.delenv("LLM_CLOCK_MODEL_DIR", raising=False)
    monkeypatch.setattr(embedded, "REPO_ROOT", tmp_path)
    legacy = tmp_path / "data" / "models" / "SmolLM2-135M-Instruct"
    shutil.copytree(tiny_llama_dir, legacy)  # what an older LLM Clock wrote: no stamp
    assert embedded.prepare_embedded_model(quiet=True) == legacy
    assert len(fake_convert) == 1 and embedded._stamp_problem(legacy) is None


def test_stale_partial_folders_of_ours_are_removed_and_others_kept(tmp_path, monkeypatch,
                                                                   fake_convert):
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(tmp_path))
    ours = tmp_path / ".SmolLM2-135M-Instruct-partial-abc123"
    ours.mkdir()
    (ours / ".llm-clock-partial").write_text("")
    (ours / "model.safetensors").write_bytes(b"x" * 100)
    not_ours = tmp_path / ".SmolLM2-135M-Instruct-partial-notmine"
    not_ours.mkdir()
    (not_ours / "data.bin").write_bytes(b"keep")
    embedded.prepare_embedded_model(quiet=True)
    assert not ours.exists() and (not_ours / "data.bin").read_bytes() == b"keep"
    # also when the model is already complete (the next run after a killed second conversion)
    ours.mkdir()
    (ours / ".llm-clock-partial").write_text("")
    embedded.prepare_embedded_model(quiet=True)
    assert not ours.exists() and not_ours.exists() and len(fake_convert) == 1


def test_interrupted_conversion_leaves_nothing_behind(monkeypatch, tmp_path):
    monkeypatch.setenv(embedded.MODEL_DIR_ENV, str(tmp_path / "models"))

    def boom(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(embedded, "_convert", boom)
    with pytest.raises(KeyboardInterrupt):
        embedded.prepare_embedded_model(quiet=True)
    assert [p.name for p in (tmp_path / "models").iterdir()] == [".llm-clock.lock"]


@pytest.mark.parametrize("code, words",
                         [(errno.ENOSPC, "No space left"), (errno.EROFS, "Read-only")])
def test_full_or_read_only_model_folder_names_the_fix(tmp_path, monkeypatch, code, words):
    monkeypatch.setenv(embedded.MODEL_DIR_ENV, str(tmp_path))

    def fail(*args, **kwargs):
        raise OSError(code, words)

    monkeypatch.setattr(embedded, "_convert", fail)
    with pytest.raises(ModelLoadError,
                       match=f"{words}.*set LLM_CLOCK_MODEL_DIR to a writable folder"):
        embedded.prepare_embedded_model(quiet=True)
    assert not (tmp_path / "SmolLM2-135M-Instruct").exists()


def test_remote_code_is_refused_in_llm_clock_words(tmp_path):
    folder = tmp_path / "custom"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(
        {"model_type": "my_custom_arch", "auto_map": {"AutoConfig": "configuration_x.XConfig"}}))
    (folder / "model.safetensors").write_bytes(b"")
    with pytest.raises(ModelLoadError, match="will not run code from a model folder") as info:
        load_model(str(folder))
    assert "trust_remote_code=True" not in str(info.value)


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has CUDA")
def test_cuda_without_cuda_is_a_clear_error_before_loading(tiny_gpt2_dir, monkeypatch):
    monkeypatch.setattr(models_module, "_cache", {})
    monkeypatch.setattr(models_module, "_resolve_folder",
                        lambda name: pytest.fail("loaded before checking"))
    with pytest.raises(ModelLoadError, match="device='cpu'"):
        load_model(str(tiny_gpt2_dir), device="cuda")
    with pytest.raises(ModelLoadError, match="not a device"):
        load_model(str(tiny_gpt2_dir), device="gpu please")


def test_decode_of_impossible_ids_is_a_clear_error(tiny_lm):
    for bad in ([-1], [len(tiny_lm.tokenizer)], [1.5]):
        with pytest.raises(ValueError, match="Token ids are whole numbers"):
            tiny_lm.decode(bad)
    assert tiny_lm.decode([]) == ""


def test_damaged_safetensors_in_a_model_folder_says_delete_and_run_again(tiny_gpt2_dir, tmp_path,
                                                                         monkeypatch):
    monkeypatch.setattr(models_module, "_cache", {})
    folder = tmp_path / "damaged"
    shutil.copytree(tiny_gpt2_dir, folder)
    weights = folder / "model.safetensors"
    weights.write_bytes(weights.read_bytes()[:5000])
    with pytest.raises(ModelLoadError, match="damaged.*delete .* and run again"):
        load_model(str(folder))


# ----- the real conversion ----------------------------------------------------------------------

TOKENIZATION = {  # the published tokenizer splits digits off first (pre-tokenizer Digits)
    "a  1": ["a", "ĠĠ", "1"],
    "\n    10": ["ĊĠĠĠĠ", "1", "0"],
    "a\n\n\n1": ["a", "ĊĊĊ", "1"],
    "12345": ["1", "2", "3", "4", "5"],
    "The year 2024 and  42 apples": ["The", "Ġyear", "Ġ", "2", "0", "2", "4", "Ġand", "ĠĠ", "4",
                                     "2", "Ġapples"],
    "\t\tx = 3.14": ["ĉ", "ĉ", "x", "Ġ=", "Ġ", "3", ".", "1", "4"],
}


@pytest.mark.slow
def test_embedded_tokenizer_splits_digits_like_the_published_one(embedded_lm):
    for text, pieces in TOKENIZATION.items():
        ids = embedded_lm.encode(text)
        assert embedded_lm.tokenizer.convert_ids_to_tokens(ids) == pieces, text
        assert embedded_lm.decode(ids) == text
    saved = json.loads((embedded.embedded_model_dir() / "tokenizer.json").read_text())
    assert [p["type"] for p in saved["pre_tokenizer"]["pretokenizers"]] == ["Digits", "ByteLevel"]


@pytest.mark.slow
def test_real_conversion_into_a_shared_model_dir(tmp_path, monkeypatch):
    d = tmp_path / "my_models"
    (d / "other_model").mkdir(parents=True)
    (d / "notes.txt").write_text("keep")
    monkeypatch.setenv("LLM_CLOCK_MODEL_DIR", str(d))
    target = embedded.prepare_embedded_model(quiet=True)
    assert target == d / "SmolLM2-135M-Instruct" and embedded._stamp_problem(target) is None
    assert (d / "notes.txt").read_text() == "keep" and (d / "other_model").is_dir()
    stamp = json.loads((target / ".llm-clock-stamp.json").read_text())
    assert stamp["files"]["model.safetensors"]["bytes"] == 538090408
    assert stamp["gguf"]["bytes"] == 98362432
