"""Loading a causal language model the way every notebook needs it.

`load_model()` gives the embedded SmolLM2-135M-Instruct and `load_model("gemma-3-270m")` the
embedded Gemma 3 270M (base model): both ship as GGUF files inside pip packages and are
dequantized once into safetensors folders (helpers/embedded.py says what they hold and how
the conversion keeps them intact). `load_model("gpt2")` or `load_model("/path/to/folder")`
loads anything else of the GPT-2, Llama or Gemma 3 families.

    >>> from helpers.models import load_model
    >>> lm = load_model("gemma-3-270m")
    >>> lm.encode("我喜欢吃")                 # token ids, without special tokens
    >>> lm.encode_prompt("我喜欢吃")          # what the clock reads: Gemma's <bos> first

Always: eager attention (other kernels return no attention weights), float32, safetensors
only, never `trust_remote_code`.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import torch

from .anatomy import MODEL_TYPES, family_of
from .embedded import (
    DEFAULT_MODEL, EMBEDDED_MODELS, ModelLoadError, prepare_embedded_model, repair_command,
)
from .validate import check_model_config, check_model_name


@dataclass(eq=False)
class LoadedModel:
    """A model, its tokenizer and the shape facts the lessons keep asking for."""

    model: torch.nn.Module
    tokenizer: object
    name: str
    device: torch.device
    family: str  # "gpt2", "llama" or "gemma3": see helpers.anatomy
    n_layers: int
    n_heads: int
    n_kv_heads: int
    head_dim: int
    d_model: int
    vocab_size: int
    context_length: int

    def __repr__(self) -> str:
        params = sum(p.numel() for p in self.model.parameters())
        return (
            f"LoadedModel({self.name!r}: {self.family}, {params / 1e6:.0f}M parameters, "
            f"{self.n_layers} layers, {self.n_heads} query heads / "
            f"{self.n_kv_heads} key-value heads, "
            f"context {self.context_length} tokens, vocabulary {self.vocab_size}, on {self.device})"
        )

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, without special tokens."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def encode_prompt(self, text: str) -> list[int]:
        """Token ids of `text` as a prompt the model continues: with the tokenizer's
        beginning-of-sequence token first when the model was trained that way (Gemma's
        <bos>; SmolLM2 and GPT-2 have none), else the same as `encode`."""
        return self.prompt_prefix + self.encode(text)

    @property
    def prompt_prefix(self) -> list[int]:
        """The special tokens the tokenizer puts before every text: [<bos>] for Gemma, none
        for SmolLM2 and GPT-2. Without its <bos>, Gemma writes nonsense."""
        bos = self.tokenizer.bos_token_id
        with_specials = self.tokenizer.encode("a", add_special_tokens=True)
        return [bos] if bos is not None and with_specials[:1] == [bos] else []

    @property
    def embedded(self) -> bool:
        """Whether this is one of the embedded models (converted by LLM Clock)."""
        return self.name in EMBEDDED_MODELS

    def repair_hint(self) -> str:
        """What to do when this model's weights turn out damaged (e.g. a NaN logit)."""
        if self.embedded:
            return (f"Run {repair_command(self.name)} (it checks the converted files and "
                    f"converts them again if needed), then restart the kernel")
        return "Load the model again from an intact copy (save or download it again)"

    def decode(self, ids) -> str:
        ids = list(ids)
        size = len(self.tokenizer)
        bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < size]
        if bad:
            raise ValueError(f"Token ids are whole numbers from 0 to {size - 1}; got {bad[0]!r}.")
        return self.tokenizer.decode(ids)


_cache: dict[tuple[str, str], LoadedModel] = {}


def _set_threads() -> None:
    # One thread policy for every tick, measured under CPU contention: see helpers/threads.py.
    from .threads import apply_thread_policy

    apply_thread_policy()


def _resolve_folder(name: str) -> Path | None:
    path = Path(name).expanduser()
    if path.exists():
        if not path.is_dir() or not (path / "config.json").is_file():
            raise ModelLoadError(
                f"{path} is not a model folder (no config.json). Pass a folder saved with "
                f"save_pretrained(), a Hugging Face model id, or nothing for the embedded model."
            )
        if not any(path.glob("*.safetensors")):
            raise ModelLoadError(
                f"{path} has no .safetensors weights; LLM Clock loads only safetensors "
                f"(pickled .bin files can run code). Convert it: "
                f"model.save_pretrained(folder, safe_serialization=True)."
            )
        return path
    # a path, since hub ids are "owner/name"
    if name.startswith((".", "/", "~")) or name.count("/") > 1:
        raise ModelLoadError(f"No such folder: {path}. "
                             f"Check the path, or pass a Hugging Face model id.")
    return None


def _describe(model: torch.nn.Module, tokenizer, name: str, device: torch.device) -> LoadedModel:
    cfg = model.config
    family = family_of(cfg)
    n_heads = cfg.num_attention_heads
    d_model = cfg.hidden_size
    context = (getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None)
               or 2048)
    return LoadedModel(
        model=model,
        tokenizer=tokenizer,
        name=name,
        device=device,
        family=family,
        n_layers=cfg.num_hidden_layers,
        n_heads=n_heads,
        n_kv_heads=getattr(cfg, "num_key_value_heads", None) or n_heads,
        head_dim=getattr(cfg, "head_dim", None) or d_model // n_heads,
        d_model=d_model,
        vocab_size=cfg.vocab_size,
        context_length=int(context),
    )


