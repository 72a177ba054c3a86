"""One presentation of a tick: every word and number the clock widget, the recorded clock
(helpers.trace) and the tick table show for a tick, made here and only here, so the three
always agree (tests/test_tick_view.py compares them).

    from helpers.tick_view import tick_view, percent_label, byte_size, thin_labels
    view = tick_view(clock.history[3], lm, lang="en", context_ids=clock.ids)
    view.status          # "tick 3 · decode · chose '·Paris' 77.0% (raw 60.1%) · surprisal
                         #  0.74 bits · KV 9 pos, 3.4 KiB · 12+0.4 ms"
    view.candidates      # rows of the distribution: label, raw and sampled-from p, chosen, forced
    percent_label(0.0004)            # '<0.1%'  (0.0 -> '0%': cut by the sampling settings)
    byte_size(3 * 2**20)             # '3.0 MiB' (binary units everywhere: B, KiB, MiB, GiB)
    thin_labels(100, room=30)        # the positions an axis labels: every 4th, the last always

What it owns:
- the text pieces: a token's readable text (`readable_token`: a byte fragment of a character
  as its bytes, '⟨e6 88⟩'), and runs of byte tokens glued into the characters they make
  together (`context_pieces`: 我 = ⟨e6 88⟩ + ⟨91⟩);
- the formats: percentages, byte sizes, milliseconds, bits;
- label thinning: which positions of an axis get a label (`thin_labels`, one rule for every
  chart: the plotly figures, the widget's SVG and the recorded clock's player);
- the candidate list of a tick (`distribution_rows`), with the chosen token and a forced one
  marked;
- the status line of a tick, in the language `lang` (words from helpers/messages/).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Iterable, Protocol, Sequence

from .i18n import messages
from .tokens import show_bytes, token_bytes, visible

__all__ = [
    "pending_bytes", "readable_token", "token_label", "context_pieces", "short",
    "AXIS_LABEL_CHARS", "TITLE_TOKEN_CHARS",
    "percent_label", "byte_size", "milliseconds", "thin_labels", "label_room", "PERCENT_AXIS",
    "WEIGHT_AXIS", "axis_percent", "axis_weight",
    "CandidateLike", "DistributionRow", "distribution_rows", "row_label", "row_text",
    "choice_label", "chosen_tuple",
    "settings_text", "TickView", "tick_view",
]

_REPLACEMENT = "\ufffd"

# --------------------------------------------------------------------------- token text


def pending_bytes(tokenizer, ids: Sequence[int]) -> bytes:
    """The bytes of an unfinished character at the end of `ids` (b'' when the text ends whole):
    what the next token's bytes would complete (我 = e6 88 91: after ⟨e6 88⟩, b'\xe6\x88')."""
    tail = b""
    for token_id in list(ids)[-4:]:
        try:
            tail += token_bytes(tokenizer, token_id)
        except ValueError:
            tail = b""
    tail = tail[-4:]
    for back in range(1, min(4, len(tail)) + 1):
        lead = tail[-back]
        if lead < 0x80:
            return b""
        if lead >= 0xC0:  # a lead byte: how long its character is
            need = 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
            return tail[-back:] if back < need else b""
    return b""


def readable_token(
    text: str, token_id: int | None = None, tokenizer=None, pending: bytes = b""
) -> str:
    """The token's text, or its bytes in hex ('⟨e6 88⟩') when it is only part of a character;
    with `pending` (the unfinished character before it, see pending_bytes), a fragment that
    completes a character also names it: '⟨91⟩→我'.

    Decoding a byte fragment of 我 alone gives '�'; several different fragments would all look
    the same, so with the tokenizer at hand we show the bytes instead.
    """
    if _REPLACEMENT in text and tokenizer is not None and token_id is not None:
        try:
            data = token_bytes(tokenizer, token_id)
            shown = show_bytes(data)
        except ValueError:
            return text
        if pending and data and all(0x80 <= b < 0xC0 for b in data[:1]):
            try:
                whole = (pending + data).decode("utf-8")
            except UnicodeDecodeError:
                whole = ""
            if whole:
                shown = f"{shown}→{whole}"
        # A thin space between the hex bytes, so that `visible` does not draw it as a '·' space.
        return re.sub(r"⟨[^⟩]*⟩", lambda m: m.group(0).replace(" ", "\u2009"), shown)
    return text


