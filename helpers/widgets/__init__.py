"""ipywidgets UIs built on the helpers; each updates its figures in place.

Each name is imported explicitly, so you can see which module a widget lives in.
"""

from .attention_explorer import AttentionExplorer
from .clock_widget import ClockWidget
from .sampling_explorer import SamplingExplorer
from .token_explorer import EXAMPLE_TEXTS, TokenExplorer

__all__ = ["TokenExplorer", "EXAMPLE_TEXTS", "AttentionExplorer", "SamplingExplorer", "ClockWidget"]
