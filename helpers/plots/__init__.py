"""Plotly figures for the lessons, one submodule per kind; all share `style`."""

from .style import *  # noqa: F401,F403
from .text import *  # noqa: F401,F403
from .tokens import *  # noqa: F401,F403
from .embeddings import *  # noqa: F401,F403
from .attention import *  # noqa: F401,F403
from .lens import *  # noqa: F401,F403
from .distribution import *  # noqa: F401,F403
from .timing import *  # noqa: F401,F403
