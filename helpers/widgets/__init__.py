"""ipywidgets UIs built on the helpers. No plotly FigureWidget: charts are SVG or static figures.

Each name is imported explicitly, so you can see which module a widget lives in.
"""

from .attention_explorer import AttentionExplorer
from .clock_widget import ClockWidget
from .sampling_explorer import SamplingExplorer
from .token_explorer import EXAMPLE_TEXTS, TokenExplorer

__all__ = ["TokenExplorer", "EXAMPLE_TEXTS", "AttentionExplorer", "SamplingExplorer", "ClockWidget"]
