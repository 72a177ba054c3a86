"""The whole run at a glance: one table row per tick.

    HTML(tick_table_html(clock.history, lm))              # lang="zh": the words in Chinese

Every cell is a piece of the tick's presentation (helpers.tick_view): the same phase, token
label, percentages, bits, KV cache size and milliseconds as the clock widget's status line
and the recorded clock's.
"""

from __future__ import annotations

import html
from typing import Sequence

from ..i18n import messages
from ..tick_view import percent_label, tick_view
from .style import font_size

__all__ = ["tick_table_html"]

_COLUMNS = ("tick", "phase", "read", "chosen", "p", "raw", "surprisal", "entropy",
            "runners_up", "kv", "ms")


def tick_table_html(history: Sequence, tokenizer=None, alternatives: int = 3,
                    lang: str = "en", context_ids: Sequence[int] | None = None) -> str:
    """A compact table, one row per tick: phase, positions read, chosen token, its
    probabilities, surprisal, entropy, the runners-up, the KV cache and the time.

    `history` is `Clock.history`; `tokenizer` (or the LoadedModel) labels byte fragments by
    their bytes; lang: the language of the words (helpers.i18n); context_ids (Clock.ids):
    a fragment that completes a character also names it, as in the widget's chart."""
    t = messages(lang)
    # Inline styles: JupyterLab's own table rules (right-aligned cells) beat a <style> block.
    cell = f"style='text-align:left;padding:3px 8px;font-size:{font_size('small') + 1}px'"
    head = "".join(f"<th {cell}>{html.escape(t(f'table.{name}'))}</th>" for name in _COLUMNS)
    rows = [f"<tr>{head}</tr>"]
    for record in history:
        view = tick_view(record, tokenizer, lang, context_ids)
        runners = ", ".join(
            f"<code>{html.escape(r.label)}</code> {html.escape(percent_label(r.raw))}"
            for r in view.runners_up(alternatives)
        )
        chosen = f"<code>{html.escape(view.token)}</code>"
        if view.forced:
            chosen += f" <b>{html.escape(t('status.forced').strip())}</b>"
        if view.stop:
            chosen += f"<br><i>{html.escape(view.stop)}</i>"
        plain = [view.phase, view.read]
        after = [view.p, view.raw_p, view.surprisal, view.entropy]
        values = ([str(view.index)] + [html.escape(v) for v in plain] + [chosen]
                  + [html.escape(v) for v in after] + [runners, html.escape(view.kv),
                                                       html.escape(view.ms)])
        rows.append("<tr>" + "".join(f"<td {cell}>{v}</td>" for v in values) + "</tr>")
    return f"<table class='llmclock-tick-table'>{''.join(rows)}</table>"
