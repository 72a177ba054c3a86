"""练习 · 00 时钟 (notebooks/zh/00_the_clock.ipynb): the checks of helpers.exercises.ch00."""

from __future__ import annotations

from .. import ch00 as english
from ._solutions import in_chinese, show

__all__ = ["check_kv_cache_length", "check_entropy", "check_three_ticks", "SOLUTIONS",
           "show_solution"]

check_entropy = in_chinese(english.check_entropy)
check_kv_cache_length = in_chinese(english.check_kv_cache_length)
check_three_ticks = in_chinese(english.check_three_ticks)

SOLUTIONS = {
    "kv_cache_length": '''
def kv_cache_length(n_prompt, t):
    # 第 0 拍写入整个提示词；第 1..t 拍各写入它被喂入的那一个词元
    return n_prompt + t
''',
    "entropy": '''
def my_entropy(p):
    return float(-(p * p.log2()).nansum())   # nansum：0 * log2(0) = nan 按 0 计
''',
    "three_ticks": '''
ids = list(beijing.prompt_ids)
for _ in range(3):
    with torch.no_grad():
        ids.append(int(lm.model(torch.tensor([ids])).logits[0, -1].argmax()))
my_ids = ids[len(beijing.prompt_ids):]
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