def token_label(text: str, token_id: int | None = None, tokenizer=None,
                pending: bytes = b"") -> str:
    """A token as every label shows it: readable_token with whitespace drawn (' Paris' ->
    '·Paris')."""
    return visible(readable_token(text, token_id, tokenizer, pending))


def context_pieces(
    tokens: Sequence[str], token_ids: Sequence[int] | None, n_prompt: int, tokenizer
) -> list[tuple[list[int], str]]:
    """Runs of positions drawn as one box: a single token, or several byte tokens that only
    together make whole characters (我 = ⟨e6 88⟩ + ⟨91⟩). Bytes of an unfinished character
    (a tick can stop mid-character) stay separate, shown in hex."""
    if tokenizer is None or token_ids is None:
        return [([pos], text) for pos, text in enumerate(tokens)]
    pieces: list[tuple[list[int], str]] = []
    members: list[int] = []
    buffer = b""

    def flush_fragments() -> None:
        for pos in members:
            pieces.append(([pos], readable_token(tokens[pos], token_ids[pos], tokenizer)))
        members.clear()

    for pos, text in enumerate(tokens):
        if members and (pos == n_prompt or _REPLACEMENT not in text):
            flush_fragments()  # never glue across the prompt's end, nor onto a whole token
            buffer = b""
        if not members and _REPLACEMENT not in text:
            pieces.append(([pos], text))
            continue
        members.append(pos)
        try:
            buffer += token_bytes(tokenizer, token_ids[pos])
            whole = buffer.decode("utf-8")
        except (ValueError, UnicodeDecodeError):
            continue
        pieces.append((list(members), whole))
        members.clear()
        buffer = b""
    flush_fragments()
    return pieces


def short(label: str, max_chars: int) -> str:
    """A label cut to max_chars characters, the cut marked '…'."""
    return label if len(label) <= max_chars else label[: max_chars - 1] + "…"


# Token labels under an attention chart are rotated: their length comes off the plot's height,
# so they are cut shorter at the presenter's larger font (key: presenter mode on).
AXIS_LABEL_CHARS = {False: 8, True: 6}
# The token named in an attention chart's title ("Where '·Paris', read at this tick, looked").
TITLE_TOKEN_CHARS = 14


# --------------------------------------------------------------------------- formats


def percent_label(p: float | None) -> str:
    """A probability as every label shows it: 77.3%, 100%, <0.1%, 0% (cut by the sampler)."""
    if p is None:
        return ""
    if p == 0.0:
        return "0%"
    if p >= 0.9995:
        return "100%"
    return f"{p:.1%}" if p >= 0.001 else "<0.1%"


def byte_size(n: int | float) -> str:
    """A size in bytes, in binary units (1 KiB = 1024 bytes): '512 B', '3.4 KiB', '46.0 KiB',
    '256 MiB', '1.0 GiB' (one decimal below 100 of a unit)."""
    value, unit = float(n), "B"
    for bigger in ("KiB", "MiB", "GiB", "TiB"):
        if value < 1024:
            break
        value, unit = value / 1024, bigger
    if unit == "B":
        return f"{int(n)} B"
    return f"{value:.1f} {unit}" if value < 100 else f"{value:.0f} {unit}"


def milliseconds(ms: float) -> str:
    """A duration in ms, as a number: '12', '0.4' (one decimal below 10 ms)."""
    return f"{ms:.1f}" if ms < 9.95 else f"{ms:.0f}"


# --------------------------------------------------------------------------- axes

