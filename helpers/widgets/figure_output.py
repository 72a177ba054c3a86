"""Plotly figures inside a widget UI, redrawn whole: an `ipywidgets.Output` holding static figures.

    out = figure_output()
    show_figures(out, heatmap, bars)   # after each change: replaces what `out` shows

Why not a plotly FigureWidget: its 4.6 MiB front-end module must load within anywidget's hard 2 s
limit, and on a busy machine (a classroom server, CI) it does not, so the figure never draws
or never updates. A static figure is drawn by plotly's JupyterLab mime renderer instead, which
has no such limit. Setting `outputs` directly (rather than `with out: display(...)`) works
from any thread and needs no running IPython, so tests can read what is shown.
"""

from __future__ import annotations

import ipywidgets as w
import plotly.io as pio

__all__ = ["figure_output", "show_figures", "shown_figures"]

MIMETYPE = "application/vnd.plotly.v1+json"


def figure_output(**layout) -> w.Output:
    return w.Output(layout=w.Layout(width="100%", **layout))


def show_figures(output: w.Output, *figures) -> None:
    """Replace what `output` shows with these figures (one message, no flicker)."""
    output.outputs = tuple(
        {
            "output_type": "display_data",
            "data": {
                **pio.renderers["plotly_mimetype"].to_mimebundle(fig.to_dict()),
                "text/plain": f"<plotly figure: {fig.layout.title.text or 'untitled'}>",
            },
            "metadata": {},
        }
        for fig in figures
    )


def shown_figures(output: w.Output) -> list[dict]:
    """The figures `output` shows, as plotly dicts (data, layout): what the browser draws."""
    return [o["data"][MIMETYPE] for o in output.outputs if MIMETYPE in o.get("data", {})]