def load_model(name: str | None = None, device: str | None = None) -> LoadedModel:
    """Load a causal LM for the lessons; the same object is returned on later calls.

    name: None for the embedded SmolLM2-135M-Instruct, "gemma-3-270m" for the embedded
    Gemma 3 270M (both work offline; an embedded name wins over a folder of the same name),
    a Hugging Face model id such as "gpt2", or a local folder saved with `save_pretrained`.
    """
    dev = _check_device(device)
    name = check_model_name(name, ModelLoadError)  # helpers.validate, before any file is touched
    key_name = DEFAULT_MODEL if name is None else str(name)
    embedded = key_name in EMBEDDED_MODELS
    path = Path(key_name).expanduser()
    key = (str(path.resolve()) if not embedded and path.exists() else key_name, str(dev))
    if key in _cache:
        return _cache[key]

    if embedded:
        source: str | Path = prepare_embedded_model(key_name)
        display = key_name
    else:
        folder = _resolve_folder(str(name))
        source = folder if folder is not None else str(name)
        display = str(name)

    from transformers import AutoConfig, AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    _set_threads()
    hf_logging.set_verbosity_error()  # progress bars and notices are noise in a lesson
    hf_logging.disable_progress_bar()
    try:
        config = AutoConfig.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as err:
        _refuse_remote_code(display, err)
        if isinstance(source, Path):
            raise ModelLoadError(f"{source} has an unreadable config.json: {err}") from None
        raise ModelLoadError(
            f"Could not load {name!r}: it is not a model id on the Hugging Face Hub, or there is "
            f"no network to fetch it. The embedded default needs no network: "
            f"load_model() with no name."
        ) from None
    if config.model_type not in MODEL_TYPES:
        raise ModelLoadError(
            f"{display!r} is a {config.model_type!r} model; LLM Clock supports causal LMs of the "
            f"GPT-2, Llama and Gemma 3 families "
            f"(gpt2, distilgpt2, SmolLM2, TinyLlama, Gemma 3, ...)."
        )
    # Sizes, layer count, memory, and a local folder's weights and tokenizer (helpers.validate).
    check_model_config(config, source if isinstance(source, Path) else None, ModelLoadError)
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=torch.float32,
            attn_implementation="eager",  # the only kernel that returns attention weights
            use_safetensors=True,
            trust_remote_code=False,
        )
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
    except (OSError, ValueError) as err:
        _refuse_remote_code(display, err)
        if "safetensors" in str(err).lower() and "no file named" in str(err).lower():
            raise ModelLoadError(
                f"{display!r} has no safetensors weights; LLM Clock loads only safetensors. "
                f"Pick a model that ships model.safetensors, or convert it with save_pretrained()."
            ) from None
        raise ModelLoadError(f"Could not load {display!r}: {' '.join(str(err).split())}") from None
    except Exception as err:  # safetensors' own error for a truncated or corrupt file
        if type(err).__name__ != "SafetensorError":
            raise
        raise ModelLoadError(
            f"The weights in {source} are damaged ({err}): delete {source} and run again"
            + (" (LLM Clock converts it afresh)." if embedded else ", or save the model again.")
        ) from None
    model.to(dev).eval()
    _warm_up(model, dev)
    if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
        tokenizer.pad_token = tokenizer.eos_token
    lm = _describe(model, tokenizer, display, dev)
    _cache[key] = lm
    return lm


def _check_device(device: str | None) -> torch.device:
    if device is None:
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    try:
        dev = torch.device(device)
    except (RuntimeError, TypeError):
        raise ModelLoadError(f"device={device!r} is not a device: use 'cpu', 'cuda' or 'mps', "
                             f"or leave it out.") from None
    if dev.type == "cuda" and not torch.cuda.is_available():
        raise ModelLoadError(f"device={device!r} asks for a GPU, but this torch has no CUDA or "
                             f"sees no GPU: use device='cpu', or leave device out to use a GPU "
                             f"only when there is one.")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ModelLoadError(f"device={device!r} asks for Apple's GPU, which is not available "
                             f"here: use device='cpu'.")
    return dev


def _refuse_remote_code(display: str, err: Exception) -> None:
    # transformers' message recommends trust_remote_code=True: that would run Python code
    # shipped inside the model folder, which LLM Clock never does.
    if "trust_remote_code" in str(err):
        raise ModelLoadError(
            f"{display!r} needs Python code from its own model folder to load, and LLM Clock "
            f"will not run code from a model folder. Pick a model transformers supports by "
            f"itself (GPT-2, Llama or Gemma 3 family), or load_model() with no name for the "
            f"embedded model."
        ) from None


def _warm_up(model: torch.nn.Module, dev: torch.device) -> None:
    """One tiny forward pass (2 tokens, the clock's path: cache + attention weights) right
    after loading, so the one-time start-up cost (allocator, kernel selection) is not charged
    to the first timed tick of a lesson."""
    from transformers import DynamicCache

    with torch.inference_mode():
        model(input_ids=torch.zeros((1, 2), dtype=torch.long, device=dev),
              cache=DynamicCache(config=model.config), use_cache=True, output_attentions=True,
              logits_to_keep=1)
