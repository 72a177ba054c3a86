"""ipywidgets UI: clock_widget."""

from __future__ import annotations

__all__: list[str] = []
