"""A recorded clock: one self-contained HTML file that replays a run, with no kernel and no network.

    save_trace(clock, "paris.html")     # the ticks a Clock has run
    snapshot_html(clock)                # the same player as an HTML fragment, for a notebook output

From a shell (helpers/trace_command.py runs a clock, then calls save_trace):

    python -m helpers trace --prompt "The capital of France is" --ticks 20 --out paris.html

The player (helpers/trace_player/: plain JavaScript + SVG, a few KiB) shows what the clock widget
shows, tick by tick: the text so far with the newest token marked, the next-token distribution
raw vs sampled-from with the chosen token marked, and the attention of the newest position per
layer and head. Step / Back / Play / a scrubber, and the arrow keys. A teacher can record a good
run before class and project it even if the kernel or the network fails. Every word and number
on it (status line, percentages, sizes, labels, which axis positions carry a label) comes in the
data, made by helpers.tick_view as the widget's are: the player only draws them.

Only what the player shows is stored: the top candidates of each tick (probabilities rounded to
4 decimals) and the newest position's attention row per layer and head, in thousandths as
16-bit integers, compressed (zlib) and base64-encoded. The file grows linearly with the ticks
(and with the context, for the attention): about 0.4 MiB for 50 ticks of SmolLM2 after a
six-token prompt.
"""

from __future__ import annotations

import base64
import html
import os
import tempfile
import zlib
from datetime import datetime, timezone
from pathlib import Path

import numpy as np

from .escaping import script_json
from .i18n import messages
from .attention import content_head
from .plots.attention_over_context import attention_title
from .plots.style import (
    CHOSEN_COLOR,
    FILTERED_COLOR,
    FONT_FAMILY,
    GENERATED_COLOR,
    MONO_FONT,
    NEW_TOKEN_COLOR,
    PALETTE,
    PROMPT_COLOR,
    RAW_COLOR,
    presenter_mode,
)
from .tick_view import (
    AXIS_LABEL_CHARS,
    PERCENT_AXIS,
    TITLE_TOKEN_CHARS,
    WEIGHT_AXIS,
    axis_percent,
    axis_weight,
    context_pieces,
    label_room,
    percent_label,
    readable_token,
    row_text,
    settings_text,
    short,
    thin_labels,
    tick_view,
)
from .tokens import VISIBLE_GLYPHS, visible

__all__ = ["trace_data", "player_html", "trace_html", "save_trace", "check_target",
           "snapshot_html", "TraceError"]

PLAYER_DIR = Path(__file__).resolve().parent / "trace_player"
_COLORS = {  # CSS variables of player.css: the widget's colours (helpers/plots/style.py)
    "--prompt-bg": PROMPT_COLOR,
    "--generated-bg": GENERATED_COLOR,
    "--new-bg": NEW_TOKEN_COLOR,
    "--chosen": CHOSEN_COLOR,
    "--raw": RAW_COLOR,
    "--filtered": FILTERED_COLOR,
    "--mean": PALETTE["orange"],
    "--focus": PALETTE["sky"],
    "--font": FONT_FAMILY,
    "--mono": MONO_FONT,
}


# The player's charts (player.js draws them from these numbers): px wide at normal and
# presenter sizes, the attention chart's margins, and its token labels' font size.
PLAYER_CHART = {"width": [600, 460], "left": 62, "right": 16, "label_px": 14}
_LABEL_ROOM = [label_room(width - PLAYER_CHART["left"] - PLAYER_CHART["right"],
                          PLAYER_CHART["label_px"]) for width in PLAYER_CHART["width"]]


class TraceError(ValueError):
    """Nothing to record, or a bad option; the message names the fix."""


def _prob(p: float | None) -> float | None:
    """Rounded for the file, but never to a false 0 (0% means 'cut by the sampling settings')."""
    if p is None:
        return None
    return max(round(float(p), 4), 0.0001) if p > 0 else 0.0


