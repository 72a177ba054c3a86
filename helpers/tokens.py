"""Tokens for display and for teaching.

Two halves:

* A from-scratch byte-level BPE (in the spirit of Karpathy's minbpe): `train_bpe` learns
  merges from a text, `BPE.encode` / `BPE.decode` use them. Small enough to read in one go.
* Token spans of a real tokenizer for display: `token_spans` gives, per token, its id, its
  raw vocabulary string (byte-level form such as 'Ġthe'), its bytes and readable text;
  `readable_pieces` glues tokens that are fragments of one character's UTF-8 bytes
  (Chinese characters, emoji) back into readable pieces.
"""

from __future__ import annotations

import re
from collections import Counter
from itertools import repeat
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Iterable, NamedTuple

__all__ = [
    "VISIBLE_GLYPHS",
    "visible", "Merge", "BPE", "train_bpe", "pair_counts", "merge_pair", "WORD_PATTERN",
    "TRAINING_TEXT_PATH", "training_text",
    "byte_level_alphabet", "token_bytes", "TokenSpan", "token_spans", "Piece", "readable_pieces",
    "TextCounts", "text_counts", "show_bytes",
]

# Whitespace drawn as visible glyphs, so " the" and "the" look different on a slide.
VISIBLE_GLYPHS = {" ": "·", "\n": "↵", "\t": "⇥", "\r": "␍"}


def visible(text: str) -> str:
    """Make spaces, newlines and tabs visible: ' the\\n' -> '·the↵'. Empty -> '∅'."""
    if text == "":
        return "∅"
    return "".join(VISIBLE_GLYPHS.get(ch, ch) for ch in text)


# ---------------------------------------------------------------------------------------
# A byte-level BPE from scratch
# ---------------------------------------------------------------------------------------

# Split text into chunks before counting pairs, so merges never cross a word boundary:
# " the", " cat", ",", "\n" ... (a simplified GPT-2 pattern; \w is Unicode-aware).
# Every character falls in one class: letters [^\W\d_], digits \d, whitespace \s, or the
# rest (punctuation, symbols, emoji, control characters and "_", which \w counts as a word
# character but is no letter). So the chunks always join back into the whole text.
WORD_PATTERN = r"'(?:s|t|re|ve|m|ll|d)| ?[^\W\d_]+| ?\d| ?(?:[^\s\w]|_)+|\s+(?!\S)|\s+"


# A small text written for this project, to train the teaching BPE on.
TRAINING_TEXT_PATH = Path(__file__).resolve().parent.parent / "data" / "bpe_training_text.txt"


def training_text() -> str:
    """The text in data/bpe_training_text.txt: about 3,600 bytes of English, Chinese, emoji."""
    return TRAINING_TEXT_PATH.read_text(encoding="utf-8")


class Merge(NamedTuple):
    """One learned merge: the pair (left, right) of token ids becomes `new_id`."""

    left: int
    right: int
    new_id: int
    count: int      # how often the pair occurred when it was chosen
    token: bytes    # the bytes the new token stands for


