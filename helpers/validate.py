"""Checking what a learner passes in: one set of validators for every public function.

Each validator returns the checked value (normalised: a plain int, float, list of ints) or
raises `error` (ValueError unless the caller passes its own subclass, e.g. ClockError) with a
short message that says what was wrong and what to give instead. Validating first, before any
state is touched, is what keeps a clock or a search intact after bad input.

    check_whole(n, "max_new_tokens", minimum=1)
    check_number(temperature, "temperature", low=0, low_open=True)
    check_text(prompt, "prompt")                 # a str, and valid text (no lone surrogate)
    check_token_ids(lm, ids)                     # whole numbers in the vocabulary
    token_ids_of(lm, text_or_ids, "prompt")      # text -> ids, or ids checked; not empty, fits
    check_model_name(name); check_model_config(config, folder)   # before a model is loaded
"""

from __future__ import annotations

import json
import math
import numbers
import os
from pathlib import Path
from typing import Sequence

__all__ = ["check_whole", "check_number", "check_text", "check_token_id", "check_token_ids",
           "token_ids_of", "check_model_name", "check_model_config", "MAX_LAYERS"]


def _is_whole(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def check_whole(value, name: str, minimum: int | None = 0, maximum: int | None = None,
                hint: str = "", error: type[Exception] = ValueError) -> int:
    """A whole number (int, not bool or float) in [minimum, maximum]."""
    low = "" if minimum is None else f" >= {minimum}"
    high = "" if maximum is None else (f" <= {maximum}" if not low else f" up to {maximum}")
    if (not _is_whole(value) or (minimum is not None and value < minimum)
            or (maximum is not None and value > maximum)):
        raise error(f"{name} must be a whole number{low}{high}{hint}, got {value!r}.")
    return int(value)


def check_number(value, name: str, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False, hint: str = "",
                 error: type[Exception] = ValueError) -> float:
    """A finite real number (int or float, not bool, not NaN or infinite) within the bounds."""
    ok = isinstance(value, numbers.Real) and not isinstance(value, bool) and math.isfinite(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        if low is not None and high is not None:
            where = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
            raise error(f"{name} must be in {where}{hint}, got {value!r}.")
        elif low is not None:
            where = f" {'>' if low_open else '>='} {low:g}"
        elif high is not None:
            where = f" {'<' if high_open else '<='} {high:g}"
        else:
            where = ""
        raise error(f"{name} must be a number{where}{hint}, got {value!r}.")
    return float(value)


def check_text(value, what: str = "text", error: type[Exception] = ValueError) -> str:
    """A str that is valid text: every character encodable as UTF-8 (a lone half of a
    surrogate pair, e.g. from a bad copy-paste, is not)."""
    if isinstance(value, (bytes, bytearray)):
        raise error(f"The {what} must be text (a str), got bytes: decode them first, "
                    f"e.g. data.decode('utf-8').")
    if not isinstance(value, str):
        raise error(f"The {what} must be text (a str), got {type(value).__name__}.")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError as err:
        raise error(
            f"The {what} has a character that is not valid text ({value[err.start]!r} at "
            f"position {err.start}, half of a surrogate pair): retype or delete it.") from None
    return value


def check_token_id(lm, value, error: type[Exception] = ValueError) -> int:
    """One token id: a whole number from 0 to vocab_size - 1."""
    if not _is_whole(value):
        raise error(f"Token ids are whole numbers from 0 to {lm.vocab_size - 1}; "
                    f"got {value!r} (a {type(value).__name__}).")
    if not 0 <= value < lm.vocab_size:
        raise error(f"Token id {value} is out of range: token ids are whole numbers from 0 to "
                    f"{lm.vocab_size - 1}.")
    return int(value)


def check_token_ids(lm, ids, what: str = "token ids", allow_empty: bool = True,
                    error: type[Exception] = ValueError) -> list[int]:
    """A sequence of token ids (list, tuple, range, or an integer tensor/array), each a whole
    number in the vocabulary; returned as a list of ints."""
    if isinstance(ids, (str, bytes, bytearray)) or not hasattr(ids, "__iter__"):
        raise error(f"The {what} must be a list of token ids (whole numbers), "
                    f"got {type(ids).__name__}.")
    if hasattr(ids, "dtype") and hasattr(ids, "tolist"):  # a torch tensor or a numpy array
        if getattr(ids.dtype, "is_floating_point", False) or str(ids.dtype).startswith(
                ("float", "torch.float", "bool", "torch.bool", "complex", "torch.complex")):
            raise error(f"The {what} must be whole numbers, got a tensor of {ids.dtype}.")
        flat = ids.reshape(-1).tolist()
    else:
        flat = list(ids)
    checked = [check_token_id(lm, i, error) for i in flat]
    if not checked and not allow_empty:
        raise error(f"The {what} are empty: there are no tokens to read. Give some text or "
                    f"ids, e.g. lm.encode('Once upon a time').")
    return checked


def token_ids_of(lm, text_or_ids: str | Sequence[int], what: str = "text",
                 limit: int | None = None, error: type[Exception] = ValueError) -> list[int]:
    """The token ids of a text (checked as text, then encoded as a prompt: lm.encode_prompt)
    or of ids passed through (checked); never empty, and at most `limit` tokens (default: the
    model's context)."""
    if isinstance(text_or_ids, str):
        check_text(text_or_ids, what, error)
        if text_or_ids == "":
            raise error(f"The {what} is empty: give some text, e.g. 'Once upon a time'.")
        ids = lm.encode_prompt(text_or_ids)  # as the clock reads a prompt (Gemma: <bos> first)
    else:
        ids = check_token_ids(lm, text_or_ids, f"{what}'s token ids", allow_empty=False,
                              error=error)
    if not ids:
        raise error(f"The {what} has no tokens to read: give some text, e.g. 'Once upon a time'.")
    limit = lm.context_length if limit is None else limit
    if len(ids) > limit:
        raise error(f"The {what} is {len(ids)} tokens, but {lm.name} reads at most {limit} "
                    f"here: shorten it, or give a shorter text.")
    return ids


# ------------------------------------------------------------------ loading a model

MAX_LAYERS = 512            # the largest published models have about 130
MAX_NAME_PART = 255         # a file name's limit on every common file system
TOKENIZER_FILES = ("tokenizer.json", "vocab.json", "tokenizer.model")


def check_model_name(name, error: type[Exception] = ValueError) -> str | None:
    """None (the embedded model), or a Hugging Face id / folder path as a str."""
    if name is None:
        return None
    if isinstance(name, os.PathLike):
        name = os.fspath(name)
    if not isinstance(name, str):
        raise error(f"A model is named by a Hugging Face id ('gpt2', 'HuggingFaceTB/SmolLM2-360M') "
                    f"or a folder path, as text; got {type(name).__name__}.")
    check_text(name, "model name", error)
    if not name.strip() or "\x00" in name:
        raise error(f"{name!r} is not a model name: give a Hugging Face id or a folder path, "
                    f"or nothing for the embedded model.")
    longest = max(len(part) for part in name.split("/"))
    if longest > MAX_NAME_PART or len(name) > 4096:
        raise error(f"The model name is {len(name)} characters long, with a part of {longest}: "
                    f"a Hugging Face id is at most 96 characters (owner/name) and a folder name "
                    f"at most {MAX_NAME_PART}. Check the name.")
    return name


def _config_value(config, name: str):
    try:
        return getattr(config, name, None)
    except Exception:  # a config may raise for a missing attribute of its own
        return None


def _safetensors_shapes(folder: Path) -> dict[str, list[int]]:
    """Tensor name -> shape, from the headers of the folder's .safetensors files (no weights
    are read)."""
    shapes: dict[str, list[int]] = {}
    for path in sorted(folder.glob("*.safetensors")):
        with open(path, "rb") as f:
            size = int.from_bytes(f.read(8), "little")
            if not 0 < size <= 100 * 2**20:
                continue  # a damaged file: the loader's own check names it
            header = json.loads(f.read(size))
        shapes.update({k: v["shape"] for k, v in header.items() if k != "__metadata__"})
    return shapes


def check_model_config(config, folder: Path | None = None,
                       error: type[Exception] = ValueError) -> None:
    """A model's config.json, checked before anything is built: positive sizes that divide
    as attention needs, at most MAX_LAYERS layers, float32 weights that fit this machine's
    memory, and (for a local folder) the tensor shapes its config implies equal to those in
    its safetensors files and a tokenizer beside them."""
    where = f"{folder}/config.json" if folder is not None else "The model's config.json"
    for attr in ("num_hidden_layers", "num_attention_heads", "hidden_size", "vocab_size",
                 "num_key_value_heads", "intermediate_size", "head_dim",
                 "max_position_embeddings"):
        value = _config_value(config, attr)
        if value is not None:
            check_whole(value, f"{where}: {attr}", 1,
                        hint=" (a damaged or hand-edited config: restore the original)",
                        error=error)
    layers = _config_value(config, "num_hidden_layers")
    if layers is not None and layers > MAX_LAYERS:
        raise error(f"{where} says {layers} layers; LLM Clock loads models of up to "
                    f"{MAX_LAYERS} layers (the largest published ones have about 130): the "
                    f"config is damaged, restore the original.")
    heads = _config_value(config, "num_attention_heads")
    kv_heads = _config_value(config, "num_key_value_heads")
    hidden = _config_value(config, "hidden_size")
    if heads and kv_heads and heads % kv_heads:
        raise error(f"{where}: {heads} attention heads cannot share {kv_heads} key/value heads "
                    f"evenly: the config is damaged, restore the original.")
    if heads and hidden and _config_value(config, "head_dim") is None and hidden % heads:
        raise error(f"{where}: hidden_size {hidden} is not a multiple of {heads} heads: the "
                    f"config is damaged, restore the original.")
    vocab = _config_value(config, "vocab_size")
    inner = _config_value(config, "intermediate_size") or 4 * (hidden or 0)
    if layers and hidden and vocab:
        need = 4 * (2 * vocab * hidden + layers * (4 * hidden * hidden + 3 * hidden * inner))
        try:
            memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        except (AttributeError, ValueError, OSError):
            memory = None
        if memory and need > memory:
            raise error(f"{where} describes a model of about {need / 2**30:.0f} GiB in float32, "
                        f"more than this machine's {memory / 2**30:.0f} GiB of memory: pick a "
                        f"smaller model (or the config is damaged).")
    if folder is not None:
        _check_folder_against_config(config, Path(folder), where, error)


def _check_folder_against_config(config, folder: Path, where: str, error) -> None:
    if not any((folder / name).is_file() for name in TOKENIZER_FILES):
        raise error(f"{folder} has no tokenizer ({', '.join(TOKENIZER_FILES)}): save it into "
                    f"the same folder, e.g. tokenizer.save_pretrained(folder).")
    stored = _safetensors_shapes(folder)
    if not stored:
        return
    import torch
    from transformers import AutoModelForCausalLM

    with torch.device("meta"):  # shapes only: nothing is allocated
        skeleton = AutoModelForCausalLM.from_config(config, attn_implementation="eager")
    expected = {name: list(t.shape) for name, t in skeleton.state_dict().items()}
    tied = bool(_config_value(config, "tie_word_embeddings"))
    for name, shape in expected.items():
        if name in stored and stored[name] != shape:
            raise error(f"{where} does not match the weights: {name} is {stored[name]} in the "
                        f"safetensors files but the config makes it {shape}. Restore the "
                        f"original config.json (or save the model again).")
    unknown = [n for n in stored if n not in expected
               and not n.endswith(("inv_freq", ".attn.bias", ".attn.masked_bias"))]
    if unknown:
        raise error(f"{where} does not match the weights: they hold {len(unknown)} tensors the "
                    f"config does not describe (e.g. {unknown[0]}). Restore the original "
                    f"config.json (or save the model again).")
    missing = [n for n in expected if n not in stored and not (tied and "lm_head" in n)]
    if missing:
        raise error(f"{where} does not match the weights: they lack {len(missing)} of the "
                    f"{len(expected)} tensors the config asks for (e.g. {missing[0]}). Restore "
                    f"the original config.json (or save the model again).")
