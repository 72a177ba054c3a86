"""ipywidgets UIs built on the helpers; each updates its figures in place."""

from .token_explorer import *  # noqa: F401,F403
from .attention_explorer import *  # noqa: F401,F403
from .sampling_explorer import *  # noqa: F401,F403
from .clock_widget import *  # noqa: F401,F403