# The gridlines of the distribution chart (a fixed 0-100% axis: ticks stay comparable) and of
# the attention chart (weights 0-1), with their labels.
PERCENT_AXIS = (0.0, 0.5, 1.0)
WEIGHT_AXIS = (0.0, 0.5, 1.0)


def axis_percent(p: float) -> str:
    """A gridline's label on a probability axis: '0%', '50%', '100%'."""
    return f"{p:.0%}"


def axis_weight(w: float) -> str:
    """A gridline's label on an attention-weight axis: '0', '0.5', '1', '0.25'."""
    return f"{w:.2g}"


# A label along an axis needs about 1.35 times its font size, so that neighbours do not touch.
LABEL_SPACING = 1.35


def label_room(axis_px: float, font_px: float) -> int:
    """How many labels of font_px fit along axis_px without overlapping (at least 1)."""
    return max(1, int(axis_px // (font_px * LABEL_SPACING)))


def thin_labels(n: int, room: int) -> list[int]:
    """The positions (0..n-1) an axis labels when only `room` labels fit: every k-th one from
    the first (k = ceil(n / room)), and the last (the newest token) always, dropping a regular
    label that would sit closer than k positions to it."""
    if n <= 0:
        return []
    step = max(1, math.ceil(n / max(1, room)))
    return [k for k in range(0, n, step) if n - 1 - k >= step] + [n - 1]


# --------------------------------------------------------------------------- candidates


class CandidateLike(Protocol):
    token_id: int
    text: str
    prob: float


@dataclass(frozen=True)
class DistributionRow:
    token_id: int
    label: str  # visible token text, e.g. '·Paris'
    raw: float | None  # None: not among the raw top candidates we were given
    filtered: float | None
    chosen: bool = False  # the token this tick took
    forced: bool = False  # ... and it was forced, not drawn by the sampler


def distribution_rows(
    top_raw: Iterable[CandidateLike],
    top_filtered: Iterable[CandidateLike],
    chosen: tuple[int, str, float | None, float | None] | None = None,
    tokenizer=None,
    pending: bytes = b"",
    forced: bool = False,
) -> list[DistributionRow]:
    """Merge the two top lists into rows sorted by raw probability (highest first).

    A token among the raw top but missing from the filtered list gets filtered=0 when the
    filtered list is complete (shorter than the raw one, or showing zeros); otherwise its
    filtered probability is unknown (None, no bar). `chosen`
    (id, text, raw prob, filtered prob) marks the chosen token's row (forced: it was forced)
    and adds one for a chosen token outside both lists.
    With `tokenizer`, byte fragments ('�') are labelled with their bytes ('⟨e6 88⟩'), and
    with `pending` (pending_bytes of the context) a fragment that completes the unfinished
    character before it also names it ('⟨91⟩→我').
    """
    raw = {c.token_id: c for c in top_raw}
    filt = {c.token_id: c for c in top_filtered}
    chosen_id = None if chosen is None else chosen[0]
    # top_candidates leaves zeros out, so a filtered list shorter than the raw one holds every
    # token the sampler can still pick: any other token was cut (probability 0).
    filtered_complete = (
        not filt or len(filt) < len(raw) or any(c.prob == 0.0 for c in filt.values())
    )
    # Zero-probability fillers of the filtered list (top-k of a mostly-zero vector) are not rows.
    ids = list(raw) + [i for i, c in filt.items() if i not in raw and c.prob > 0.0]
    rows = []

    def row(token_id: int, text: str, raw_p, filt_p) -> DistributionRow:
        is_chosen = token_id == chosen_id
        return DistributionRow(token_id, token_label(text, token_id, tokenizer, pending),
                               raw_p, filt_p, is_chosen, is_chosen and forced)

    for token_id in ids:
        cand = raw.get(token_id) or filt[token_id]
        raw_p = float(raw[token_id].prob) if token_id in raw else None
        if token_id in filt:
            filt_p: float | None = float(filt[token_id].prob)
        else:
            # The filtered list holds every token with p > 0 when it already shows zeros.
            filt_p = 0.0 if filtered_complete else None
        rows.append(row(token_id, cand.text, raw_p, filt_p))
    if chosen is not None and chosen[0] not in raw and chosen[0] not in filt:
        rows.append(row(*chosen))
    # Sort by raw probability; rows only in the filtered list follow, by filtered probability.
    rows.sort(key=lambda r: (r.raw is None, -(r.raw if r.raw is not None else (r.filtered or 0.0))))
    return rows


def row_label(raw: float | None, filtered: float | None) -> str:
    """One label per row: 'raw → sampled-from', or one number when equal, or only the raw one
    when the sampler cut the token (no blue bar says it: ten '→ 0%' under greedy bars would
    only repeat that)."""
    if raw is not None and filtered == 0.0:
        return percent_label(raw)
    if raw is not None and filtered is not None and percent_label(raw) != percent_label(filtered):
        return f"{percent_label(raw)} → {percent_label(filtered)}"
    return percent_label(raw if raw is not None else filtered)


def row_text(row: DistributionRow, lang: str = "en") -> str:
    """The numbers beside a row of the distribution chart (widget and recorded clock alike):
    row_label, and ' · forced' on a forced token's row."""
    forced = f" · {messages(lang)('text.forced')}" if row.forced else ""
    return row_label(row.raw, row.filtered) + forced


def choice_label(row: DistributionRow) -> str:
    """A candidate as the Force dropdown lists it: '·Paris  60.1% → 77.0%' (raw → sampled-from;
    a token outside a list counts as 0% there)."""
    return f"{row.label}  {percent_label(row.raw or 0.0)} → {percent_label(row.filtered or 0.0)}"


def chosen_tuple(chosen_id, chosen_probs):
    """The chosen token as distribution_rows takes it, (id, text, raw p, sampled-from p), or
    None when nothing was chosen."""
    if chosen_id is None or chosen_probs is None:
        return None
    text, raw_p, filt_p = chosen_probs
    return (chosen_id, text, raw_p, filt_p)


# --------------------------------------------------------------------------- one tick


def _settings_parts(config, lang: str = "en") -> str:
    """The sampling settings in words, e.g. 'temperature 0.7 · top-k 50 · top-p off ...'."""
    t = messages(lang)
    if config.is_greedy:
        head = t("trace.greedy")
    else:
        head = t("trace.temperature", value=f"{config.temperature:g}")

    def setting(key: str, on: bool, value) -> str:
        return t(f"trace.{key}", value=value) if on else t(f"trace.{key}_off")

    parts = [
        head,
        setting("top_k", bool(config.top_k), config.top_k),
        setting("top_p", config.top_p < 1, f"{config.top_p:g}"),
        setting("min_p", config.min_p > 0, f"{config.min_p:g}"),
        setting("repetition_penalty", config.repetition_penalty != 1,
                f"{config.repetition_penalty:g}"),
    ]
    return " · ".join(parts)


def settings_text(config, lang: str = "en", prefix: bool = True) -> str:
    """'sampling at this tick: temperature 0.7 · top-k off · ...' (in the language `lang`;
    prefix=False: the settings alone)."""
    parts = _settings_parts(config, lang)
    return messages(lang)("trace.settings", settings=parts) if prefix else parts


@dataclass(frozen=True)
class TickView:
    """One tick's words and numbers, formatted (see tick_view). The status line is
    `status` (`status_line(short=True)`: the presenter's shorter one)."""

    index: int
    lang: str
    phase: str  # 'decode', 'prefill', 'prefill in 2 passes'
    token: str  # the chosen token's label, '·Paris' (a completing fragment: '⟨91⟩→我')
    p: str  # its probability in the sampled-from distribution, '77.0%'
    raw_p: str  # ... and in the model's (raw), '60.1%'
    forced: bool
    surprisal: str  # '0.74 bits'
    entropy: str  # '1.20 bits'
    kv: str  # the KV cache: '9 pos, 3.4 KiB'
    kv_positions: int
    ms: str  # forward + sampling time: '12+0.4 ms'
    stop: str  # 'stopped: end of text', or ''
    settings: str  # 'sampling at this tick: temperature 0.7 · ...'
    read: str  # '1 new, 9 in context'
    candidates: tuple[DistributionRow, ...]
    surprisal_short: str  # '0.7 bits' (presenter)

    @property
    def chose(self) -> str:
        t = messages(self.lang)
        return (t("status.chose", token=self.token, p=self.p, raw=self.raw_p)
                + (t("status.forced") if self.forced else ""))

    def status_line(self, short: bool = False, history: tuple[int, int] | None = None) -> str:
        """The status line; short: the presenter's (projector sizes: it still fits one line);
        history=(i, n): the tick is i of n recorded ones, not the newest (said first)."""
        t = messages(self.lang)
        parts = [
            t("status.tick", index=self.index),
            self.phase,
            self.chose,
            self.surprisal_short if short else t("status.surprisal", bits=self.surprisal),
            t("status.kv_short", n=self.kv_positions) if short else t("status.kv", kv=self.kv),
            self.ms,
        ]
        if history is not None:
            parts.insert(0, t("status.history", i=history[0], n=history[1]))
        if self.stop:
            parts.append(self.stop)
        return " · ".join(parts)

    @property
    def status(self) -> str:
        return self.status_line()

    @property
    def chosen_row(self) -> int | None:
        return next((i for i, r in enumerate(self.candidates) if r.chosen), None)

    def runners_up(self, n: int = 3) -> list[DistributionRow]:
        """The n likeliest other candidates (by raw probability)."""
        return [r for r in self.candidates if not r.chosen and r.raw is not None][:n]


def tick_view(record, tokenizer=None, lang: str = "en",
              context_ids: Sequence[int] | None = None) -> TickView:
    """The words and numbers of one tick (a helpers.clock.TickRecord) in the language `lang`.

    tokenizer (or the LoadedModel): byte fragments labelled by their bytes; context_ids (the
    clock's ids; the first record.context_len are read): a fragment that completes the
    character before it also names it ('⟨91⟩→我')."""
    t = messages(lang)
    pending = b""
    if tokenizer is not None and context_ids is not None:
        pending = pending_bytes(tokenizer, list(context_ids)[: record.context_len])
    phase = t(f"phase.{record.phase}")
    if record.passes > 1:
        phase = t("status.passes", phase=phase, n=record.passes)
    stop = ""
    if record.stop_reason:
        stop = t("status.stopped", reason=t.get(f"stop.{record.stop_reason}", record.stop_reason))
    fed = record.context_len if record.phase == "prefill" else 1
    rows = distribution_rows(
        record.top_raw, record.top_filtered,
        (record.token_id, record.token_text, record.raw_prob, record.prob),
        tokenizer, pending, forced=record.forced,
    )
    return TickView(
        index=record.index,
        lang=lang,
        phase=phase,
        token=token_label(record.token_text, record.token_id, tokenizer, pending),
        p=percent_label(record.prob),
        raw_p=percent_label(record.raw_prob),
        forced=bool(record.forced),
        surprisal=t("status.bits", bits=f"{record.surprisal_bits:.2f}"),
        surprisal_short=t("status.bits", bits=f"{record.surprisal_bits:.1f}"),
        entropy=t("status.bits", bits=f"{record.entropy_bits:.2f}"),
        kv=t("tick.kv", n=record.kv_cache_len, size=byte_size(record.kv_cache_bytes)),
        kv_positions=record.kv_cache_len,
        ms=t("status.ms", forward=milliseconds(record.forward_ms),
             sampling=milliseconds(record.sampling_ms)),
        stop=stop,
        settings=settings_text(record.config, lang),
        read=t("tick.read", fed=fed, n=record.context_len),
        candidates=tuple(rows),
    )