def trace_data(clock, title: str | None = None, start: str = "first", lang: str = "en") -> dict:
    """Everything the player shows, as plain JSON-able data (see the module docstring);
    lang: the language of every word on the player (helpers.i18n)."""
    t = messages(lang)
    if not clock.history:
        raise TraceError(
            "The clock has not ticked yet: run it first, e.g. clock.run(20), then save the trace."
        )
    if start not in ("first", "last"):
        raise TraceError(f"start must be 'first' or 'last', got {start!r}.")
    lm, tokenizer = clock.lm, clock.lm.tokenizer
    n_prompt, n_ticks = len(clock.prompt_ids), len(clock.history)
    ids = clock.ids[: n_prompt + n_ticks]
    tokens = clock.tokens[: n_prompt + n_ticks]
    # Per position: its text, byte fragments of a character shown as their bytes ('⟨e6 88⟩');
    # groups: runs of byte tokens that together make whole characters (drawn as one box).
    text = [readable_token(t, i, tokenizer) for t, i in zip(tokens, ids)]
    groups = [
        [pos[0], len(pos), piece]
        for pos, piece in context_pieces(tokens, ids, n_prompt, tokenizer)
        if len(pos) > 1
    ]
    ticks, attention, offset = [], [], 0
    for r in clock.history:
        view = tick_view(r, tokenizer, lang, context_ids=ids)
        att = np.rint(r.attention.float().numpy() * 1000).clip(0, 1000).astype("<u2")
        attention.append(att.reshape(-1))  # empty when the history dropped it (memory bound)
        reading = short(text[r.context_len - 1], TITLE_TOKEN_CHARS)
        ticks.append(
            {
                "status": view.status,
                "settings": view.settings,
                "p": view.p,
                # label, raw p, sampled-from p (bar lengths), token id, the three texts
                "rows": [
                    [row.label, _prob(row.raw), _prob(row.filtered), row.token_id,
                     percent_label(row.raw), percent_label(row.filtered), row_text(row, lang)]
                    for row in view.candidates
                ],
                "chosen_row": view.chosen_row,
                "context_len": r.context_len,
                "attention_offset": offset if r.has_attention else None,
                "attention_note": clock.attention_note(r),
                "attention_title": attention_title(0, None, compact=True, reading=reading,
                                                   lang=lang),
                # The positions the attention chart labels, at the player's two chart sizes.
                "labelled": [thin_labels(r.context_len, room) for room in _LABEL_ROOM],
            }
        )
        offset += att.size
    config = clock.history[0].config
    meta = t(
        "trace.meta", model=lm.name, n=n_ticks,
        when=f"{datetime.now(timezone.utc):%Y-%m-%d %H:%M}",
        mode=t("trace.mode_chat") if clock.chat else t("trace.mode_raw"), seed=clock.seed,
        settings=settings_text(config, lang, prefix=False),
    )
    return {
        "version": 1,
        "title": title or t("trace.title", prompt=repr(clock.prompt)),
        "lang": lang,
        # The player's own words, and the widget's for what both draw (charts, head names).
        "labels": {k: v for k, v in t.texts.items()
                   if k.startswith(("player.", "chart.", "head.", "text.", "button."))},
        "meta": meta,
        "model": lm.name,
        "n_layers": lm.n_layers,
        "n_heads": lm.n_heads,
        "n_prompt": n_prompt,
        # The widget's default view: the head that reads content, not the sink's mean.
        "layer": content_head(lm)[0],
        "head": content_head(lm)[1],
        "presenter": presenter_mode(),
        "start": start,
        "glyphs": VISIBLE_GLYPHS,
        "text": text,
        # Each position's label under the attention chart (normal, presenter), as the widget's.
        "axis_labels": [[short(visible(x), AXIS_LABEL_CHARS[on]) for x in text]
                        for on in (False, True)],
        "percent_axis": [[p, axis_percent(p)] for p in PERCENT_AXIS],
        "weight_axis": [[w, axis_weight(w)] for w in WEIGHT_AXIS],
        "chart": PLAYER_CHART,
        "ids": ids,
        "groups": groups,
        "ticks": ticks,
        "attention": _pack_attention(np.concatenate(attention)),
    }


