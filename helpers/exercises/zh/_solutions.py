"""Reveal a worked solution of a zh notebook, folded until clicked."""

from __future__ import annotations

from ...checks import solution_of


def show(solutions: dict[str, str], name: str):
    """The worked solution `name` from `solutions`; an unknown name says which ones exist."""
    return solution_of(solutions, name)
