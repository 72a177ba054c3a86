"""The text so far as HTML, and where the newest token looked in it.

    HTML(context_html(clock.tokens, len(clock.prompt_ids), token_ids=clock.ids))
    attention_over_context_figure(record.attention, clock.tokens, layer=5, head=2)

`context_html` sets the prompt apart (blue background), the generated tokens (orange) and
the newest token (bold, strong orange); each token is its own box, so the token boundaries
are visible, and whitespace is drawn as faint glyphs (· for a space, ↵ plus a real line
break for a newline) so the text stays readable. Hovering a token shows its position, id and
probability.
"""

from __future__ import annotations

import html
import re
from typing import Sequence

import plotly.graph_objects as go

from ..i18n import messages
from ..tokens import show_bytes, token_bytes, visible
from .style import (
    FILTERED_COLOR,
    GENERATED_COLOR,
    NEW_TOKEN_COLOR,
    PALETTE,
    PROMPT_COLOR,
    base_layout,
    font_size,
)

__all__ = [
    "readable_token",
    "context_pieces",
    "MONO_FONT",
    "pending_bytes",
    "context_html",
    "token_span_html",
    "attention_over_context_figure",
    "update_attention_over_context_figure",
    "tick_table_html",
    "attention_over_ticks_figure",
]

_WHITESPACE_COLOR = "#9a9a9a"
_REPLACEMENT = "\ufffd"


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


def _visible_html(text: str) -> str:
    """Token text as HTML: whitespace as faint glyphs, a newline also breaks the line."""
    if text == "":
        return "<span style='opacity:0.5'>∅</span>"
    parts = []
    for ch in text:
        if ch in " \t\r\n":
            # Faded, not grey: stays visible on every background (including the newest token's).
            parts.append(f"<span style='opacity:0.5'>{visible(ch)}</span>")
            if ch == "\n":
                parts.append("<br>")
        else:
            parts.append(html.escape(ch))
    return "".join(parts)


def token_span_html(
    text: str,
    background: str,
    title: str = "",
    bold: bool = False,
    css_class: str = "",
    n_tokens: int = 1,
    reading: bool = False,
    forced: bool = False,
) -> str:
    """One token (or one character made of n_tokens byte tokens, underlined) as an inline box;
    <wbr> after it lets long text wrap between tokens. reading: the token the model reads at
    this tick (a dashed blue frame); forced: chosen by force, not by the sampler (a wavy
    vermillion underline)."""
    weight = "font-weight:700;" if bold else ""
    outline = f"outline:2px solid {PALETTE['vermillion']};" if bold else ""
    if reading:
        outline = f"outline:2px dashed {FILTERED_COLOR};outline-offset:1px;"
    group = "text-decoration:underline dotted;text-underline-offset:4px;" if n_tokens > 1 else ""
    if forced:
        group = (f"text-decoration:underline wavy {PALETTE['vermillion']};"
                 "text-underline-offset:4px;")
    cls = f" class='{css_class}'" if css_class else ""
    return (
        f"<span{cls} data-tokens='{n_tokens}' title='{html.escape(title, quote=True)}' "
        f"style='background:{background};{weight}{outline}{group}border-radius:3px;"
        "padding:1px 1px;margin:0 1px;'>"
        f"{_visible_html(text)}</span><wbr>"
    )


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


def _cost(text: str, line_chars: int) -> float:
    """Room a token box takes, in characters: its text plus its frame; a newline ends the line."""
    return len(text) + 0.6 + text.count("\n") * line_chars