def _pack_attention(values: np.ndarray) -> str:
    """uint16 thousandths -> high bytes, then low bytes (each half compresses well: most weights
    are small) -> zlib -> base64. The player undoes it with the browser's DecompressionStream."""
    split = np.concatenate([values >> 8, values & 0xFF]).astype(np.uint8)
    return base64.b64encode(zlib.compress(split.tobytes(), 9)).decode("ascii")


def player_html(data: dict) -> str:
    """An HTML fragment: one player with its data, CSS and JavaScript inline."""
    css = (PLAYER_DIR / "player.css").read_text(encoding="utf-8")
    js = (PLAYER_DIR / "player.js").read_text(encoding="utf-8")
    colors = "".join(f"{k}:{v};" for k, v in _COLORS.items())
    return (
        f"<style>.llmclock-trace{{{colors}}}\n{css}</style>\n"
        f"<div class='llmclock-trace' tabindex='0'>"
        f"<script type='application/json' class='llmclock-trace-data'>{script_json(data)}"
        "</script></div>\n"
        f"<script>{js}</script>"
    )


def trace_html(clock, title: str | None = None, lang: str = "en") -> str:
    """A whole HTML page replaying the clock's recorded ticks (its words in `lang`)."""
    data = trace_data(clock, title, lang=lang)
    page_lang = "zh-Hans" if lang == "zh" else "en"
    return (
        f"<!DOCTYPE html>\n<html lang='{page_lang}'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{html.escape(data['title'])}</title></head>\n"
        f"<body style='margin:0'>\n{player_html(data)}\n</body></html>\n"
    )


def save_trace(
    clock, path, title: str | None = None, overwrite: bool = True, lang: str = "en"
) -> Path:
    """Write the clock's recorded ticks to one self-contained HTML file; returns its path.

    The page goes to a temporary file in the same folder, which is then renamed to `path`: a
    failed write leaves an earlier file as it was. A symbolic link at `path` is refused (never
    written through), and overwrite=False refuses any existing file (the CLI without --force).
    """
    path = Path(path)
    page = trace_html(clock, title, lang)
    check_target(path, overwrite)
    _write_atomically(path, page.encode("utf-8"), overwrite)
    return path


def check_target(path: Path, overwrite: bool) -> None:
    """TraceError unless a trace may be written at `path` (a new file, or with `overwrite` an
    existing regular file; never a link or a folder). save_trace checks it; the command line
    checks it before loading a model."""
    if path.is_symlink():
        raise TraceError(f"{path} is a symbolic link: give the path of a file itself "
                         f"(a trace is never written through a link).")
    if path.is_dir():
        raise TraceError(f"{path} is a folder: give a file name, e.g. {path / 'trace.html'}.")
    if path.exists() and not path.is_file():
        raise TraceError(f"{path} is not a regular file: choose another path.")
    if path.exists() and not overwrite:
        raise TraceError(f"{path} already exists: choose another name, or overwrite it "
                         f"(--force; from Python, overwrite=True).")


def _write_atomically(path: Path, data: bytes, overwrite: bool) -> None:
    """data -> a temporary file beside `path` -> renamed to `path` (or, without overwrite,
    hard-linked there, which fails if a file appeared meanwhile)."""
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a trace is a page to share
        if overwrite:
            os.replace(tmp, path)  # replaces a link itself, never its target
        else:
            try:
                os.link(tmp, path)
            except FileExistsError:
                raise TraceError(f"{path} already exists: choose another name, or overwrite "
                                 f"it (--force; from Python, overwrite=True).") from None
    finally:
        if os.path.lexists(tmp):
            os.unlink(tmp)


def snapshot_html(clock, lang: str = "en") -> str:
    """The player as a fragment for a notebook output (e.g. the clock widget's static fallback,
    the HTML edition), opened at the newest tick; a note when nothing has run yet."""
    if not clock.history:
        note = html.escape(messages(lang)("trace.nothing_recorded"))
        return f"<div class='llmclock-trace-empty'>{note}</div>"
    return player_html(trace_data(clock, start="last", lang=lang))
