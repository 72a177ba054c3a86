"""练习 · 05 采样 (notebooks/zh/05_sampling.ipynb): the checks of helpers.exercises.ch05."""

from __future__ import annotations

from .. import ch05 as english
from ._solutions import in_chinese, show

__all__ = ["check_softmax_t", "check_top_p_count", "check_penalised_logit", "SOLUTIONS",
           "show_solution"]

check_penalised_logit = in_chinese(english.check_penalised_logit)
check_softmax_t = in_chinese(english.check_softmax_t)
check_top_p_count = in_chinese(english.check_top_p_count)

SOLUTIONS = {
    "softmax_t": '''
def softmax_t(z, T):
    scaled = z / T
    e = torch.exp(scaled - scaled.max())      # 先减最大值：不会溢出，也不会 0 / 0
    return e / e.sum()
''',
    "top_p_count": '''
z = next_token_logits(lm, lm.encode_prompt("我最喜欢的食物是"))
kept = int(torch.isfinite(apply_top_p(z, 0.75)).sum())
''',
    "penalised_logit": '''
penalised_logit = -2.0 * 1.5     # 负数：乘以系数，所以它下降
''',
}


def show_solution(name: str):
    """参考答案（点击展开）。"""
    return show(SOLUTIONS, name)