@dataclass
class BPE:
    """A trained byte-level BPE: ids 0..255 are the raw bytes, each merge adds one id."""

    merges: list[Merge] = field(default_factory=list)
    pattern: str | None = WORD_PATTERN

    @property
    def vocab(self) -> dict[int, bytes]:
        """id -> the bytes it stands for."""
        vocab = {i: bytes([i]) for i in range(256)}
        for m in self.merges:
            vocab[m.new_id] = vocab[m.left] + vocab[m.right]
        return vocab

    @property
    def vocab_size(self) -> int:
        return 256 + len(self.merges)

    def _chunks(self, text: str) -> list[list[int]]:
        parts = re.findall(self.pattern, text) if self.pattern else [text]
        return [list(part.encode("utf-8")) for part in parts if part]

    def encode(self, text: str) -> list[int]:
        """Text -> UTF-8 bytes -> apply the merges in the order they were learned -> ids."""
        ranks = {(m.left, m.right): m for m in self.merges}
        ids: list[int] = []
        for chunk in self._chunks(text):
            while len(chunk) >= 2:
                # the pair that was learned earliest goes first, exactly as in training
                pair = min(zip(chunk, chunk[1:]),
                           key=lambda p: ranks[p].new_id if p in ranks else float("inf"))
                if pair not in ranks:
                    break
                chunk = merge_pair(chunk, pair, ranks[pair].new_id)
            ids.extend(chunk)
        return ids

    def encode_steps(self, text: str) -> list[list[int]]:
        """The ids of `text` after 0, 1, 2, ... merges: watch a sentence shrink merge by merge."""
        chunks = self._chunks(text)
        steps = [[i for c in chunks for i in c]]
        for m in self.merges:
            chunks = [merge_pair(c, (m.left, m.right), m.new_id) for c in chunks]
            steps.append([i for c in chunks for i in c])
        return steps

    def decode(self, ids: Iterable[int]) -> str:
        """ids -> bytes -> text. A cut in the middle of a character shows as '�'."""
        vocab = self.vocab
        try:
            data = b"".join(vocab[i] for i in ids)
        except KeyError as err:
            raise ValueError(f"Token id {err.args[0]} is not in this BPE "
                             f"(ids are 0..{self.vocab_size - 1}).") from None
        return data.decode("utf-8", errors="replace")

    def token_text(self, token_id: int) -> str:
        """Readable form of one token (spaces and newlines made visible)."""
        return visible(self.vocab[token_id].decode("utf-8", errors="replace"))


def pair_counts(chunks: Iterable[list[int]], weights: Iterable[int] | None = None) -> Counter:
    """How often each adjacent pair of ids occurs (each chunk counted `weight` times)."""
    counts: Counter = Counter()
    for chunk, weight in zip(chunks, repeat(1) if weights is None else weights):
        for pair in zip(chunk, chunk[1:]):
            counts[pair] += weight
    return counts


def merge_pair(ids: list[int], pair: tuple[int, int], new_id: int) -> list[int]:
    """Replace every occurrence of `pair` in `ids` (left to right, no overlaps) by `new_id`."""
    out, i = [], 0
    while i < len(ids):
        if i + 1 < len(ids) and ids[i] == pair[0] and ids[i + 1] == pair[1]:
            out.append(new_id)
            i += 2
        else:
            out.append(ids[i])
            i += 1
    return out


def train_bpe(text: str, vocab_size: int, pattern: str | None = WORD_PATTERN) -> BPE:
    """Learn `vocab_size - 256` merges from `text`: repeatedly merge the most frequent pair.

    pattern: a regex that splits the text into chunks (words) first, so merges stay inside a
    word; None treats the whole text as one chunk (like minbpe's BasicTokenizer).
    Stops early when no pair occurs twice any more. Ties go to the pair seen first.
    """
    if not isinstance(text, str) or not text:
        raise ValueError("train_bpe needs a non-empty text to learn merges from.")
    if vocab_size < 256:
        raise ValueError(f"vocab_size must be at least 256 (the 256 byte values), "
                         f"got {vocab_size}.")
    bpe = BPE(pattern=pattern)
    # Identical words behave identically: count each distinct chunk once, with its frequency.
    word_counts = Counter(tuple(c) for c in bpe._chunks(text))
    chunks = [list(w) for w in word_counts]
    weights = list(word_counts.values())
    vocab = {i: bytes([i]) for i in range(256)}
    for new_id in range(256, vocab_size):
        counts = pair_counts(chunks, weights)
        if not counts:
            break
        pair, count = max(counts.items(), key=lambda kv: kv[1])  # first-seen wins a tie
        if count < 2:
            break
        chunks = [merge_pair(c, pair, new_id) for c in chunks]
        vocab[new_id] = vocab[pair[0]] + vocab[pair[1]]
        bpe.merges.append(Merge(pair[0], pair[1], new_id, count, vocab[new_id]))
    return bpe