def _elide(pieces: list, fit: tuple[int, int]) -> tuple[list, list, int]:
    """(head, tail, positions left out): the start of the text and its end within `fit`
    (lines, characters per line), the middle left out. Everything when it fits."""
    lines, line_chars = fit
    budget = lines * line_chars
    costs = [_cost(text, line_chars) for _, text in pieces]
    if sum(costs) <= budget:
        return pieces, [], 0
    budget -= 12  # the '… 123 tokens …' box
    head_budget = min(budget / 3, line_chars * 0.8)  # the prompt's start: under one line
    head, used = [], 0.0
    for piece, cost in zip(pieces, costs):
        if used + cost > head_budget and head:
            break
        head.append(piece)
        used += cost
    tail, used_tail = [], 0.0
    for piece, cost in zip(reversed(pieces[len(head):]), reversed(costs[len(head):])):
        if used + used_tail + cost > budget and tail:
            break
        tail.insert(0, piece)
        used_tail += cost
    left_out = sum(len(p) for p, _ in pieces[len(head): len(pieces) - len(tail)])
    return head, tail, left_out


def context_html(
    tokens: Sequence[str],
    n_prompt: int,
    token_ids: Sequence[int] | None = None,
    probs: Sequence[float | None] | None = None,
    highlight_newest: bool = True,
    font_px: int | None = None,
    tokenizer=None,
    reading: int | None = None,
    forced: Sequence[int] = (),
    fit: tuple[int, int] | None = None,
    legend: bool = True,
    lang: str = "en",
) -> str:
    """The text so far: prompt tokens, then generated ones, the newest highlighted.

    tokens: decoded text of every position (prompt first); n_prompt: how many are prompt.
    token_ids / probs: optional, same length as tokens, shown when hovering a token (probs of
    prompt positions are ignored: the prompt was given, not chosen).
    tokenizer (or the LoadedModel), with token_ids: byte tokens that together make a character
    are drawn as that character, underlined, instead of as '�' pieces.
    reading: the position the model reads at this tick (framed in dashed blue); forced:
    positions chosen by force (wavy underline).
    fit=(lines, characters per line): when the text is longer, its middle is left out
    ('… 40 tokens …') so that the prompt's start and the newest token both stay in view.
    lang: the language of the legend and the hover texts (helpers.i18n).
    """
    t = messages(lang)
    size = font_px or font_size("body") + 2
    spans = []
    last = len(tokens) - 1
    forced = set(forced)
    pieces = context_pieces(tokens, token_ids, n_prompt, tokenizer)
    head, tail, left_out = _elide(pieces, fit) if fit else (pieces, [], 0)
    for piece in head + [None] + tail:
        if piece is None:
            if left_out:
                spans.append(
                    f"<span class='llmclock-elided' title='{html.escape(t('text.elided_tip'))}' "
                    f"style='color:#555;font-style:italic;margin:0 4px'>"
                    f"{html.escape(t('text.elided', n=left_out))}</span><wbr>"
                )
            continue
        positions, text = piece
        first = positions[0]
        is_prompt = first < n_prompt
        newest = highlight_newest and last in positions and not is_prompt
        is_reading = reading is not None and reading in positions
        is_forced = any(p in forced for p in positions)
        where = (t("text.position", pos=first) if len(positions) == 1
                 else t("text.positions", first=first, last=positions[-1]))
        title = where + (t("text.prompt_mark") if is_prompt else "")
        if token_ids is not None:
            title += " · id " + ", ".join(str(token_ids[p]) for p in positions)
        if len(positions) > 1:
            title += t("text.one_character", n=len(positions))
        if probs is not None and not is_prompt:
            shown = [f"{probs[p]:.1%}" for p in positions if probs[p] is not None]
            if shown:
                title += " · p = " + ", ".join(shown)
        if is_forced:
            title += t("text.forced_mark")
        if is_reading:
            title += t("text.reading_mark")
        background = NEW_TOKEN_COLOR if newest else (PROMPT_COLOR if is_prompt else GENERATED_COLOR)
        css = (
            "llmclock-new-token"
            if newest
            else ("llmclock-prompt-token" if is_prompt else "llmclock-generated-token")
        )
        # The marks first: the kind of token stays the last class (tests match on it).
        css = "llmclock-reading-token " * is_reading + "llmclock-forced-token " * is_forced + css
        spans.append(
            token_span_html(
                text, background, title, bold=newest, css_class=css, n_tokens=len(positions),
                reading=is_reading, forced=is_forced,
            )
        )
    if not tokens:
        spans.append(f"<span style='color:{_WHITESPACE_COLOR}'>{t('text.no_text')}</span>")
    key = ""
    if legend:
        box = "padding:0 4px;border-radius:3px"
        marks = []
        if reading is not None:
            marks.append(f"<span style='outline:2px dashed {FILTERED_COLOR};{box}'>"
                         f"{t('text.read')}</span>")
        if forced:
            marks.append(f"<span style='text-decoration:underline wavy {PALETTE['vermillion']};"
                         f"{box}'>{t('text.forced')}</span>")
        if tokenizer is not None and any(len(p) > 1 for p, _ in pieces):
            marks.append("<span style='text-decoration:underline dotted'>"
                         f"{t('text.byte_tokens')}</span>")
        key = (
            f"<div class='llmclock-legend' style='font-size:{max(size - 4, 13)}px;color:#555;"
            "line-height:1.5;margin-bottom:2px;white-space:nowrap;overflow:hidden'>"
            f"<span style='background:{PROMPT_COLOR};{box}'>{t('text.prompt')}</span> "
            f"<span style='background:{GENERATED_COLOR};{box}'>{t('text.generated')}</span> "
            f"<span style='background:{NEW_TOKEN_COLOR};{box};font-weight:700'>"
            f"{t('text.newest')}</span> "
            + " ".join(marks)
            + f" &nbsp;·&nbsp;{t('text.space')} ↵&nbsp;{t('text.new_line')}</div>"
        )
    return (
        f"<div class='llmclock-context' style='font-family:{MONO_FONT};font-size:{size}px;"
        "line-height:1.75;"
        f"white-space:normal;word-break:break-word'>{key}{''.join(spans)}</div>"
    )


