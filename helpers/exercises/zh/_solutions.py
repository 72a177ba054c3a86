"""Reveal a worked solution of a zh notebook, folded until clicked."""

from __future__ import annotations

from ...checks import solution


def show(solutions: dict[str, str], name: str):
    """The worked solution `name` from `solutions`; an unknown name says which ones exist."""
    if name not in solutions:
        raise KeyError(f"No worked solution named {name!r}; there are: {', '.join(solutions)}.")
    return solution(solutions[name].strip("\n"))