# ---------------------------------------------------------------------------------------
# Token spans of a real (Hugging Face) tokenizer
# ---------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def byte_level_alphabet() -> dict[int, str]:
    """GPT-2's byte -> printable character table used by byte-level BPE vocabularies.

    Printable bytes stand for themselves; the others (space, newline, control bytes, ...)
    are shifted to unused characters from 256 upwards: space (32) -> 'Ġ', newline (10) -> 'Ċ'.
    """
    printable = (list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1))
                 + list(range(ord("®"), ord("ÿ") + 1)))
    table, shift = {}, 0
    for b in range(256):
        if b in printable:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + shift)
            shift += 1
    return table


@lru_cache(maxsize=1)
def _char_to_byte() -> dict[str, int]:
    return {ch: b for b, ch in byte_level_alphabet().items()}


def _tokenizer_of(lm_or_tokenizer):
    return getattr(lm_or_tokenizer, "tokenizer", lm_or_tokenizer)


def _is_byte_level(tokenizer) -> bool:
    backend = getattr(tokenizer, "backend_tokenizer", None)
    decoder = getattr(backend, "decoder", None)
    return "ByteLevel" in type(decoder).__name__ or "ByteLevel" in repr(decoder)


_BYTE_FALLBACK = re.compile(r"<0x([0-9A-Fa-f]{2})>")


def token_bytes(lm_or_tokenizer, token_id: int) -> bytes:
    """The exact bytes one token stands for.

    Byte-level BPE (GPT-2, SmolLM2): map each character of the vocabulary string back
    through `byte_level_alphabet`. Added/special tokens ('<|im_end|>') are their own text.
    SentencePiece vocabularies: '<0xE6>' is a raw byte and '▁' a space.
    """
    tokenizer = _tokenizer_of(lm_or_tokenizer)
    raw = tokenizer.convert_ids_to_tokens(int(token_id))
    if raw is None:
        raise ValueError(f"Token id {token_id} is not in the vocabulary (0..{len(tokenizer) - 1}).")
    if _is_byte_level(tokenizer):
        table = _char_to_byte()
        if raw not in tokenizer.get_added_vocab() and all(ch in table for ch in raw):
            return bytes(table[ch] for ch in raw)
        return raw.encode("utf-8")
    fallback = _BYTE_FALLBACK.fullmatch(raw)
    if fallback:
        return bytes([int(fallback.group(1), 16)])
    if raw in tokenizer.get_added_vocab():
        return raw.encode("utf-8")
    return raw.replace("▁", " ").encode("utf-8")


def show_bytes(data: bytes) -> str:
    """Readable text of some bytes; bytes that are not whole characters show as hex:
    ' ⟨f0 9f⟩'."""
    decoded = data.decode("utf-8", errors="surrogateescape")
    out, pending = [], []
    for ch in decoded:
        if "\udc80" <= ch <= "\udcff":  # an undecodable byte, escaped as a lone surrogate
            pending.append(f"{ord(ch) - 0xDC00:02x}")
            continue
        if pending:
            out.append("⟨" + " ".join(pending) + "⟩")
            pending = []
        out.append(ch)
    if pending:
        out.append("⟨" + " ".join(pending) + "⟩")
    return "".join(out)


def _is_whole_text(data: bytes) -> bool:
    try:
        data.decode("utf-8")
        return True
    except UnicodeDecodeError:
        return False