# Double quotes inside: the HTML attributes around it use single quotes.
MONO_FONT = '"JetBrains Mono", "DejaVu Sans Mono", "Noto Sans Mono CJK SC", monospace'


# --- attention of the newest token over the context ---------------------------------------


def attention_weights_of(attention, tokens: Sequence[str], layer: int, head: int | None):
    """The newest position's attention over the context: (weights of one head, or the mean
    over heads; the mean over heads; the visible token label of each position), as lists."""
    import torch

    att = torch.as_tensor(attention).float()  # [n_layers, n_heads, context_len]
    n_layers, n_heads, context_len = att.shape
    if not 0 <= layer < n_layers:
        raise ValueError(f"layer must be in 0..{n_layers - 1}, got {layer}")
    if head is not None and not 0 <= head < n_heads:
        raise ValueError(
            f"head must be in 0..{n_heads - 1} (or None for the mean over heads), got {head}"
        )
    mean = att[layer].mean(dim=0)
    chosen = mean if head is None else att[layer, head]
    labels = [visible(t) for t in list(tokens)[:context_len]]
    labels += ["?"] * (context_len - len(labels))
    return chosen.tolist(), mean.tolist(), labels


def _attention_arrays(attention, tokens: Sequence[str], layer: int, head: int | None):
    """Rows of the figure: weights of one head (or the mean) and the mean over heads."""
    chosen, mean, labels = attention_weights_of(attention, tokens, layer, head)
    context_len = len(chosen)
    # Label every position while they fit; beyond ~48 labels they would overlap.
    step = max(1, -(-context_len // 48))
    tickvals = list(range(0, context_len, step))
    if context_len - 1 not in tickvals:
        tickvals.append(context_len - 1)
    ticktext = [html.escape(labels[i]) for i in tickvals]
    ticktext[-1] = f"<b>{ticktext[-1]}</b>"  # the query: the newest input position
    x = list(range(context_len))
    customdata = [html.escape(lb) for lb in labels]
    return x, chosen, mean, tickvals, ticktext, customdata


def attention_title(
    layer: int, head: int | None, compact: bool = False, reading: str | None = None,
    lang: str = "en",
) -> str:
    """The title of an attention-over-the-context chart (`compact`: one line, for the widget,
    naming the token read at this tick when `reading` is given)."""
    which = "mean over heads" if head is None else f"head {head}"
    if compact:
        t = messages(lang)
        if reading is None:
            return t("chart.attention")
        return t("chart.attention_reading", token=visible(reading))
    return (
        f"Where the newest position looks<br><sup>attention weights, layer {layer}, {which}</sup>"
    )


def attention_over_context_figure(
    attention,
    tokens: Sequence[str],
    layer: int = 0,
    head: int | None = None,
    title: str | None = None,
    height: int | None = None,
) -> go.Figure:
    """Bars: attention weight of the newest input position on each context position.

    attention: [n_layers, n_heads, context_len] (TickRecord.attention); tokens: decoded text of
    the context positions (extra trailing tokens are ignored). head=None shows the mean over
    heads; otherwise the head's bars plus the mean over heads as a grey line for comparison.
    height in px (360). (The clock widget draws its chart as SVG: plots.svg.attention_svg.)
    """
    x, chosen, mean, tickvals, ticktext, customdata = _attention_arrays(
        attention, tokens, layer, head
    )
    hover = "position %{x}: %{customdata}<br>%{fullData.name}: %{y:.3f}<extra></extra>"
    traces = [
        go.Bar(
            x=x,
            y=chosen,
            name="this head" if head is not None else "mean over heads",
            marker_color=FILTERED_COLOR,
            customdata=customdata,
            hovertemplate=hover,
        ),
        go.Scatter(
            x=x,
            y=mean,
            name="mean over heads",
            mode="lines+markers",
            visible=head is not None,
            line=dict(color=PALETTE["orange"], width=2),
            marker=dict(size=6),
            customdata=customdata,
            hovertemplate=hover,
        ),
    ]
    layout = base_layout(
        title or attention_title(layer, head),
        xaxis_title="context position (token)",
        yaxis_title="attention weight",
        height=height or 360,
        legend=dict(orientation="h", x=1.0, y=1.0, yanchor="bottom", xanchor="right"),
    )
    layout["xaxis"].update(
        tickmode="array",
        tickvals=tickvals,
        ticktext=ticktext,
        tickangle=-50,
        tickfont=dict(size=font_size("small")),
    )
    layout["yaxis"].update(range=[0, 1.02], rangemode="tozero")
    layout["margin"] = dict(l=70, r=30, t=80, b=90)
    return go.Figure(data=traces, layout=layout)


def update_attention_over_context_figure(
    fig: go.Figure, attention, tokens: Sequence[str], layer: int, head: int | None = None
) -> None:
    """Show another tick, layer or head in a figure made by `attention_over_context_figure`,
    in place."""
    x, chosen, mean, tickvals, ticktext, customdata = _attention_arrays(
        attention, tokens, layer, head
    )
    # plain attribute sets: several times cheaper than .update(**kwargs) in plotly
    bars, line = fig.data
    bars.x, bars.y, bars.customdata = x, chosen, customdata
    bars.name = "this head" if head is not None else "mean over heads"
    line.x, line.y, line.customdata, line.visible = x, mean, customdata, head is not None
    fig.layout.xaxis.tickvals = tickvals
    fig.layout.xaxis.ticktext = ticktext
    fig.layout.title.text = attention_title(layer, head)


# --- the whole run at a glance ---------------------------------------------------------------


def _token_cell(text: str, token_id: int, tokenizer) -> str:
    return f"<code>{html.escape(visible(readable_token(text, token_id, tokenizer)))}</code>"


def tick_table_html(history: Sequence, tokenizer=None, alternatives: int = 3) -> str:
    """A compact table, one row per tick: phase, chosen token, its probabilities, the runners-up,
    the KV cache and the time. `history` is `Clock.history`; `tokenizer` (or the LoadedModel)
    labels byte fragments by their bytes."""
    # Inline styles: JupyterLab's own table rules (right-aligned cells) beat a <style> block.
    cell = f"style='text-align:left;padding:3px 8px;font-size:{font_size('small') + 1}px'"
    titles = [
        "tick",
        "phase",
        "positions read",
        "chosen token",
        "p (sampled from)",
        "p (raw)",
        "entropy",
        "runners-up (raw p)",
        "KV cache",
        "time (forward + sampling)",
    ]
    rows = ["<tr>" + "".join(f"<th {cell}>{t}</th>" for t in titles) + "</tr>"]
    for r in history:
        others = [c for c in r.top_raw if c.token_id != r.token_id][:alternatives]
        runners = ", ".join(
            f"{_token_cell(c.text, c.token_id, tokenizer)} {c.prob:.0%}" for c in others
        )
        fed = r.context_len if r.phase == "prefill" else 1
        chosen = _token_cell(r.token_text, r.token_id, tokenizer) + (
            " <b>(forced)</b>" if r.forced else ""
        )
        stop = f"<br><i>stop: {html.escape(r.stop_reason)}</i>" if r.stop_reason else ""
        values = [
            r.index,
            r.phase,
            f"{fed} new, {r.context_len} in context",
            chosen + stop,
            f"{r.prob:.1%}",
            f"{r.raw_prob:.1%}",
            f"{r.entropy_bits:.2f} bits",
            runners,
            f"{r.kv_cache_len} positions",
            f"{r.forward_ms:.0f} + {r.sampling_ms:.0f} ms",
        ]
        rows.append("<tr>" + "".join(f"<td {cell}>{v}</td>" for v in values) + "</tr>")
    return f"<table class='llmclock-tick-table'>{''.join(rows)}</table>"


def attention_over_ticks_figure(
    history: Sequence,
    tokens: Sequence[str],
    layer: int | None = None,
    head: int | None = None,
    title: str | None = None,
    hide_first: bool = False,
) -> go.Figure:
    """Heatmap: one row per tick, the newest position's attention over the context at that tick.

    layer=None averages over all layers (and heads); head=None averages over heads. Cells to
    the right of a row's context are empty: that position did not exist yet. `tokens` are the
    decoded tokens of the whole text (Clock.tokens). hide_first: leave out the first token's
    column (the attention sink), so the colour scale shows the rest.
    """
    if not history:
        raise ValueError("No ticks yet: run the clock first, e.g. clock.run(10).")
    width = max(r.context_len for r in history)
    z = []
    for r in history:
        att = r.attention.float()
        att = att.mean(dim=0) if layer is None else att[layer]
        row = att.mean(dim=0) if head is None else att[head]
        z.append(row.tolist() + [None] * (width - r.context_len))
    labels = [visible(t) for t in list(tokens)[:width]]
    first = 1 if hide_first and width > 1 else 0
    ylabels = [f"tick {r.index} · reads '{labels[r.context_len - 1]}'" for r in history]
    which = (
        "mean over layers and heads"
        if layer is None
        else f"layer {layer}, " + ("mean over heads" if head is None else f"head {head}")
    )
    if first:
        which += "; first token hidden"
    z = [row[first:] for row in z]
    fig = go.Figure(
        go.Heatmap(
            z=z,
            x=list(range(first, width)),
            y=list(range(len(history))),
            colorscale="Viridis",
            zmin=0,
            colorbar=dict(title=dict(text="weight")),
            hoverongaps=False,
            customdata=[[html.escape(lb) for lb in labels[first:]]] * len(history),
            hovertemplate="tick %{y}, position %{x} (%{customdata}): %{z:.3f}<extra></extra>",
        )
    )
    fig.update_layout(
        **base_layout(
            title or f"Where the newest position looked at each tick ({which})",
            xaxis_title="context position (token)",
            yaxis_title=None,
            height=140 + 28 * len(history),
        )
    )
    fig.update_xaxes(
        tickmode="array",
        tickvals=list(range(first, width)),
        ticktext=[html.escape(lb) for lb in labels[first:]],
        tickangle=-50,
        tickfont=dict(size=font_size("small")),
    )
    fig.update_yaxes(
        tickmode="array",
        tickvals=list(range(len(history))),
        ticktext=[html.escape(y) for y in ylabels],
        autorange="reversed",
    )
    fig.update_layout(margin=dict(l=200, r=30, t=70, b=100))
    return fig
