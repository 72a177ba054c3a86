"""What every zh exercise module shares: the English checks answering in Chinese, and the
worked solutions folded under a Chinese title.

    from .. import ch05 as english
    from ._solutions import in_chinese, show

    check_softmax_t = in_chinese(english.check_softmax_t)   # the same check, Chinese feedback
"""

from __future__ import annotations

from ...checks import solution_of, speaking


def in_chinese(check_fn):
    """The English module's check, every text it shows taken from exercises_zh.py."""
    return speaking("zh", check_fn)


def show(solutions: dict[str, str], name: str):
    """The worked solution `name` from `solutions`; an unknown name says which ones exist."""
    return solution_of(solutions, name, lang="zh")