@dataclass(frozen=True)
class TokenSpan:
    """One token of a text, as the tokenizer sees it and as a human reads it."""

    index: int          # position in the token sequence
    id: int
    token: str          # the vocabulary string, e.g. 'Ġthe' (Ġ = a space byte)
    bytes: bytes        # the exact bytes it stands for, e.g. b' the'
    start: int          # character offsets in the text reported by the tokenizer
    end: int

    @property
    def is_fragment(self) -> bool:
        """True when the bytes are not whole characters (part of a Chinese character, an emoji)."""
        return not _is_whole_text(self.bytes)

    @property
    def text(self) -> str:
        """Readable text; bytes that are only part of a character show as hex: '⟨e6 88⟩'."""
        return show_bytes(self.bytes)


def token_spans(lm_or_tokenizer, text: str) -> list[TokenSpan]:
    """Tokenize `text` (no special tokens added) into spans with id, vocabulary string and bytes."""
    if not isinstance(text, str):
        raise TypeError(f"token_spans needs a str, got {type(text).__name__}.")
    tokenizer = _tokenizer_of(lm_or_tokenizer)
    if text == "":
        return []
    encoding = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    ids, offsets = encoding["input_ids"], encoding["offset_mapping"]
    tokens = tokenizer.convert_ids_to_tokens(ids)
    spans = [
        TokenSpan(i, int(tid), tok, token_bytes(tokenizer, tid), int(start), int(end))
        for i, (tid, tok, (start, end)) in enumerate(zip(ids, tokens, offsets))
    ]
    # SentencePiece-style tokenizers (Llama 2, TinyLlama) put a '▁' before the first word that
    # is not in the text (the "dummy prefix"); it belongs to no character, so drop its byte.
    joined = b"".join(s.bytes for s in spans)
    if spans and joined == b" " + text.encode("utf-8") and spans[0].bytes.startswith(b" "):
        first = spans[0]
        spans[0] = TokenSpan(first.index, first.id, first.token, first.bytes[1:], first.start,
                             first.end)
    return spans


@dataclass(frozen=True)
class Piece:
    """Consecutive tokens whose bytes together decode to whole characters."""

    text: str
    token_ids: tuple[int, ...]
    token_indices: tuple[int, ...]   # positions of the member tokens in the token sequence

    @property
    def is_group(self) -> bool:
        """True when several tokens had to be glued to make readable characters."""
        return len(self.token_ids) > 1


def _piece(text: str, members: list[TokenSpan]) -> Piece:
    return Piece(text, tuple(s.id for s in members), tuple(s.index for s in members))


def readable_pieces(spans_or_source, text: str | None = None) -> list[Piece]:
    """Glue tokens until their bytes decode to whole characters.

    readable_pieces(spans) or readable_pieces(lm_or_tokenizer, text). A token that is already
    whole stays a piece of its own; '我' split into 'æĪ' + 'ĳ' becomes one piece with 2 ids.
    """
    if spans_or_source is None or isinstance(spans_or_source, str):
        raise TypeError("readable_pieces needs token spans (from token_spans(lm, text)) or "
                        "(lm, text): readable_pieces(lm, 'some text').")
    spans = token_spans(spans_or_source, text) if text is not None else list(spans_or_source)
    pieces: list[Piece] = []
    buffer, members = b"", []
    for span in spans:
        buffer += span.bytes
        members.append(span)
        if _is_whole_text(buffer):
            pieces.append(_piece(buffer.decode("utf-8"), members))
            buffer, members = b"", []
    if members:  # only possible for byte sequences that were never valid UTF-8
        pieces.append(_piece(show_bytes(buffer), members))
    return pieces


class TextCounts(NamedTuple):
    characters: int
    bytes: int
    tokens: int

    @property
    def bytes_per_token(self) -> float:
        return self.bytes / self.tokens if self.tokens else 0.0


def text_counts(lm_or_tokenizer, text: str) -> TextCounts:
    """How long `text` is in characters (Unicode code points), UTF-8 bytes and tokens."""
    tokenizer = _tokenizer_of(lm_or_tokenizer)
    n_tokens = len(tokenizer.encode(text, add_special_tokens=False)) if text else 0
    return TextCounts(len(text), len(text.encode("utf-8")), n_tokens)
